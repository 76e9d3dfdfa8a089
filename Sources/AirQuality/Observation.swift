import RealModule

/// A quantity a sensor can report: the model's six inputs and relative humidity, from which
/// the dew point can be derived.
public enum Quantity: String, CaseIterable, Sendable, Hashable {
    case pm25
    case temperature
    case humidity
    case dewPoint = "dew_point"
    case pressure
    case windSpeed = "wind_speed"
    case windDirection = "wind_direction"

    /// In words, for refusals: "wind speed".
    public var words: String {
        switch self {
        case .pm25: "PM2.5"
        case .dewPoint: "dew point"
        case .windSpeed: "wind speed"
        case .windDirection: "wind direction"
        default: rawValue
        }
    }
}

/// What one payload said about a station, before the missing weather is filled in: each
/// quantity is optional, in the model's units (µg/m³, °C, %, hPa, m/s).
public struct Observation: Sendable, Equatable {
    public var station: String
    /// Unix seconds; nil when the payload carries no time and it is stamped on arrival.
    public var time: Int64?
    public var pm25: Double?
    public var temperature: Double?
    public var humidity: Double?
    public var dewPoint: Double?
    public var pressure: Double?
    public var windSpeed: Double?
    public var windDirection: WindDirection?

    public init(station: String, time: Int64? = nil) {
        self.station = station
        self.time = time
    }

    /// The observation a full reading is.
    public init(_ r: Reading) {
        self.init(station: r.station, time: r.time)
        pm25 = r.pm25
        dewPoint = r.dewPoint
        temperature = r.temperature
        pressure = r.pressure
        windSpeed = r.windSpeed
        windDirection = r.windDirection
    }

    public subscript(number q: Quantity) -> Double? {
        get {
            switch q {
            case .pm25: pm25
            case .temperature: temperature
            case .humidity: humidity
            case .dewPoint: dewPoint
            case .pressure: pressure
            case .windSpeed: windSpeed
            case .windDirection: windDirection?.code
            }
        }
        set {
            switch q {
            case .pm25: pm25 = newValue
            case .temperature: temperature = newValue
            case .humidity: humidity = newValue
            case .dewPoint: dewPoint = newValue
            case .pressure: pressure = newValue
            case .windSpeed: windSpeed = newValue
            case .windDirection: break
            }
        }
    }

    /// Whether the payload said anything at all.
    public var isEmpty: Bool {
        Quantity.allCases.allSatisfy { self[number: $0] == nil }
    }
}

/// The dew point (°C) of air at `temperature` °C and `humidity` % relative humidity, by the
/// Magnus formula with b = 17.62 and c = 243.12 °C (good to about 0.1 °C over -45..60 °C):
/// γ = ln(RH/100) + bT/(c+T), dew point = cγ/(b-γ). Humidity below 1% is taken as 1%.
public func dewPoint(temperature t: Double, humidity rh: Double) -> Double {
    let b = 17.62
    let c = 243.12
    let gamma = Double.log(min(100, max(1, rh)) / 100) + b * t / (c + t)
    return c * gamma / (b - gamma)
}

/// The units a payload may give its numbers in; each converts to the model's unit.
public enum TemperatureUnit: String, CaseIterable, Sendable {
    case celsius = "C"
    case fahrenheit = "F"
    case kelvin = "K"

    public func celsius(_ v: Double) -> Double {
        switch self {
        case .celsius: v
        case .fahrenheit: (v - 32) * 5 / 9
        case .kelvin: v - 273.15
        }
    }
}

public enum PressureUnit: String, CaseIterable, Sendable {
    case hectopascal = "hPa"
    case pascal = "Pa"
    case kilopascal = "kPa"
    case millimetreOfMercury = "mmHg"
    case inchOfMercury = "inHg"

    public func hectopascals(_ v: Double) -> Double {
        switch self {
        case .hectopascal: v
        case .pascal: v / 100
        case .kilopascal: v * 10
        // 1 mmHg = 133.322 Pa; 1 inHg = 3386.39 Pa.
        case .millimetreOfMercury: v * 1.33322
        case .inchOfMercury: v * 33.8639
        }
    }
}

public enum SpeedUnit: String, CaseIterable, Sendable {
    case metresPerSecond = "m/s"
    case kilometresPerHour = "km/h"
    case milesPerHour = "mph"
    case knots = "kn"

    public func metresPerSecond(_ v: Double) -> Double {
        switch self {
        case .metresPerSecond: v
        case .kilometresPerHour: v / 3.6
        case .milesPerHour: v * 0.44704
        case .knots: v * 0.514444
        }
    }
}

/// The units one input's payloads use.
public struct PayloadUnits: Sendable, Equatable {
    public var temperature: TemperatureUnit = .celsius
    public var pressure: PressureUnit = .hectopascal
    public var windSpeed: SpeedUnit = .metresPerSecond

    public init() {}
}
