import AirQuality

/// One `[input.NAME]` section: a subscription whose payloads are read by a profile.
public struct InputConfiguration: Sendable, Equatable {
    public var name: String
    public var topic: InputTopic
    public var format: PayloadFormat
    /// Readings that complete an hour; nil: `[forecast] readings_per_hour`; 0: an hour is
    /// complete when the next one starts or the station has gone quiet after its end.
    public var readingsPerHour: Int?

    public init(name: String, topic: InputTopic, format: PayloadFormat, readingsPerHour: Int? = nil) {
        self.name = name
        self.topic = topic
        self.format = format
        self.readingsPerHour = readingsPerHour
    }

    /// Profiles whose sensors report many times an hour and carry no hour of their own: their
    /// hours are complete by time, not by a count.
    static func defaultReadingsPerHour(_ profile: PayloadFormat.Profile) -> Int? {
        switch profile {
        case .native, .json: nil
        case .tasmota, .airgradient, .esphome, .statestream: 0
        }
    }
}

/// Two MQTT filters (levels, `+`, no `#`) that one topic can match: a broker with both
/// subscriptions delivers such a topic's messages once per subscription, so each would be
/// handled (and refused, and logged) twice. Returns such a topic, or nil when none matches both.
func overlappingTopic(_ a: String, _ b: String) -> String? {
    let x = a.split(separator: "/", omittingEmptySubsequences: false)
    let y = b.split(separator: "/", omittingEmptySubsequences: false)
    guard x.count == y.count else { return nil }
    var topic: [Substring] = []
    for (p, q) in zip(x, y) {
        switch (p == "+", q == "+") {
        case (true, true): topic.append("x")
        case (true, false): topic.append(q)
        case (false, true): topic.append(p)
        case (false, false):
            guard p == q else { return nil }
            topic.append(p)
        }
    }
    return topic.joined(separator: "/")
}

/// An input's topic: MQTT levels, where `{station}` and `{quantity}` stand for the station id
/// and (single-value profiles) the quantity's name, alone in a level or inside one
/// (`homeassistant/sensor/{station}_{quantity}/state`). Its filter has `+` for those levels.
public struct InputTopic: Sendable, Equatable {
    public let template: String
    let levels: [String]
    public let filter: String

    /// Why a template cannot serve a format.
    public struct Problem: Error, Sendable {
        public var reason: String
    }

    /// The topic, or why `template` cannot serve `format`.
    public static func make(_ template: String, for format: PayloadFormat) -> Result<InputTopic, Problem> {
        if template.isEmpty { return .failure(Problem(reason: "must not be empty")) }
        if template.contains("+") || template.contains("#") {
            return .failure(Problem(reason: "takes {station} and {quantity} where a topic varies, not MQTT wildcards"))
        }
        let levels = template.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let stationLevels = levels.filter { $0.contains("{station}") }.count
        let quantityLevels = levels.filter { $0.contains("{quantity}") }.count
        if format.stationField == nil, stationLevels != 1 {
            return .failure(
                Problem(reason: "must hold {station} in exactly one level (or set station to a payload field)"))
        }
        if stationLevels > 1 || template.components(separatedBy: "{station}").count > 2 {
            return .failure(Problem(reason: "holds {station} more than once"))
        }
        if format.profile.isSingleValue,
            quantityLevels != 1 || template.components(separatedBy: "{quantity}").count != 2
        {
            return .failure(
                Problem(
                    reason: "must hold {quantity} once: profile \(format.profile.rawValue) sends one value per topic"))
        }
        if !format.profile.isSingleValue, quantityLevels > 0 {
            return .failure(Problem(reason: "holds {quantity}, which only the esphome and statestream profiles use"))
        }
        let filter = levels.map { $0.contains("{") ? "+" : $0 }.joined(separator: "/")
        return .success(InputTopic(template: template, levels: levels, filter: filter))
    }

    /// The station id (empty when the payload names it) and quantity a topic stands for, or nil
    /// when it does not match.
    public func match(_ topic: String, names: [Quantity: String]) -> (station: String, quantity: Quantity?)? {
        let parts = topic.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == levels.count else { return nil }
        var station = ""
        var quantity: Quantity?
        for (pattern, part) in zip(levels, parts) {
            if !pattern.contains("{") {
                guard pattern.utf8.elementsEqual(part.utf8) else { return nil }
                continue
            }
            if pattern.contains("{quantity}") {
                // Try each quantity's name; the longest that fits wins (pm_2_5 over pm).
                var found: (Quantity, String)?
                for (q, name) in names.sorted(by: { $0.value.count > $1.value.count }) {
                    let filled = pattern.replacingOccurrences(of: "{quantity}", with: name)
                    if let s = Self.fill(filled, part: String(part)) {
                        found = (q, s)
                        break
                    }
                }
                guard let (q, s) = found else { return nil }
                quantity = q
                if pattern.contains("{station}") { station = s }
            } else if let s = Self.fill(pattern, part: String(part)) {
                station = s
            } else {
                return nil
            }
        }
        return (station, quantity)
    }

    /// What `{station}` stands for when `pattern` (at most one `{station}`, nothing else open)
    /// matches `part`: "" when there is no `{station}`, nil when it does not match.
    static func fill(_ pattern: String, part: String) -> String? {
        let b = Array(part.utf8)
        guard let r = pattern.range(of: "{station}") else { return pattern.utf8.elementsEqual(b) ? "" : nil }
        let prefix = Array(pattern[..<r.lowerBound].utf8)
        let suffix = Array(pattern[r.upperBound...].utf8)
        guard b.count > prefix.count + suffix.count, b.starts(with: prefix),
            b.suffix(suffix.count).elementsEqual(suffix)
        else { return nil }
        return String(decoding: b[prefix.count..<(b.count - suffix.count)], as: UTF8.self)
    }
}
