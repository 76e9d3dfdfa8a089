import AirQuality

/// Which refused readings get a journal line of their own. In each minute: at most
/// ``perStation`` for one station (one for a flooding station), so one broken sensor cannot
/// flood the journal, and at most ``total`` in all, so neither can many sensors or ids that
/// change with every message. What is held back is counted: the first time in a minute, one
/// line says lines are being held back; when the minute is over, one line gives the counts.
/// Every refusal still goes to the reading log's table and the counters.
struct RejectionLogLimiter: Sendable {
    static let perStation = 30
    static let total = 100
    static let minute = 60.0

    private var minuteStart: Double
    private var byStation: [String: Int] = [:]
    private var logged = 0
    private var heldBack: [Rejection.Code: Int] = [:]

    init(now: Double) { minuteStart = now }

    enum Verdict: Equatable {
        case log
        /// Held back; `first` for the first held back this minute (say so once).
        case holdBack(first: Bool)
    }

    /// The counts held back in the minute that ended, if one ended by `now` and anything was
    /// held back in it; the next minute starts.
    mutating func endedMinute(now: Double) -> [Rejection.Code: Int]? {
        guard now - minuteStart >= Self.minute else { return nil }
        let counts = heldBack
        minuteStart = now
        byStation.removeAll(keepingCapacity: true)
        logged = 0
        heldBack = [:]
        return counts.isEmpty ? nil : counts
    }

    mutating func admit(station: String, code: Rejection.Code) -> Verdict {
        // A flooding station gets one line a minute, and so do all refused new stations together.
        let key = code == .flood ? "flood " + station : code == .tooManyStations ? "too many stations" : station
        let limit = code == .flood || code == .tooManyStations ? 1 : Self.perStation
        let n = byStation[key, default: 0]
        guard n < limit, logged < Self.total else {
            let first = heldBack.isEmpty
            heldBack[code, default: 0] += 1
            return .holdBack(first: first)
        }
        byStation[key] = n + 1
        logged += 1
        return .log
    }

    /// Station ids and topics as they may appear in the journal and the refusals' table:
    /// control characters escaped, at most 200 characters.
    static func printable(_ s: String) -> String {
        String(
            s.unicodeScalars.map {
                $0.value < 0x20 || $0.value == 0x7F ? "\\x\(String($0.value, radix: 16))" : String($0)
            }.joined().prefix(200))
    }
}
