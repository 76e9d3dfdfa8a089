import AirQuality

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

extension PRSARecord {
    /// Unix seconds of the row's hour (the file's hours are taken as UTC).
    public var unixTime: Int64 {
        let days = daysFromCivil(year: Int64(year), month: Int64(month), day: Int64(day))
        return days * 86400 + Int64(hour) * 3600
    }
}

extension Reading {
    /// The rows of a PRSA file as one station's readings, hour by hour; rows without PM2.5 are
    /// left out (a sensor that missed the hour), the wind is de-accumulated, and a wind below
    /// ``WindDirection/calmBelow`` counts as calm, as for live readings.
    public static func fromPRSA(_ records: [PRSARecord], station: String) -> [Reading] {
        let speeds = PreparedSeries.deaccumulatedWindSpeed(records)
        return records.indices.compactMap { i in
            let r = records[i]
            guard let pm = r.pm25 else { return nil }
            return Reading(
                station: station, time: r.unixTime, pm25: pm, dewPoint: r.dewPoint, temperature: r.temperature,
                pressure: r.pressure, windDirection: speeds[i] < WindDirection.calmBelow ? .calm : r.windDirection,
                windSpeed: speeds[i])
        }
    }
}
