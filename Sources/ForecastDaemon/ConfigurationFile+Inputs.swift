import AirQuality

extension ConfigurationFile {
    /// One `[weather_sources]` line: `default = "roof"`, or a station (bare or quoted key) and
    /// the station whose weather it takes.
    static func weatherSource(key rawKey: String, value: Value, into config: inout DaemonConfiguration) -> String? {
        guard case .string(let source) = value else { return "expected a station id in quotes, got \(value.typeName)" }
        if let problem = ReadingDecoder.validateStation(source) { return problem.reason }
        var key = rawKey
        if rawKey.hasPrefix("\"") {
            guard case .string(let unquoted)? = parseValue(rawKey) else { return "cannot read the quoted key" }
            key = unquoted
        } else if !rawKey.utf8.allSatisfy(isBareKeyByte) {
            return "a station id with characters other than letters, digits, '-' and '_' must be quoted"
        }
        if key == "default" && !rawKey.hasPrefix("\"") {
            config.forecast.defaultWeatherSource = source
        } else {
            if let problem = ReadingDecoder.validateStation(key) { return problem.reason }
            config.forecast.weatherSources[key] = source
        }
        return nil
    }

    static let inputKeys: Set<String> =
        Set([
            "profile", "topic", "readings_per_hour", "temperature_unit", "pressure_unit", "wind_speed_unit", "timezone",
            "time", "station",
        ]).union(Quantity.allCases.map(\.rawValue))

    /// A `[input.NAME]` or `[weather_forecast.NAME]` section as read, built once the whole
    /// section is known.
    struct PendingSection {
        var prefix: String
        var name: String
        var line: Int
        var values: [String: (value: Value, line: Int)] = [:]

        var section: String { "\(prefix).\(name)" }

        /// A problem with `key` (the section's own when nil), on the line that gave it.
        func failure(_ key: String?, _ reason: String, file: String) -> ConfigurationError {
            ConfigurationError(
                file: file, line: key.flatMap { values[$0]?.line } ?? line, key: key.map { "\(section).\($0)" },
                reason: reason)
        }
    }
}

extension ConfigurationFile.PendingSection {
    /// The `[input.NAME]` section this is.
    func input(file: String) throws(ConfigurationError) -> InputConfiguration {
        func fail(_ key: String?, _ reason: String) -> ConfigurationError { failure(key, reason, file: file) }
        func string(_ key: String) throws(ConfigurationError) -> String? {
            guard let (value, _) = values[key] else { return nil }
            guard case .string(let s) = value else { throw fail(key, "expected a string, got \(value.typeName)") }
            return s
        }
        guard let profileName = try string("profile") else {
            throw fail(nil, "[\(section)] needs a profile (\(ConfigurationFile.profileList))")
        }
        guard let profile = PayloadFormat.Profile(rawValue: profileName) else {
            throw fail("profile", "must be \(ConfigurationFile.profileList), got \"\(profileName)\"")
        }
        var format = PayloadFormat(profile: profile)
        if let t = try string("temperature_unit") {
            guard let u = TemperatureUnit(rawValue: t) else {
                throw fail("temperature_unit", "must be \"C\", \"F\" or \"K\", got \"\(t)\"")
            }
            format.units.temperature = u
        }
        if let p = try string("pressure_unit") {
            guard let u = PressureUnit(rawValue: p) else {
                throw fail("pressure_unit", "must be hPa, Pa, kPa, mmHg or inHg, got \"\(p)\"")
            }
            format.units.pressure = u
        }
        if let w = try string("wind_speed_unit") {
            guard let u = SpeedUnit(rawValue: w) else {
                throw fail("wind_speed_unit", "must be m/s, km/h, mph or kn, got \"\(w)\"")
            }
            format.units.windSpeed = u
        }
        if let z = try string("timezone") {
            guard let offset = PayloadFormat.offset(parsing: z) else {
                throw fail(
                    "timezone", "must be an offset such as \"+08:00\" or \"-05:00\", or \"UTC\", got \"\(z)\"")
            }
            guard profile == .tasmota || profile == .json else {
                throw fail("timezone", "only the tasmota and json profiles read a time without a zone")
            }
            format.timeZoneOffset = offset
        }
        for key in ["time", "station"] {
            guard let path = try string(key) else { continue }
            guard profile == .json else { throw fail(key, "only the json profile takes a field path for \(key)") }
            guard !path.isEmpty else { throw fail(key, "must not be empty") }
            if key == "time" { format.timeField = path } else { format.stationField = path }
        }
        for q in Quantity.allCases {
            guard let name = try string(q.rawValue) else { continue }
            guard profile.isSingleValue || profile == .json else {
                throw fail(
                    q.rawValue,
                    "profile \(profile.rawValue) reads its own fields; \(q.rawValue) is for esphome, statestream and json"
                )
            }
            guard !name.isEmpty, !name.contains("/"), !name.contains("+"), !name.contains("#") else {
                throw fail(q.rawValue, "must be a non-empty name without '/', '+' or '#'")
            }
            format.names[q] = name
        }
        var readingsPerHour = InputConfiguration.defaultReadingsPerHour(profile)
        if let (value, _) = values["readings_per_hour"] {
            guard case .integer(let n) = value, (0...3600).contains(n) else {
                throw fail("readings_per_hour", "must be an integer 0...3600 (0: hours complete by time)")
            }
            readingsPerHour = n
        }
        guard let template = try string("topic") else { throw fail(nil, "[\(section)] needs a topic") }
        switch InputTopic.make(template, for: format) {
        case .failure(let problem): throw fail("topic", problem.reason)
        case .success(let topic):
            return InputConfiguration(name: name, topic: topic, format: format, readingsPerHour: readingsPerHour)
        }
    }
}

