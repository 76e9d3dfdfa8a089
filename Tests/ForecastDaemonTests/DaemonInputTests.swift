import AQCastTestSupport
import AirQuality
import Foundation
import MQTTClient
import ReadingLog
import Synchronization
import Testing

@testable import ForecastDaemon

/// What the daemon does with what it is sent: every bad input refused with its reason while the
/// good readings are forecast, a journal that cannot be flooded, a full disk that stops nothing.
@Suite(.serialized) struct DaemonInputTests {
    init() {
        #expect(FakeJournal.shared != nil, "the test journal socket could not be bound")
    }

    @Test func everyBadInputIsLoggedWithItsReasonAndTheNextGoodReadingIsForecast() throws {
        let broker = try Broker()
        let publisher = try client(broker, id: "t-pub")
        // A retained reading left by "a previous run" before the daemon subscribes.
        try publisher.publish(topic: "aq/ret/reading", payload: payload(hour: base), qos: 1, retain: true)
        // The broker keeps a retained message before it acknowledges it.
        #expect(eventually(seconds: 10) { publisher.everyPublishAcknowledged }, "the retained reading was not taken")
        let state = temporaryDirectory()
        let daemon = try startDaemon(broker, stateDir: state)
        let inbox = Inbox()
        let subscriber = try client(broker, id: "t-sub", inbox: inbox, subscribe: "aq/+/forecast")
        defer { withExtendedLifetime(subscriber) {} }
        #expect(connectedLine(broker) != nil, "the daemon did not connect")
        let station = "bad-\(UUID().uuidString.prefix(6))"
        let topic = "aq/\(station)/reading"
        for h in 0..<23 { try publisher.publish(topic: topic, payload: payload(hour: base + Int64(h)), qos: 1) }

        let good = String(decoding: payload(hour: base + 23), as: UTF8.self)
        let now = Int64(Date().timeIntervalSince1970)
        let bad: [(String, String, String)] = [
            (topic, "not json", "not_json"),
            (topic, "[1,2,3]", "not_object"),
            (topic, #"{"time": 1388552400}"#, "missing_field"),
            (topic, good.replacingOccurrences(of: "\"pm25\": 80.0", with: "\"pm25\": \"80\""), "wrong_type"),
            (topic, good.replacingOccurrences(of: "\"pm25\": 80.0", with: "\"pm25\": 2500"), "out_of_range"),
            (topic, good.replacingOccurrences(of: "\"pressure\": 1018", with: "\"pressure\": 500"), "out_of_range"),
            (topic, good.replacingOccurrences(of: "\"pm25\": 80.0", with: "\"pm25\": NaN"), "not_json"),
            (topic, good.replacingOccurrences(of: "\"pm25\": 80.0", with: "\"pm25\": Infinity"), "not_json"),
            (topic, "{\"pad\": \"" + String(repeating: "x", count: 70_000) + "\"}", "too_large"),
            (topic, String(decoding: payload(hour: now / 3600 + 5), as: UTF8.self), "future"),
            (topic, String(decoding: payload(hour: base - 100), as: UTF8.self), "too_old"),
            (topic, String(decoding: payload(hour: base + 5), as: UTF8.self), "duplicate"),
            ("aq//reading", good, "bad_station"),
            ("aq/\(String(repeating: "s", count: 65))/reading", good, "bad_station"),
            ("aq/a b/reading", good, "bad_station"),
            ("aq/caf\u{E9}/reading", good, "bad_station"),
        ]
        for (t, p, _) in bad { try publisher.publish(topic: t, payload: Array(p.utf8), qos: 1) }
        try publisher.publish(topic: topic, payload: payload(hour: base + 23), qos: 1)

        let forecasts = inbox.wait(seconds: 10, topic: "aq/\(station)/forecast")
        #expect(forecasts.count == 1, "the good reading after the bad ones was not forecast: \(daemon.output)")
        let json = forecasts.first.flatMap {
            try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any]
        }
        #expect(json?["based_on_hour"] as? String == isoHour(base + 23))
        #expect(inbox.on("aq/a b/forecast").isEmpty && inbox.on("aq//forecast").isEmpty)

        for (t, _, reason) in bad {
            let entry = FakeJournal.shared?.wait(seconds: 5) {
                $0["REASON"] == reason && $0["TOPIC"] == asJournalWritesIt(t) && $0["PRIORITY"] == "4"
            }
            #expect(entry != nil, "no journal entry with REASON=\(reason) for topic \(t.debugDescription.prefix(60))")
            #expect(entry?["MESSAGE"]?.hasPrefix("reading rejected: ") == true)
        }
        let retained = FakeJournal.shared?.wait(seconds: 2) { $0["REASON"] == "retained" && $0["STATION"] == "ret" }
        #expect(retained != nil)
        #expect(daemon.wait(seconds: 0.1) == nil, "the daemon died: \(daemon.output)")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 10) == 0)
        // Every refusal is also in the log's bounded table, with its code.
        let refused = try ReadingLog(path: state + "/readings.sqlite").recentRejected(limit: 100)
        for (t, _, reason) in bad {
            #expect(
                refused.contains { $0.code == reason && $0.topic == asJournalWritesIt(t) }, "\(reason) not in the log")
        }
    }

    /// The state directory on a 1 MiB tmpfs that another file fills: forecasts go on, the
    /// journal says so once (not once per reading or per 200 ms attempt), and when space is
    /// freed every reading kept in memory reaches the log.
    @Test(.enabled(if: getuid() == 0, "mounts a tmpfs, which needs root"))
    func aFullDiskDoesNotStopForecastsAndTheLogCatchesUp() throws {
        let broker = try Broker()
        let state = temporaryDirectory()
        try shell("mount -t tmpfs -o size=1m tmpfs \(state)")
        defer { try? shell("umount \(state)") }
        let inbox = Inbox()
        let subscriber = try client(broker, id: "t-full-sub", inbox: inbox, subscribe: "aq/+/forecast")
        defer { withExtendedLifetime(subscriber) {} }
        let daemon = try startDaemon(broker, stateDir: state)
        #expect(connectedLine(broker) != nil, "the daemon did not connect")
        try? shell("dd if=/dev/zero of=\(state)/filler bs=64k count=64 2>/dev/null")
        let station = "full-\(UUID().uuidString.prefix(6))"
        let publisher = try client(broker, id: "t-full-pub")
        for h in 0..<40 {
            try publisher.publish(topic: "aq/\(station)/reading", payload: payload(hour: base + Int64(h)), qos: 1)
        }
        #expect(inbox.wait(seconds: 10, topic: "aq/\(station)/forecast", count: 17).count == 17, "forecasts stopped")
        sleep(1)
        let complaints =
            FakeJournal.shared?.all().filter {
                ($0["MESSAGE"] ?? "").hasPrefix("cannot write the reading log \(state)/readings.sqlite")
            } ?? []
        #expect(complaints.count == 1, "\(complaints.count) journal lines about the full disk")
        #expect(complaints.first?["REASON"] == "reading_log")
        try FileManager.default.removeItem(atPath: state + "/filler")
        // The writer retries every 200 ms and says when the readings it kept are in the log.
        let caughtUp = FakeJournal.shared?.wait(seconds: 10) {
            ($0["MESSAGE"] ?? "").hasPrefix("the reading log \(state)/readings.sqlite is written again")
        }
        #expect(caughtUp != nil, "the reading log did not catch up while the daemon ran: \(daemon.output)")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 10) == 0)
        #expect(try ReadingLog(path: state + "/readings.sqlite").all().filter { $0.station == station }.count == 40)
    }

    /// Messages that a subscription takes but no input's template reads (a statestream entity
    /// that is no quantity): each was one journal line; now they share the refusals' bound.
    @Test func messagesOnUnexpectedTopicsCannotFloodTheJournal() throws {
        let broker = try Broker()
        let state = temporaryDirectory()
        let config = state + "/aqcast.toml"
        try """
        [input.ha]
        profile = "statestream"
        topic = "homeassistant/sensor/{station}_{quantity}/state"
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try startDaemon(broker, stateDir: state, extra: ["--config", config])
        #expect(connectedLine(broker) != nil, "the daemon did not connect: \(daemon.output)")
        #expect(try daemonTakesReadings(broker), "the daemon took no reading: \(daemon.output)")
        let tag = UUID().uuidString.prefix(6).lowercased()
        let publisher = try client(broker, id: "t-unexpected")
        for i in 0..<200 {
            try publisher.publish(topic: "homeassistant/sensor/door\(tag)\(i)/state", payload: Array("on".utf8), qos: 1)
        }
        #expect(try handledEverythingSent(by: publisher, broker), "the daemon did not get through the 200")
        let logged =
            FakeJournal.shared?.all().filter {
                $0["MESSAGE"] == "message on an unexpected topic" && ($0["TOPIC"] ?? "").contains("door\(tag)")
            }.count ?? -1
        #expect(logged == RejectionLogLimiter.perStation, "\(logged) journal lines for 200 unexpected topics")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 10) == 0)
    }

    @Test func aBrokenSensorCannotFloodTheJournal() throws {
        let broker = try Broker()
        let daemon = try startDaemon(broker)
        #expect(connectedLine(broker) != nil, "the daemon did not connect")
        #expect(try daemonTakesReadings(broker), "the daemon took no reading: \(daemon.output)")
        let publisher = try client(broker, id: "t-noisy")
        let station = "noisy-\(UUID().uuidString.prefix(6))"
        for _ in 0..<100 {
            try publisher.publish(topic: "aq/\(station)/reading", payload: Array("garbage".utf8), qos: 1)
        }
        #expect(try handledEverythingSent(by: publisher, broker), "the daemon did not get through the 100")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 10) == 0)
        let logged = FakeJournal.shared?.all().filter { $0["STATION"] == station && $0["REASON"] == "not_json" }.count
        #expect(logged == 30, "journal lines for 100 bad payloads: \(String(describing: logged))")
        let stopped = FakeJournal.shared?.wait(seconds: 2) { $0["MESSAGE"] == "stopped" && $0["REJECTED"] == "100" }
        #expect(stopped != nil, "the counters should still have all 100")
    }

    /// Garbage on a new id each time: the journal takes 100 lines a minute in all and says,
    /// once, that it holds the rest back; the counters still have every refusal.
    @Test func idsThatChangeWithEveryMessageCannotFloodTheJournal() throws {
        let broker = try Broker()
        let daemon = try startDaemon(broker)
        let journal = try #require(FakeJournal.shared)
        #expect(connectedLine(broker) != nil, "the daemon did not connect")
        #expect(try daemonTakesReadings(broker), "the daemon took no reading: \(daemon.output)")
        let publisher = try client(broker, id: "t-rotating")
        let tag = "rot\(UUID().uuidString.prefix(6))"
        for i in 0..<300 {
            try publisher.publish(topic: "aq/\(tag)-\(i)/reading", payload: Array("garbage".utf8), qos: 1)
        }
        let stopped = { () -> [String: String]? in
            journal.all().first { $0["MESSAGE"] == "stopped" && $0["REJECTED"] == "300" }
        }
        func refusalLines() -> Int {
            journal.all().filter { ($0["STATION"] ?? "").hasPrefix(tag + "-") && $0["REASON"] == "not_json" }.count
        }
        // However busy the machine, until all 300 are handled (not a fixed pause).
        #expect(try handledEverythingSent(by: publisher, broker, seconds: 30), "the daemon did not get through the 300")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 10) == 0)
        let lines = refusalLines()
        #expect(lines == 100, "journal lines for 300 bad payloads on 300 ids: \(lines)")
        #expect(
            journal.all().contains {
                $0["MESSAGE"]?.hasPrefix("more refused readings than the journal takes this minute") == true
            })
        #expect(journal.wait(seconds: 2) { _ in stopped() != nil } != nil, "the counters should still have all 300")
    }

}
