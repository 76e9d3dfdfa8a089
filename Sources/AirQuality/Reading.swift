/// One station's measurement as received, after validation.
public struct Reading: Sendable, Equatable {
    public var station: String
    /// Seconds since 1970-01-01T00:00:00Z.
    public var time: Int64
    public var pm25: Double
    public var dewPoint: Double
    public var temperature: Double
    public var pressure: Double
    public var windDirection: WindDirection
    /// Mean wind speed over the hour, m/s: the hourly value PRSA's de-accumulated wind stands for.
    public var windSpeed: Double

    public init(
        station: String, time: Int64, pm25: Double, dewPoint: Double, temperature: Double, pressure: Double,
        windDirection: WindDirection, windSpeed: Double
    ) {
        self.station = station
        self.time = time
        self.pm25 = pm25
        self.dewPoint = dewPoint
        self.temperature = temperature
        self.pressure = pressure
        self.windDirection = windDirection
        self.windSpeed = windSpeed
    }

    /// The hour the reading belongs to, as whole hours since 1970.
    public var hour: Int64 { hourContaining(time) }

    /// The six raw model features, in ``Feature`` order.
    public var features: [Double] {
        [pm25, dewPoint, temperature, pressure, windDirection.code, windSpeed]
    }
}

/// The whole hour since 1970 that Unix second `time` falls in (rounding down, also before 1970).
public func hourContaining(_ time: Int64) -> Int64 { time >= 0 ? time / 3600 : (time - 3599) / 3600 }

extension WindDirection {
    /// Below this speed (m/s) the wind counts as calm ("cv") whatever its direction.
    public static let calmBelow = 0.5

    /// The PRSA quadrant for a compass bearing in degrees: [0, 90) NE, [90, 180) SE,
    /// [180, 270) SW, [270, 360) NW.
    public init(degrees: Double) {
        let d = (degrees.truncatingRemainder(dividingBy: 360) + 360).truncatingRemainder(dividingBy: 360)
        switch d {
        case ..<90: self = .northEast
        case ..<180: self = .southEast
        case ..<270: self = .southWest
        default: self = .northWest
        }
    }

    /// The sixteen compass points (N, NNE, ... NNW) and the PRSA codes (NE, SE, SW, NW, cv), or
    /// `nil` for anything else. "calm" is accepted too.
    public init?(compass word: String) {
        if let prsa = WindDirection(rawValue: word) {
            self = prsa
            return
        }
        let points = [
            "N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW",
        ]
        if word.lowercased() == "calm" {
            self = .calm
        } else if let i = points.firstIndex(of: word.uppercased()) {
            self.init(degrees: Double(i) * 22.5)
        } else {
            return nil
        }
    }
}