extension ConfigurationFile {
    static let profileList = PayloadFormat.Profile.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")

    static let weatherForecastKeys: Set<String> = [
        "latitude", "longitude", "stations", "url", "pressure", "hours", "refresh_seconds", "timeout_seconds",
    ]

}
extension ConfigurationFile.PendingSection {
    /// The `[weather_forecast.NAME]` section this is.
    func area(file: String) throws(ConfigurationError) -> WeatherForecastArea {
        func fail(_ key: String?, _ reason: String) -> ConfigurationError { failure(key, reason, file: file) }
        func number(_ key: String, _ range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
            guard let (value, _) = values[key] else { throw fail(nil, "[\(section)] needs a \(key)") }
            let v: Double
            switch value {
            case .integer(let n): v = Double(n)
            case .float(let x): v = x
            default: throw fail(key, "expected a number, got \(value.typeName)")
            }
            guard range.contains(v) else {
                throw fail(key, "must be \(Int(range.lowerBound))...\(Int(range.upperBound)), got \(v)")
            }
            return v
        }
        func integer(_ key: String, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
            guard let (value, _) = values[key] else { return nil }
            guard case .integer(let n) = value, range.contains(n) else {
                throw fail(key, "must be an integer \(range.lowerBound)...\(range.upperBound)")
            }
            return n
        }
        var area = WeatherForecastArea(
            name: name, latitude: try number("latitude", -90...90), longitude: try number("longitude", -180...180))
        if let (value, _) = values["stations"] {
            guard case .strings(let ids) = value, !ids.isEmpty else {
                throw fail("stations", "expected a list of station ids in quotes, [\"a\", \"b\"]")
            }
            for id in ids {
                if let problem = ReadingDecoder.validateStation(id) { throw fail("stations", problem.reason) }
            }
            area.stations = ids
        }
        if let (value, _) = values["url"] {
            guard case .string(let url) = value, url.hasPrefix("https://") || url.hasPrefix("http://"),
                url.utf8.count <= 500, !url.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F })
            else {
                throw fail("url", "must be an http:// or https:// address without spaces, at most 500 bytes")
            }
            area.url = url
        }
        if let (value, _) = values["pressure"] {
            guard case .string(let p) = value, let pressure = OpenMeteo.Pressure(rawValue: p) else {
                throw fail("pressure", "must be \"surface\" (a station's barometer) or \"msl\" (sea level)")
            }
            area.pressure = pressure
        }
        area.hours = try integer("hours", 1...48) ?? area.hours
        area.refreshSeconds = try integer("refresh_seconds", 1...86400) ?? area.refreshSeconds
        area.timeoutSeconds = try integer("timeout_seconds", 1...300) ?? area.timeoutSeconds
        return area
    }
}

extension ConfigurationFile {
    /// The areas, checked as a whole, and which stations each serves, into `config`.
    static func apply(areas pending: [PendingSection], file: String, into config: inout DaemonConfiguration)
        throws(ConfigurationError)
    {
        config.weatherForecasts = []
        config.forecast.forecastAreas = [:]
        config.forecast.defaultForecastArea = ""
        for p in pending {
            let area = try p.area(file: file)
            if area.stations.isEmpty {
                guard config.forecast.defaultForecastArea.isEmpty else {
                    throw ConfigurationError(
                        file: file, line: p.line,
                        reason:
                            "[weather_forecast.\(area.name)] has no stations, and neither has "
                            + "[weather_forecast.\(config.forecast.defaultForecastArea)]: one area at most serves every other station"
                    )
                }
                config.forecast.defaultForecastArea = area.name
            }
            for station in area.stations {
                if let other = config.forecast.forecastAreas[station] {
                    throw ConfigurationError(
                        file: file, line: p.values["stations"]?.line ?? p.line,
                        key: "weather_forecast.\(area.name).stations",
                        reason: "station \(station) is already in [weather_forecast.\(other)]")
                }
                config.forecast.forecastAreas[station] = area.name
            }
            config.weatherForecasts.append(area)
        }
    }
}
