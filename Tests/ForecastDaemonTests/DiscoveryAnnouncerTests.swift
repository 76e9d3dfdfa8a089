import Synchronization
import Testing

@testable import ForecastDaemon

/// Home Assistant's `online` answered in the background: a burst is one announcement, a
/// request during one or within the interval is answered once after it, none is lost.
@Suite struct DiscoveryAnnouncerTests {
    @Test func aBurstOfRequestsIsOneAnnouncementAndALateOneIsKeptForTheNextInterval() async throws {
        let announcer = DiscoveryAnnouncer(settle: .milliseconds(500), interval: .seconds(1))
        let runs = Mutex<[ContinuousClock.Instant]>([])
        let task = Task { await announcer.run { runs.withLock { $0.append(.now) } } }
        // Ten requests at once return at once and become one announcement.
        let started = ContinuousClock.now
        for _ in 0..<10 { announcer.request() }
        #expect(runs.withLock { $0.count } == 0, "the request did the work itself")
        #expect(await eventually(seconds: 60) { runs.withLock { $0.count } == 1 })
        // Another burst right after: kept, and answered once the interval is over.
        for _ in 0..<10 { announcer.request() }
        #expect(await eventually(seconds: 60) { runs.withLock { $0.count } == 2 })
        try await Task.sleep(for: .milliseconds(1500))
        let times = runs.withLock { $0 }
        #expect(times.count == 2, "\(times.count) announcements for two bursts")
        #expect(times[0] - started >= .milliseconds(500))
        #expect(times[1] - times[0] >= .seconds(1), "two announcements within the interval")
        task.cancel()
        await task.value
    }

    /// Polls `condition` until it holds or `seconds` pass (generous: the other suites' blocking
    /// waits can hold this test's tasks back for seconds on two cores).
    private func eventually(seconds: Double, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int64(seconds * 1000)))
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }
}
