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

extension Feature {
    /// An hour missing between two held rows (six raw features each, in ``Feature`` order), a
    /// share `w` (0...1) of the way from `a` to `b`: every feature on the straight line between
    /// them, but the wind direction, a code rather than a quantity, carried forward from `a`.
    /// The daemon's window and the trainers' series fill their gaps with it, so a model is
    /// trained on gaps filled as the daemon fills them.
    public static func interpolatedRow(from a: [Double], to b: [Double], at w: Double) -> [Double] {
        var row = zip(a, b).map { $0 + ($1 - $0) * w }
        row[windDirection.rawValue] = a[windDirection.rawValue]
        return row
    }
}
