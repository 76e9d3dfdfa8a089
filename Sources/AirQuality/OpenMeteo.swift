/// Open-Meteo's forecast API (https://open-meteo.com/en/docs), the weather-forecast service
/// the daemon asks by default: free, keyless, hourly forecasts for any latitude and longitude.
/// This builds the request and reads the answer; the fetching is the daemon's.
///
/// The request names its hourly variables (`temperature_2m`, `dew_point_2m`, `surface_pressure`
/// or `pressure_msl`, `wind_speed_10m`, `wind_direction_10m`), asks the wind in m/s
/// (`wind_speed_unit=ms`; km/h otherwise), times as Unix seconds (`timeformat=unixtime`, always
/// UTC) and `forecast_hours` hours from the current one. The answer is
/// `{"hourly": {"time": [...], "temperature_2m": [...], ...}, ...}`, one array per variable, a
/// value `null` where the service's models have none; a refused request is answered
/// `{"error": true, "reason": "..."}` with HTTP 400.
public enum OpenMeteo {
    /// The service's public forecast endpoint.
    public static let endpoint = "https://api.open-meteo.com/v1/forecast"

    /// Which pressure to ask for: what a station's own barometer reads (`surface`), or reduced
    /// to sea level (`msl`), as a reference station may report it.
    public enum Pressure: String, Sendable, CaseIterable {
        case surface
        case msl

        var variable: String { self == .surface ? "surface_pressure" : "pressure_msl" }
    }

    /// The request's URL for a place: `base` (``endpoint`` or a stand-in) with the query.
    public static func url(
        base: String, latitude: Double, longitude: Double, hours: Int, pressure: Pressure
    ) -> String {
        let variables = ["temperature_2m", "dew_point_2m", pressure.variable, "wind_speed_10m", "wind_direction_10m"]
        return base + (base.contains("?") ? "&" : "?") + "latitude=\(latitude)&longitude=\(longitude)"
            + "&hourly=\(variables.joined(separator: ","))&wind_speed_unit=ms&timeformat=unixtime"
            + "&forecast_hours=\(hours)"
    }

    /// Why an answer cannot be used, in words for the journal.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Largest answer read, in bytes: 48 hours of five variables are about 3 kB.
    public static let maximumBytes = 1 << 20

    /// Reads an answer (`status` its HTTP status): the hours whose five values are all there,
    /// each checked as a reading's weather is, or why the answer cannot be used.
    public static func decode(_ body: [UInt8], status: Int, pressure: Pressure) -> Result<
        [ReadingDecoder.WeatherHour], Failure
    > {
        let top = JSONScanner.parse(body)
        guard status == 200 else {
            if case .object(let fields)? = top, case .string(let reason)? = fields["reason"] {
                return .failure(Failure("HTTP \(status): \(reason.prefix(200))"))
            }
            return .failure(Failure("HTTP \(status)"))
        }
        guard case .object(let fields)? = top else {
            return .failure(Failure("the answer is not a JSON object (\(body.count) bytes)"))
        }
        guard case .object(let hourly)? = fields["hourly"] else {
            return .failure(Failure("field 'hourly' (an object) is missing"))
        }
        let names: [(ours: String, theirs: String)] = [
            ("temperature", "temperature_2m"), ("dew_point", "dew_point_2m"), ("pressure", pressure.variable),
            ("wind_speed", "wind_speed_10m"), ("wind_direction", "wind_direction_10m"),
        ]
        // The units asked for (`wind_speed_unit=ms` and the defaults); a value in another unit
        // (a proxy, a changed default, a stand-in) would pass the range checks and be wrong.
        if case .object(let units)? = fields["hourly_units"] {
            for (name, unit) in [
                ("temperature_2m", "°C"), ("dew_point_2m", "°C"), (pressure.variable, "hPa"),
                ("wind_speed_10m", "m/s"), ("wind_direction_10m", "°"),
            ] {
                guard case .string(let given)? = units[name], given != unit else { continue }
                let shown = String(given.unicodeScalars.prefix(20).map { $0.value < 0x20 ? "?" : Character($0) })
                return .failure(Failure("hourly_units.\(name) is \"\(shown)\", not \"\(unit)\" as asked"))
            }
        }
        guard case .array(let times)? = hourly["time"] else {
            return .failure(Failure("field 'hourly.time' (an array) is missing"))
        }
        var columns: [(String, [JSONValue])] = []
        for (ours, theirs) in names {
            guard case .array(let values)? = hourly[theirs] else {
                return .failure(Failure("field 'hourly.\(theirs)' (an array) is missing"))
            }
            guard values.count == times.count else {
                return .failure(
                    Failure(
                        "field 'hourly.\(theirs)' has \(values.count) values for \(times.count) times"))
            }
            columns.append((ours, values))
        }
        var out: [ReadingDecoder.WeatherHour] = []
        for (i, time) in times.enumerated() {
            var row: [String: JSONValue] = ["time": time, "pm25": .number(0)]
            for (name, values) in columns { row[name] = values[i] }
            // An hour the service has no value for is left to held weather.
            if columns.contains(where: { $0.1[i] == .null }) { continue }
            switch ReadingDecoder.decode(fields: row, station: "") {
            case .failure(let r): return .failure(Failure("hour \(i): \(r.reason)"))
            case .success(let r): out.append(ReadingDecoder.WeatherHour(time: r.time, features: r.features))
            }
        }
        guard !out.isEmpty else { return .failure(Failure("no hour has all five values")) }
        return .success(out)
    }
}
