import AQCastTestSupport
import AirQuality
import Foundation
import ReadingLog
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A reading whose time is `time` (a JSON string, quoted here) for whole hour `hour`'s readings.
private func reading(time: String, pm: Double = 80, extra: String = "") -> [UInt8] {
    Array(
        """
        {"time": "\(time)", "pm25": \(pm), "dew_point": -5, "temperature": 3, "pressure": 1018,
         "wind_direction": "NW", "wind_speed": 2.2\(extra)}
        """.utf8)
}

@Suite(.serialized) struct PoisonMessageTests {
    init() {
        #expect(FakeJournal.shared != nil, "the test journal socket could not be bound")
    }

    /// The reading that ended the process with SIGFPE inside ICU (a fraction of 35 digits) is
    /// read, and strict refusals of lenient times leave the daemon running and the other
    /// readings kept.
    @Test func theTimeThatCrashedICUIsReadAndLenientTimesAreRefused() throws {
        let broker = try Broker()
        let state = temporaryDirectory()
        let notify = try NotifySocket()
        let daemon = try startDaemon(broker, notify: notify, stateDir: state)
        #expect(
            notify.collect(seconds: 10) { $0.contains("STATUS=connected to") }.last?.contains("STATUS=connected to")
                == true)
        let publisher = try client(broker, id: "t-icu-pub")
        let topic = "aq/icu/reading"
        let fraction = "." + String(repeating: "1", count: 35) + "Z"
        let lenient = [
            "2014-02-30T05:00:00Z", isoHour(base + 3) + "garbage",
            isoHour(base + 4).replacingOccurrences(of: "Z", with: "+30:00"),
            "2014-1-1T5:0:0Z",
        ]
        for time in lenient { try publisher.publish(topic: topic, payload: reading(time: time), qos: 1) }
        for h in Int64(0)..<10 {
            let time = isoHour(base + h).replacingOccurrences(of: "Z", with: fraction)
            try publisher.publish(topic: topic, payload: reading(time: time, pm: Double(50 + h)), qos: 1)
        }
        var refusals: [[String: String]] = []
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, refusals.count < lenient.count {
            usleep(50_000)
            refusals = FakeJournal.shared?.all().filter { $0["STATION"] == "icu" && $0["REASON"] == "bad_time" } ?? []
        }
        #expect(refusals.count == lenient.count, "\(refusals)")
        #expect(daemon.wait(seconds: 1) == nil, "the daemon died: \(daemon.output)")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 10) == 0)
        let logged = try ReadingLog(path: state + "/readings.sqlite").all().filter { $0.station == "icu" }
        #expect(logged.map(\.time) == (0..<10).map { (base + $0) * 3600 })
        #expect(logged.map(\.pm25) == (0..<10).map { 50 + Double($0) })
    }

    /// A message that kills the process (made to, by a debug-build fault hook) is handed over
    /// again by the broker after the restart: the new process refuses it with its reason and
    /// keeps the ten readings queued behind it.
    @Test func aMessageThatKilledTheProcessIsRefusedAfterTheRestart() throws {
        let broker = try Broker()
        let state = temporaryDirectory()
        let environment = ["AQCAST_FAULT_CRASH_ON": "POISON", "SWIFT_BACKTRACE": "enable=no"]
        let notify = try NotifySocket()
        let first = try startDaemon(broker, notify: notify, environment: environment, stateDir: state)
        #expect(
            notify.collect(seconds: 10) { $0.contains("STATUS=connected to") }.last?.contains("STATUS=connected to")
                == true)
        let publisher = try client(broker, id: "t-poison-pub")
        let topic = "aq/poison/reading"
        try publisher.publish(
            topic: topic, payload: reading(time: isoHour(base), extra: #", "note": "POISON""#), qos: 1)
        for h in Int64(1)...10 { try publisher.publish(topic: topic, payload: payload(hour: base + h), qos: 1) }
        #expect(first.wait(seconds: 10) == 128 + SIGFPE, "the fault hook did not kill the daemon: \(first.output)")

        let second = try startDaemon(broker, notify: notify, environment: environment, stateDir: state)
        let refused = FakeJournal.shared?.wait(seconds: 10) { $0["REASON"] == "poison" && $0["STATION"] == "poison" }
        #expect(refused?["MESSAGE"]?.contains("died while handling this message") == true, "\(second.output)")
        let deadline = Date().addingTimeInterval(10)
        var kept: [Reading] = []
        while Date() < deadline, kept.count < 10 {
            usleep(100_000)
            kept = (try? ReadingLog(path: state + "/readings.sqlite").all().filter { $0.station == "poison" }) ?? []
        }
        #expect(kept.map(\.time) == (1...10).map { (base + $0) * 3600 }, "\(second.output)")
        #expect(second.wait(seconds: 0.5) == nil, "the second run died too: \(second.output)")
        second.signal(SIGTERM)
        #expect(second.wait(seconds: 10) == 0)
        let table = try ReadingLog(path: state + "/readings.sqlite").recentRejected(limit: 10)
        #expect(table.contains { $0.code == "poison" && $0.topic == topic })
    }

    /// A station id with quotes and a backslash (allowed in a topic level) through a real broker:
    /// the published forecast and state parse back and name that station, not another.
    @Test func aStationIdWithQuotesIsEscapedInWhatIsPublished() throws {
        let broker = try Broker()
        let notify = try NotifySocket()
        let daemon = try startDaemon(broker, notify: notify)
        #expect(
            notify.collect(seconds: 10) { $0.contains("STATUS=connected to") }.last?.contains("STATUS=connected to")
                == true)
        let station = #"x","station":"beijing\q"#
        let inbox = Inbox()
        let subscriber = try client(broker, id: "t-esc-sub", inbox: inbox, subscribe: "aq/+/+")
        defer { withExtendedLifetime(subscriber) {} }
        let publisher = try client(broker, id: "t-esc-pub")
        for h in Int64(0)..<25 {
            try publisher.publish(topic: "aq/\(station)/reading", payload: payload(hour: base + h), qos: 1)
        }
        let forecasts = inbox.wait(seconds: 10, topic: "aq/\(station)/forecast")
        #expect(!forecasts.isEmpty, "no forecast: \(daemon.output)")
        for m in forecasts + inbox.on("aq/\(station)/state") {
            let json = try JSONSerialization.jsonObject(with: Data(m.payload)) as? [String: Any]
            #expect(json?["station"] as? String == station, "\(String(decoding: m.payload, as: UTF8.self))")
        }
        #expect(!inbox.on("aq/\(station)/state").isEmpty)
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 10) == 0)
    }
}
