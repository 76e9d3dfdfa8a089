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
        /// A number with a fraction or an exponent (only where a key takes one).
        case float(Double)
        /// `["a", "b"]`: a list of strings.
        case strings([String])
        /// `[1, 3, 8]`: a list of integers.
        case integers([Int])

        var typeName: String {
            switch self {
            case .string: "a string"
            case .integer: "an integer"
            case .bool: "true or false"
            case .float: "a number with a fraction"
            case .strings: "a list of strings"
            case .integers: "a list of integers"
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

    /// What is wrong with a per-station topic to publish on, if anything.
    @Sendable static func stationTopicProblem(_ topic: String) -> String? {
        topic.contains("{station}") && !topic.contains("+") && !topic.contains("#")
            ? nil : "must contain {station} and no wildcards"
    }

    static let keys: [String: [String: Apply]] = [
        "broker": [
            "host": string(\.brokerHost) { $0.isEmpty ? "must not be empty" : nil },
            "port": integer(\.brokerPort, 1...65535),
            "client_id": string(\.clientID) { $0.utf8.count <= 64 ? nil : "must be at most 64 bytes" },
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
            "forecasts": string(\.forecastTopic, check: stationTopicProblem),
            "station_state": string(\.stationStateTopic, check: stationTopicProblem),
            "weather": string(\.weatherTopic) { $0.isEmpty ? nil : TopicPattern.problem(readingFilter: $0) },
            "accuracy": string(\.accuracyTopic, check: stationTopicProblem),
            "network_accuracy": string(\.networkAccuracyTopic) {
                !$0.isEmpty && !$0.contains("+") && !$0.contains("#") ? nil : "must be a topic without wildcards"
            },
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
            "bias_correction_days": integer(\.forecast.biasCorrectionDays, 0...365),
        ],
        "model": ["path": string(\.modelPath), "fewer_inputs": bool(\.fewerInputModels)],
        "accuracy": ["interval_seconds": integer(\.accuracyIntervalSeconds, 0...86_400)],
        "metrics": [
            "listen": string(\.metricsListen) {
                $0.isEmpty || DaemonConfiguration.listenAddress($0) != nil
                    ? nil : "must be HOST:PORT (e.g. \"127.0.0.1:10147\", \"[::1]:10147\") or \"\" for no endpoint"
            }
        ],
        "homeassistant": [
            "enabled": bool(\.homeAssistant.enabled),
            "discovery_prefix": string(\.homeAssistant.discoveryPrefix) {
                !$0.isEmpty && !$0.contains("+") && !$0.contains("#") && !$0.hasSuffix("/")
                    ? nil : "must be a topic without wildcards or a trailing /"
            },
            "horizons": { config, value in
                guard case .integers(let hours) = value, !hours.isEmpty, hours.allSatisfy({ (1...48).contains($0) })
                else { return "expected a list of hours ahead 1...48, e.g. [1, 3, 8]" }
                config.homeAssistant.horizons = Array(Set(hours)).sorted()
                return nil
            },
        ],
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
        var inputs: [PendingSection] = []
        var areas: [PendingSection] = []
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
                    inputs.append(PendingSection(prefix: "input", name: input, line: line))
                } else if name.hasPrefix("weather_forecast.") {
                    let area = String(name.dropFirst(17))
                    guard !area.isEmpty, area.utf8.count <= 64, area.utf8.allSatisfy({ isBareKeyByte($0) }) else {
                        throw ConfigurationError(
                            file: file, line: line,
                            reason:
                                "an area's name (after 'weather_forecast.') must be 1-64 letters, digits, '-' or '_'")
                    }
                    areas.append(PendingSection(prefix: "weather_forecast", name: area, line: line))
                } else if keys[name] == nil && name != "weather_sources" {
                    let known = keys.keys + ["weather_sources", "input.NAME", "weather_forecast.NAME"]
                    throw ConfigurationError(
                        file: file, line: line,
                        reason: "unknown section [\(name)] (known: \(known.sorted().joined(separator: ", ")))")
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
            if section.hasPrefix("input.") || section.hasPrefix("weather_forecast.") || section == "weather_sources" {
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
                } else if section.hasPrefix("weather_forecast.") {
                    guard weatherForecastKeys.contains(key) else {
                        let known = weatherForecastKeys.sorted().joined(separator: ", ")
                        throw ConfigurationError(
                            file: file, line: line, key: qualified,
                            reason: "unknown key (known in [weather_forecast.NAME]: \(known))")
                    }
                    areas[areas.count - 1].values[key] = (value, line)
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
            guard
                let value = parseValue(valueText).flatMap({ v -> Value? in
                    if case .float = v { return nil }
                    return v
                })
            else {
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
        for input in inputs {
            let read = try input.input(file: file)
            // Each message is handled once: no topic may match two subscriptions.
            let earlier =
                (config.readingTopic.isEmpty ? [] : [("[topics] readings", config.readingTopic)])
                + config.inputs.map { ("[input.\($0.name)]", $0.topic.filter) }
            for (other, filter) in earlier {
                if let topic = overlappingTopic(read.topic.filter, filter) {
                    throw ConfigurationError(
                        file: file, line: input.values["topic"]?.line ?? input.line, key: "input.\(input.name).topic",
                        reason:
                            "its filter \(read.topic.filter) overlaps \(other)'s \(filter): a topic such as \(topic) "
                            + "matches both, and the broker would deliver each such message twice; make one narrower")
                }
            }
            config.inputs.append(read)
        }
        try apply(areas: areas, file: file, into: &config)
        return config
    }

    static func isBareKeyByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
    }

    /// The line up to a `#` that is not inside a quoted string.
    /// The inside of `[...]`: quoted strings, or integers, separated by commas (a comma may
    /// end the list).
    static func parseStrings(_ inside: String) -> Value? {
        let numbers = inside.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let kept = numbers.last == "" && numbers.count > 1 ? Array(numbers.dropLast()) : numbers
        if !kept.isEmpty, kept.allSatisfy({ Int($0) != nil }) { return .integers(kept.map { Int($0)! }) }
        var items: [String] = []
        var rest = Substring(inside)
        while true {
            rest = rest.drop { $0 == " " || $0 == "\t" }
            if rest.isEmpty { return .strings(items) }
            guard rest.first == "\"" else { return nil }
            // The closing quote: the first one not escaped.
            var end = rest.index(after: rest.startIndex)
            var escaped = false
            while end < rest.endIndex, escaped || rest[end] != "\"" {
                escaped = !escaped && rest[end] == "\\"
                end = rest.index(after: end)
            }
            guard end < rest.endIndex, case .string(let item)? = parseValue(String(rest[...end])) else { return nil }
            items.append(item)
            rest = rest[rest.index(after: end)...].drop { $0 == " " || $0 == "\t" }
            if rest.isEmpty { return .strings(items) }
            guard rest.first == "," else { return nil }
            rest = rest.dropFirst()
        }
    }

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
        if let first = text.utf8.first,
            first == UInt8(ascii: "-") || first == UInt8(ascii: "+")
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first),
            let x = Double(text), x.isFinite
        {
            return .float(x)
        }
        if text.hasPrefix("["), text.hasSuffix("]") { return parseStrings(String(text.dropFirst().dropLast())) }
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

/// "trace, debug, info, notice, warning or error".
let levelList =
    DaemonConfiguration.logLevels.dropLast().joined(separator: ", ") + " or "
    + DaemonConfiguration.logLevels.last!
