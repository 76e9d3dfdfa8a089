import AirQuality
import Foundation

/// A configuration problem: which file, line and key, and what is wrong.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int?
    public var key: String?
    public var reason: String

    public var description: String {
        var place = file
        if let line { place += " line \(line)" }
        if let key { place += ", key \(key)" }
        return "\(place): \(reason)"
    }
}

/// Reads the daemon's configuration file: a small subset of TOML (`[section]` headers,
/// `key = value` with quoted strings, integers, `true`/`false`, and `#` comments). Unknown
/// sections and keys, wrong types and out-of-range values stop with file, line, key and reason.
public enum ConfigurationFile {
    enum Value: Equatable {
        case string(String)
        case integer(Int)
        case bool(Bool)

        var typeName: String {
            switch self {
            case .string: "a string"
            case .integer: "an integer"
            case .bool: "true or false"
            }
        }
    }

    typealias Apply = @Sendable (inout DaemonConfiguration, Value) -> String?

    static func string(
        _ path: WritableKeyPath<DaemonConfiguration, String> & Sendable,
        check: @escaping @Sendable (String) -> String? = { _ in nil }
    ) -> Apply {
        { config, value in
            guard case .string(let s) = value else { return "expected a string, got \(value.typeName)" }
            if let problem = check(s) { return problem }
            config[keyPath: path] = s
            return nil
        }
    }

    static func integer(_ path: WritableKeyPath<DaemonConfiguration, Int> & Sendable, _ range: ClosedRange<Int>)
        -> Apply
    {
        { config, value in
            guard case .integer(let n) = value else { return "expected an integer, got \(value.typeName)" }
            guard range.contains(n) else { return "must be \(range.lowerBound)...\(range.upperBound), got \(n)" }
            config[keyPath: path] = n
            return nil
        }
    }

    static func bool(_ path: WritableKeyPath<DaemonConfiguration, Bool> & Sendable) -> Apply {
        { config, value in
            guard case .bool(let b) = value else { return "expected true or false, got \(value.typeName)" }
            config[keyPath: path] = b
            return nil
        }
    }

    static let keys: [String: [String: Apply]] = [
        "broker": [
            "host": string(\.brokerHost) { $0.isEmpty ? "must not be empty" : nil },
            "port": integer(\.brokerPort, 1...65535),
            "client_id": string(\.clientID) { (1...64).contains($0.utf8.count) ? nil : "must be 1-64 bytes" },
            "keepalive": integer(\.keepAliveSeconds, 5...3600),
            "protocol": string(\.protocolVersion) {
                ["auto", "5", "3.1.1"].contains($0) ? nil : "must be \"auto\", \"5\" or \"3.1.1\", got \"\($0)\""
            },
            "username": string(\.username),
            "password_file": string(\.passwordFile),
            "tls_ca_file": string(\.tlsCAFile),
            "tls_cert_file": string(\.tlsCertificateFile),
            "tls_key_file": string(\.tlsKeyFile),
        ],
        "topics": [
            "readings": string(\.readingTopic) { $0.isEmpty ? nil : TopicPattern.problem(readingFilter: $0) },
            "forecasts": string(\.forecastTopic) {
                $0.contains("{station}") && !$0.contains("+") && !$0.contains("#")
                    ? nil : "must contain {station} and no wildcards"
            },
            "station_state": string(\.stationStateTopic) {
                $0.contains("{station}") && !$0.contains("+") && !$0.contains("#")
                    ? nil : "must contain {station} and no wildcards"
            },
            "weather": string(\.weatherTopic) { $0.isEmpty ? nil : TopicPattern.problem(readingFilter: $0) },
            "status": string(\.statusTopic) {
                !$0.isEmpty && !$0.contains("+") && !$0.contains("#") ? nil : "must be a topic without wildcards"
            },
        ],
        "forecast": [
            "horizon": integer(\.forecast.horizonHours, 1...48),
            "max_gap_hours": integer(\.forecast.maximumGapHours, 0...12),
            "readings_per_hour": integer(\.forecast.readingsPerHour, 1...3600),
            "max_future_seconds": integer(\.forecast.maximumFutureSeconds, 0...86400),
            "station_readings_per_minute": integer(\.forecast.stationReadingsPerMinute, 1...1_000_000),
            "max_stations": integer(\.forecast.maximumStations, 1...10_000_000),
            "station_expiry_hours": integer(\.forecast.stationExpiryHours, 1...87_600),
        ],
        "model": ["path": string(\.modelPath), "fewer_inputs": bool(\.fewerInputModels)],
        "state": [
            "directory": string(\.stateDirectory), "retention_days": integer(\.retentionDays, 1...36500),
            "commit_interval_ms": integer(\.commitIntervalMilliseconds, 10...5000),
        ],
        "log": [
            "level": string(\.logLevel) { DaemonConfiguration.logLevels.contains($0) ? nil : "must be " + levelList }
        ],
    ]

