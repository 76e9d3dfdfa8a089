/// The PRSA data set's combined wind direction (`cbwd`): four quadrants or calm/variable.
public enum WindDirection: String, CaseIterable, Sendable, Codable {
    case calm = "cv"
    case northEast = "NE"
    case southEast = "SE"
    case northWest = "NW"
    case southWest = "SW"

    /// The course's ordinal code for the direction: cv=0, NE=3, SE=6, NW=9, SW=12.
    public var code: Double {
        switch self {
        case .calm: 0
        case .northEast: 3
        case .southEast: 6
        case .northWest: 9
        case .southWest: 12
        }
    }
}

/// One hourly row of the PRSA file, as read, before any preparation.
public struct PRSARecord: Sendable, Equatable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    /// PM2.5 in µg/m³, `nil` where the file says `NA`.
    public var pm25: Double?
    /// Dew point, °C.
    public var dewPoint: Double
    /// Temperature, °C.
    public var temperature: Double
    /// Pressure, hPa.
    public var pressure: Double
    public var windDirection: WindDirection
    /// Wind speed accumulated over the consecutive hours with the same direction, m/s.
    public var cumulatedWindSpeed: Double

    /// The row's hour as `yyyy-mm-ddThh`, the form `--at` and `--from` take.
    public var hourLabel: String {
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(hour))"
    }

    public init(
        year: Int, month: Int, day: Int, hour: Int, pm25: Double?, dewPoint: Double, temperature: Double,
        pressure: Double, windDirection: WindDirection, cumulatedWindSpeed: Double
    ) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.pm25 = pm25
        self.dewPoint = dewPoint
        self.temperature = temperature
        self.pressure = pressure
        self.windDirection = windDirection
        self.cumulatedWindSpeed = cumulatedWindSpeed
    }
}
