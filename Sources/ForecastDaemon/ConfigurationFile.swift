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
            "readings": string(\.readingTopic) { TopicPattern.problem(readingFilter: $0) },
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
            "horizon": integer(\.horizonHours, 1...48),
            "max_gap_hours": integer(\.maximumGapHours, 0...12),
            "readings_per_hour": integer(\.readingsPerHour, 1...3600),
            "max_future_seconds": integer(\.maximumFutureSeconds, 0...86400),
            "station_readings_per_minute": integer(\.stationReadingsPerMinute, 1...1_000_000),
            "max_stations": integer(\.maximumStations, 1...10_000_000),
            "station_expiry_hours": integer(\.stationExpiryHours, 1...87_600),
        ],
        "model": ["path": string(\.modelPath)],
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
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = n + 1
            let content = stripComment(String(raw)).trimmingCharacters(in: .whitespaces)
            if content.isEmpty { continue }
            if content.hasPrefix("[") {
                guard content.hasSuffix("]") else {
                    throw ConfigurationError(file: file, line: line, reason: "a section header must end with ]")
                }
                let name = String(content.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                guard keys[name] != nil else {
                    throw ConfigurationError(
                        file: file, line: line,
                        reason: "unknown section [\(name)] (known: \(keys.keys.sorted().joined(separator: ", ")))")
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
        return config
    }

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
