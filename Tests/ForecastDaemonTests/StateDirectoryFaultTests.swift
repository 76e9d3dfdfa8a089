import AQCastTestSupport
import Foundation
import MQTTClient
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The state directory's in-flight record (the poison-message defence) under faults of the
/// file system: full at start, or the file cut short while the daemon runs. Either once killed
/// the process with SIGBUS (a mapped page with no block behind it); now the daemon says at
/// warning level that it runs without the defence, and forecasts on.
@Suite(.serialized) struct StateDirectoryFaultTests {
    init() {
        #expect(FakeJournal.shared != nil, "the test journal socket could not be bound")
    }

    private func forecastsFlow(_ broker: Broker, station: String, hours: Int = 30) throws -> Int {
        let inbox = Inbox()
        let subscriber = try client(broker, id: "t-fault-sub-\(station)", inbox: inbox, subscribe: "aq/+/forecast")
        defer { withExtendedLifetime(subscriber) {} }
        let publisher = try client(broker, id: "t-fault-pub-\(station)")
        for h in 0..<hours {
            try publisher.publish(topic: "aq/\(station)/reading", payload: payload(hour: base + Int64(h)), qos: 1)
        }
        return inbox.wait(seconds: 15, topic: "aq/\(station)/forecast", count: hours - 23).count
    }

    private func withoutProtectionLines() -> [[String: String]] {
        (FakeJournal.shared?.all() ?? []).filter {
            ($0["MESSAGE"] ?? "").hasPrefix("running without poison-message protection")
        }
    }

    @Test(.enabled(if: getuid() == 0, "mounts a tmpfs, which needs root"))
    func aFullStateDirectoryAtStartIsAWarningNotACrash() throws {
        let broker = try Broker()
        let state = temporaryDirectory()
        try shell("mount -t tmpfs -o size=1m tmpfs \(state)")
        defer { try? shell("umount \(state)") }
        // Every block taken: dd stops at ENOSPC.
        try? shell("dd if=/dev/zero of=\(state)/filler bs=4k 2>/dev/null")
        let before = withoutProtectionLines().count
        let daemon = try startDaemon(broker, stateDir: state)
        #expect(connectedLine(broker) != nil, "the daemon did not connect: \(daemon.output)")
        let station = "fullstart-\(UUID().uuidString.prefix(6).lowercased())"
        #expect(
            try forecastsFlow(broker, station: station) == 7, "no forecasts on a full state directory: \(daemon.output)"
        )
        let warned = withoutProtectionLines().dropFirst(before)
        #expect(warned.count == 1, "\(warned.count) warnings; \(daemon.output)")
        #expect(warned.first?["PRIORITY"] == "4")
        #expect(warned.first?["MESSAGE"]?.contains("No space left on device") == true, "\(warned)")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 20) == 0, "\(daemon.output)")
    }

    @Test func theRecordCutShortWhileRunningIsAWarningNotACrash() throws {
        let broker = try Broker()
        let state = temporaryDirectory()
        let daemon = try startDaemon(broker, stateDir: state)
        #expect(connectedLine(broker) != nil, "the daemon did not connect: \(daemon.output)")
        #expect(try daemonTakesReadings(broker), "the daemon took no reading: \(daemon.output)")
        let before = withoutProtectionLines().count
        #expect(truncate(state + "/in-flight", 0) == 0)
        let station = "cut-\(UUID().uuidString.prefix(6).lowercased())"
        #expect(try forecastsFlow(broker, station: station) == 7, "forecasts stopped: \(daemon.output)")
        let warned = withoutProtectionLines().dropFirst(before)
        #expect(warned.count == 1, "\(warned.count) warnings; \(daemon.output)")
        #expect(warned.first?["MESSAGE"]?.contains("cut short") == true)
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 20) == 0, "\(daemon.output)")
    }
}
