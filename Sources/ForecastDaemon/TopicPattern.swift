import AirQuality

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
