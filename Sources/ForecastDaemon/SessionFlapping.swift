/// Whether the broker keeps closing a connection it has just accepted: the sign of another
/// client with the same client id, each connection taking the session from the other (MQTT
/// 3.1.1, section 3.1.4: the server disconnects the existing client). An MQTT v5 broker may say
/// so with reason 142 (session taken over), but mosquitto 2.0 closes the old connection without
/// it, so the pattern is what is left to go by: `losses` connections lost within `quick` of being
/// made, within `window`. Said at most once per `quiet`.
struct SessionFlapping: Sendable {
    var losses = 3
    var quick: Duration = .seconds(10)
    var window: Duration = .seconds(60)
    var quiet: Duration = .seconds(600)
    private var connectedAt: ContinuousClock.Instant?
    private var quickLosses: [ContinuousClock.Instant] = []
    private var saidAt: ContinuousClock.Instant?

    mutating func connected(at now: ContinuousClock.Instant) { connectedAt = now }

    /// Records a lost connection; true when it is time to say the connection flaps.
    mutating func lost(at now: ContinuousClock.Instant) -> Bool {
        defer { connectedAt = nil }
        guard let since = connectedAt, now - since <= quick else { return false }
        quickLosses = quickLosses.filter { now - $0 <= window } + [now]
        guard quickLosses.count >= losses, saidAt.map({ now - $0 >= quiet }) ?? true else { return false }
        saidAt = now
        return true
    }
}
