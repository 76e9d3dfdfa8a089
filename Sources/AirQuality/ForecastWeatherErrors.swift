import DeepRNN

/// How far a weather forecast of ordinary quality strays from the weather that then comes:
/// errors that start small and grow with the hours ahead, as a random walk whose spread at
/// ``hours`` ahead is the figure given (so `√(k / hours)` of it at `k` hours ahead). A
/// recipe that has these trains on the weather of the forecast hours made noisy this way as well
/// as on held weather, and `aqcast backtest --weather forecast` scores a model with the same
/// errors drawn from a seed.
///
/// The defaults are the forecast-weather issue's: 1.5 °C in temperature (and in dew point), 30%
/// of the wind speed and 30° of wind direction at 8 hours ahead; 1 hPa of pressure is ours.
public struct ForecastWeatherErrors: Codable, Sendable, Equatable {
    /// The share of training samples given forecast weather; the rest are given held weather.
    public var share: Double
    /// The hours ahead at which the spreads below are reached.
    public var hours: Int
    /// Standard deviations at ``hours`` ahead: °C, °C, hPa.
    public var temperature: Double
    public var dewPoint: Double
    public var pressure: Double
    /// Of the wind speed, as a share of it (the speed is multiplied by `1 + e`, at least 0).
    public var windSpeed: Double
    /// Of the wind direction, in degrees; a calm hour stays calm.
    public var windDirection: Double

    public init(
        share: Double = 0.5, hours: Int = 8, temperature: Double = 1.5, dewPoint: Double = 1.5,
        pressure: Double = 1, windSpeed: Double = 0.3, windDirection: Double = 30
    ) {
        self.share = share
        self.hours = hours
        self.temperature = temperature
        self.dewPoint = dewPoint
        self.pressure = pressure
        self.windSpeed = windSpeed
        self.windDirection = windDirection
    }

    /// Every spread multiplied by `factor`.
    public func scaled(by factor: Double) -> ForecastWeatherErrors {
        var e = self
        e.temperature *= factor
        e.dewPoint *= factor
        e.pressure *= factor
        e.windSpeed *= factor
        e.windDirection *= factor
        return e
    }

    /// Replaces the weather of `rows` raw rows (``Feature`` order) starting at `start` in `raw`,
    /// the hours 1, 2, ... ahead of an origin, by a forecast of it: the true weather plus errors
    /// drawn from `rng`. PM2.5 is left alone.
    public func forecast(
        _ raw: inout [Double], start: Int = 0, rows: Int, using rng: inout some RandomNumberGenerator
    ) {
        let f = Feature.allCases.count
        let step = 1 / Double(max(hours, 1)).squareRoot()
        var t = 0.0
        var d = 0.0
        var p = 0.0
        var s = 0.0
        var a = 0.0
        for k in 0..<rows {
            t += temperature * step * rng.nextGaussian()
            d += dewPoint * step * rng.nextGaussian()
            p += pressure * step * rng.nextGaussian()
            s += windSpeed * step * rng.nextGaussian()
            a += windDirection * step * rng.nextGaussian()
            let i = start + k * f
            raw[i + Feature.dewPoint.rawValue] += d
            raw[i + Feature.temperature.rawValue] += t
            raw[i + Feature.pressure.rawValue] += p
            raw[i + Feature.windSpeed.rawValue] *= max(0, 1 + s)
            raw[i + Feature.windDirection.rawValue] = Self.rotated(code: raw[i + Feature.windDirection.rawValue], by: a)
        }
    }

    /// A quadrant's code turned by `degrees` and read back as the quadrant it then lies in.
    static func rotated(code: Double, by degrees: Double) -> Double {
        let centre: Double
        switch code {
        case 3: centre = 45  // NE
        case 6: centre = 135  // SE
        case 12: centre = 225  // SW
        case 9: centre = 315  // NW
        default: return code  // calm, or not a code
        }
        var angle = (centre + degrees).truncatingRemainder(dividingBy: 360)
        if angle < 0 { angle += 360 }
        switch angle {
        case ..<90: return 3
        case ..<180: return 6
        case ..<270: return 12
        default: return 9
        }
    }
}