    public static func load(path: String, into base: DaemonConfiguration = DaemonConfiguration())
        throws(ConfigurationError) -> DaemonConfiguration
    {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(file: path, reason: "cannot be read (missing or no permission)")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path, into: base)
    }

    public static func parse(_ text: String, file: String, into base: DaemonConfiguration = DaemonConfiguration())
        throws(ConfigurationError) -> DaemonConfiguration
    {
        var config = base
        var section: String?
        var firstLine: [String: Int] = [:]  // each section and key, where it was first given
        var inputs: [PendingInput] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = n + 1
            let content = stripComment(String(raw)).trimmingCharacters(in: .whitespaces)
            if content.isEmpty { continue }
            if content.hasPrefix("[") {
                guard content.hasSuffix("]") else {
                    throw ConfigurationError(file: file, line: line, reason: "a section header must end with ]")
                }
                let name = String(content.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                if name.hasPrefix("input.") {
                    let input = String(name.dropFirst(6))
                    guard !input.isEmpty, input.utf8.count <= 64,
                        input.utf8.allSatisfy({ isBareKeyByte($0) })
                    else {
                        throw ConfigurationError(
                            file: file, line: line,
                            reason: "an input's name (after 'input.') must be 1-64 letters, digits, '-' or '_'")
                    }
                    inputs.append(PendingInput(name: input, line: line))
                } else if keys[name] == nil && name != "weather_sources" {
                    throw ConfigurationError(
                        file: file, line: line,
                        reason:
                            "unknown section [\(name)] (known: \((keys.keys + ["weather_sources", "input.NAME"]).sorted().joined(separator: ", ")))"
                    )
                }
                if let first = firstLine["[\(name)]"] {
                    throw ConfigurationError(
                        file: file, line: line, reason: "section [\(name)] given twice (first on line \(first))")
                }
                firstLine["[\(name)]"] = line
                section = name
                continue
            }
            guard let eq = content.firstIndex(of: "=") else {
                throw ConfigurationError(file: file, line: line, reason: "expected key = value")
            }
            let key = content[..<eq].trimmingCharacters(in: .whitespaces)
            let valueText = content[content.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            guard let section else {
                throw ConfigurationError(file: file, line: line, key: key, reason: "key outside any [section]")
            }
            let qualified = "\(section).\(key)"
            if section.hasPrefix("input.") || section == "weather_sources" {
                if let first = firstLine[qualified] {
                    throw ConfigurationError(
                        file: file, line: line, key: qualified, reason: "set twice (first on line \(first))")
                }
                firstLine[qualified] = line
                guard let value = parseValue(valueText) else {
                    throw ConfigurationError(
                        file: file, line: line, key: qualified,
                        reason: "cannot read the value '\(valueText)' (quote strings: \"...\")")
                }
                if section == "weather_sources" {
                    if let problem = weatherSource(key: key, value: value, into: &config) {
                        throw ConfigurationError(file: file, line: line, key: qualified, reason: problem)
                    }
                } else {
                    guard inputKeys.contains(key) else {
                        throw ConfigurationError(
                            file: file, line: line, key: qualified,
                            reason: "unknown key (known in [input.NAME]: \(inputKeys.sorted().joined(separator: ", ")))"
                        )
                    }
                    inputs[inputs.count - 1].values[key] = (value, line)
                }
                continue
            }
            guard let apply = keys[section]?[key] else {
                let known = keys[section]!.keys.sorted().joined(separator: ", ")
                throw ConfigurationError(
                    file: file, line: line, key: qualified, reason: "unknown key (known in [\(section)]: \(known))")
            }
            if let first = firstLine[qualified] {
                throw ConfigurationError(
                    file: file, line: line, key: qualified, reason: "set twice (first on line \(first))")
            }
            firstLine[qualified] = line
            guard let value = parseValue(valueText) else {
                let reason =
                    Double(valueText) != nil
                    ? "'\(valueText)' is not a whole number (numbers here are integers)"
                    : "cannot read the value '\(valueText)' (quote strings: \"...\")"
                throw ConfigurationError(file: file, line: line, key: qualified, reason: reason)
            }
            if let problem = apply(&config, value) {
                throw ConfigurationError(file: file, line: line, key: qualified, reason: problem)
            }
        }
        config.inputs = []
        for input in inputs { config.inputs.append(try input.build(file: file)) }
        return config
    }

    static func isBareKeyByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
    }

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

    /// An `[input.NAME]` section as read, built once the whole section is known.
    struct PendingInput {
        var name: String
        var line: Int
        var values: [String: (value: Value, line: Int)] = [:]

        func build(file: String) throws(ConfigurationError) -> InputConfiguration {
            let section = "input.\(name)"
            func fail(_ key: String?, _ reason: String) -> ConfigurationError {
                ConfigurationError(
                    file: file, line: key.flatMap { values[$0]?.line } ?? line, key: key.map { "\(section).\($0)" },
                    reason: reason)
            }
            func string(_ key: String) throws(ConfigurationError) -> String? {
                guard let (value, _) = values[key] else { return nil }
                guard case .string(let s) = value else { throw fail(key, "expected a string, got \(value.typeName)") }
                return s
            }
            guard let profileName = try string("profile") else {
                throw fail(nil, "[\(section)] needs a profile (\(profileList))")
            }
            guard let profile = PayloadFormat.Profile(rawValue: profileName) else {
                throw fail("profile", "must be \(profileList), got \"\(profileName)\"")
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

    static let profileList = PayloadFormat.Profile.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")

    /// The line up to a `#` that is not inside a quoted string.
    static func stripComment(_ line: String) -> String {
        var inString = false
        var escaped = false
        var out = ""
        for c in line {
            if inString {
                if escaped {
                    escaped = false
                } else if c == "\\" {
                    escaped = true
                } else if c == "\"" {
                    inString = false
                }
            } else if c == "\"" {
                inString = true
            } else if c == "#" {
                break
            }
            out.append(c)
        }
        return out
    }

    static func parseValue(_ text: String) -> Value? {
        if text == "true" { return .bool(true) }
        if text == "false" { return .bool(false) }
        if let n = Int(text.replacingOccurrences(of: "_", with: "")), !text.hasPrefix("_") { return .integer(n) }
        guard text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") else { return nil }
        var out = ""
        var escaped = false
        for c in text.dropFirst().dropLast() {
            if escaped {
                switch c {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "\\", "\"": out.append(c)
                default: return nil
                }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "\"" {
                return nil
            } else {
                out.append(c)
            }
        }
        return escaped ? nil : .string(out)
    }
}

/// The reading topic filter and how to find the station id in a topic.
public struct TopicPattern: Sendable, Equatable {
    public let levels: [Substring]
    public let stationLevel: Int
    /// The literal text before and after the station level, e.g. `aq/` and `/reading`.
    let prefix: String
    let suffix: String

    public init?(_ filter: String) {
        guard Self.problem(readingFilter: filter) == nil else { return nil }
        levels = filter.split(separator: "/", omittingEmptySubsequences: false)
        stationLevel = levels.firstIndex(of: "+")!
        prefix = levels[..<stationLevel].map { $0 + "/" }.joined()
        suffix = levels[(stationLevel + 1)...].map { "/" + $0 }.joined()
    }

    static func problem(readingFilter filter: String) -> String? {
        let levels = filter.split(separator: "/", omittingEmptySubsequences: false)
        if levels.filter({ $0 == "+" }).count != 1 {
            return "must have exactly one + level (the station id), got \"\(filter)\""
        }
        if filter.contains("#") { return "must not contain #" }
        if levels.contains(where: { $0 != "+" && $0.contains("+") }) { return "+ must stand alone in its level" }
        return nil
    }

    /// The station id in `topic`, or nil when the topic does not match the filter: the literal
    /// levels before and after the `+` must match and the station level holds no `/`.
    public func station(in topic: String) -> String? {
        var t = topic.utf8[...]
        guard t.starts(with: prefix.utf8), t.count >= prefix.utf8.count + suffix.utf8.count else { return nil }
        t = t.dropFirst(prefix.utf8.count)
        guard t.reversed().starts(with: suffix.utf8.reversed()) else { return nil }
        t = t.dropLast(suffix.utf8.count)
        guard !t.contains(UInt8(ascii: "/")) else { return nil }
        return String(decoding: t, as: UTF8.self)
    }
}

/// "trace, debug, info, notice, warning or error".
let levelList =
    DaemonConfiguration.logLevels.dropLast().joined(separator: ", ") + " or "
    + DaemonConfiguration.logLevels.last!
