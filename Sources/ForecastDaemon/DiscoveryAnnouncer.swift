import Synchronization

/// When to publish every station's Home Assistant discovery configs again.
///
/// Home Assistant publishes `online` on its status topic at every start, and anyone may publish
/// it as often as they like; answering each inside the MQTT message handler held readings back
/// for as long as the configs took (five per station) and let libmosquitto's queue grow without
/// bound. Here a request only records that one is wanted (``request()``, a few nanoseconds, from
/// any thread); ``run(_:)`` answers in the background, after `settle` (so a burst becomes
/// one announcement) and at most once per `interval`. A request that comes while one is being
/// made, or within the interval, is kept, and answered once the interval is over: the last
/// request is never lost, and a flood of them costs one announcement per interval.
final class DiscoveryAnnouncer: Sendable {
    let settle: Duration
    let interval: Duration
    /// Whether an announcement is wanted that no announcement has started to answer yet.
    private let wanted = Mutex(false)
    /// Wakes ``run(_:)``; what it is woken for is ``wanted``.
    private let requests: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init(settle: Duration = .seconds(2), interval: Duration = .seconds(60)) {
        self.settle = settle
        self.interval = interval
        // One pending request at most: more of them while it waits are the same request.
        (requests, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for an announcement; returns at once.
    func request() {
        wanted.withLock { $0 = true }
        continuation.yield()
    }

    /// Runs `announce` for the requests until cancelled.
    func run(_ announce: () async -> Void) async {
        var last: ContinuousClock.Instant?
        for await _ in requests {
            // Woken for a request that an announcement already answered.
            guard wanted.withLock({ $0 }) else { continue }
            var next = ContinuousClock.now.advanced(by: settle)
            if let last, last.advanced(by: interval) > next { next = last.advanced(by: interval) }
            try? await Task.sleep(until: next)
            if Task.isCancelled { return }
            // Requests from here on come after the configs it publishes were read: another one.
            wanted.withLock { $0 = false }
            last = ContinuousClock.now
            await announce()
        }
    }

    /// Ends ``run(_:)`` once the request in hand, if any, is answered.
    func finish() { continuation.finish() }
}
