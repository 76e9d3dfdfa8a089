/// The six model inputs, in the course's order.
public enum Feature: Int, CaseIterable, Sendable {
    case pm25, dewPoint, temperature, pressure, windDirection, windSpeed

    public var name: String {
        switch self {
        case .pm25: "pm25"
        case .dewPoint: "dew_point"
        case .temperature: "temperature"
        case .pressure: "pressure"
        case .windDirection: "wind_direction_code"
        case .windSpeed: "wind_speed"
        }
    }

    public static var names: [String] { allCases.map(\.name) }
}
