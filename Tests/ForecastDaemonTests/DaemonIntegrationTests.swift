import AQCastTestSupport
import AirQuality
import Foundation
import MQTTClient
import ReadingLog
import Synchronization
import Testing

@Suite(.serialized) struct DaemonIntegrationTests {
    init() {
        #expect(FakeJournal.shared != nil, "the test journal socket could not be bound")
    }

    /// A notify listener that stops reading (its kernel queue holds 10 datagrams) cannot stall
    /// the daemon: twenty reloads send forty notifications, and SIGTERM still stops it at once.
    @Test func aNotifyListenerThatStopsReadingDoesNotStallTheDaemon() throws {
        let broker = try Broker()
        let path = NSTemporaryDirectory() + "aqcast-deaf-notify-\(UUID().uuidString.prefix(8))"
        let fd = try bindDatagram(path)  // bound, never read
        defer {
            close(fd)
            unlink(path)
        }
        // The model under a name of this test's own, so its reloads can be told apart in the
        // journal the tests share.
        let name = "deaf-\(UUID().uuidString.prefix(8)).json"
        let model = temporaryDirectory() + "/" + name
        try FileManager.default.copyItem(atPath: Shipped.modelPath, toPath: model)
        let daemon = try ChildProcess(
            Shipped.binary,
            [
                "run", "--broker", "127.0.0.1:\(broker.port)", "--model", model, "--state-dir", temporaryDirectory(),
                "--metrics-listen", "",
            ],
            environment: ["NOTIFY_SOCKET": path])
        let journal = try #require(FakeJournal.shared)
        #expect(connectedLine(broker) != nil, "the daemon did not connect")
        for _ in 0..<20 {
            daemon.signal(SIGHUP)
            usleep(100_000)  // apart, so that the signals are not merged into one
        }
        // Each reload sends RELOADING=1 and READY=1; the 11th blocks a sender that waits. Past
        // eleven reloads the daemon has outlived a full queue.
        func reloads() -> Int {
            journal.all().filter { $0["MESSAGE"] == "reloaded" && $0["MODEL"]?.hasPrefix(name + " ") == true }.count
        }
        #expect(eventually(seconds: 20) { reloads() >= 11 }, "\(reloads()) reloads: \(daemon.output)")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 10) == 0, "the daemon did not stop: \(daemon.output)")
    }

    /// A broker that is down when the daemon starts (as at boot, before mosquitto): READY=1
    /// all the same, the status says it cannot connect, and once the broker is up the daemon
    /// connects by itself and the status says so.
    @Test func readyWithoutABrokerAndConnectedWhenItComes() throws {
        let broker = try Broker()
        let notify = try NotifySocket()
        broker.process.signal(SIGTERM)
        _ = broker.process.wait(seconds: 5)
        let daemon = try startDaemon(broker, notify: notify)
        let ready = notify.collect(seconds: 10) { $0.contains("READY=1") }
        #expect(
            ready.last?.hasPrefix("READY=1\nSTATUS=connecting to broker 127.0.0.1:\(broker.port)") == true, "\(ready)")
        let down = notify.collect(seconds: 10) { $0.contains("127.0.0.1:\(broker.port): Connection refused") }
        #expect(down.last?.contains("127.0.0.1:\(broker.port): Connection refused") == true, "\(down)")
        #expect(daemon.wait(seconds: 0.1) == nil, "the daemon gave up: \(daemon.output)")
        try broker.restart(downFor: 0)
        let up = notify.collect(seconds: 90) { $0.contains("STATUS=connected to 127.0.0.1:\(broker.port)") }
        #expect(up.last?.hasPrefix("STATUS=connected to 127.0.0.1:\(broker.port)") == true, "\(up)")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 10) == 0)
    }

    /// A broker that stops answering (frozen with SIGSTOP): the keepalive runs out, and the
    /// journal says so in words, not libmosquitto's "Unknown error."; once it answers again the
    /// daemon is back.
    @Test func aStalledBrokerIsReportedAsAKeepaliveTimeout() throws {
        let broker = try Broker()
        let config = temporaryDirectory() + "/aqcast.toml"
        try "[broker]\nkeepalive = 5\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try startDaemon(broker, extra: ["--config", config])
        #expect(connectedLine(broker) != nil, "the daemon did not connect")
        broker.process.signal(SIGSTOP)
        let lost = FakeJournal.shared?.wait(seconds: 30) {
            ($0["MESSAGE"] ?? "").hasPrefix("broker connection lost, reconnecting")
                && $0["BROKER"] == "127.0.0.1:\(broker.port)"
        }
        broker.process.signal(SIGCONT)
        #expect(
            lost?["MESSAGE"]
                == "broker connection lost, reconnecting: the broker did not answer within the keepalive time (it is stalled or the network is)",
            "\(lost ?? [:])")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 10) == 0)
    }

    @Test func serviceContractReadyStatusWatchdogReloadAndStop() throws {
        let broker = try Broker()
        let notify = try NotifySocket()
        let daemon = try startDaemon(broker, notify: notify, environment: ["WATCHDOG_USEC": "400000"])
        let untilReady = notify.collect(seconds: 10) { $0.contains("READY=1") }
        #expect(untilReady.last?.contains("READY=1") == true, "no READY: \(untilReady) \(daemon.output)")
        // Then the status follows the connection.
        let connected = notify.collect(seconds: 10) { $0.contains("STATUS=connected to 127.0.0.1:\(broker.port)") }
        #expect(connected.last?.hasPrefix("STATUS=connected to 127.0.0.1:\(broker.port)") == true, "\(connected)")
        #expect(
            FakeJournal.shared?.wait(seconds: 2) {
                $0["MESSAGE"] == "connected to broker" && $0["BROKER"] == "127.0.0.1:\(broker.port)"
            } != nil)

        // Watchdog pings every 200 ms (half of WATCHDOG_USEC) and a status line every 5 s.
        let second = notify.collect(seconds: 6) { $0.hasPrefix("STATUS=") }
        #expect(second.filter { $0 == "WATCHDOG=1" }.count >= 10, "\(second)")
        #expect(second.last?.contains("stations;") == true)

        daemon.signal(SIGHUP)
        let reload = notify.collect(seconds: 5) { $0.contains("READY=1") }.filter {
            $0 != "WATCHDOG=1" && !$0.hasPrefix("STATUS=")
        }
        #expect(reload.first == "RELOADING=1", "\(reload)")
        #expect(reload.last?.hasPrefix("READY=1") == true)

        daemon.signal(SIGTERM)
        let stop = notify.collect(seconds: 5) { $0 == "STOPPING=1" }
        #expect(stop.last == "STOPPING=1")
        #expect(daemon.wait(seconds: 10) == 0, "exit status; output: \(daemon.output)")
        let inbox = Inbox()
        let watcher = try client(broker, id: "t-status", inbox: inbox, subscribe: "aq/aqcast/status")
        defer { withExtendedLifetime(watcher) {} }
        #expect(
            inbox.wait(seconds: 3, topic: "aq/aqcast/status").last.map { String(decoding: $0.payload, as: UTF8.self) }
                == "offline")
    }

    @Test func brokerDownAtStartIsRetriedAndReportedNotFatal() throws {
        let port = freePort()
        let notify = try NotifySocket()
        let daemon = try ChildProcess(
            Shipped.binary,
            [
                "run", "--broker", "127.0.0.1:\(port)", "--model", Shipped.modelPath, "--state-dir",
                temporaryDirectory(),
            ],
            environment: ["NOTIFY_SOCKET": notify.path])
        let early = notify.collect(seconds: 7) { $0.hasPrefix("STATUS=reconnecting") }
        #expect(early.last?.hasPrefix("STATUS=reconnecting to 127.0.0.1:\(port)") == true, "\(early)")
        #expect(daemon.wait(seconds: 0.1) == nil, "the daemon died: \(daemon.output)")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 10) == 0)
    }

    @Test func reloadRefusesABadModelAndKeepsForecasting() throws {
        let broker = try Broker()
        let dir = NSTemporaryDirectory() + "aqcast-reload-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = dir + "/model.json"
        try FileManager.default.copyItem(atPath: Shipped.modelPath, toPath: model)
        let config = dir + "/aqcast.toml"
        try "[broker]\nport = \(broker.port)\n[model]\npath = \"\(model)\"\n[forecast]\nhorizon = 8\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let notify = try NotifySocket()
        let daemon = try ChildProcess(
            Shipped.binary, ["run", "--config", config, "--state-dir", dir], environment: ["NOTIFY_SOCKET": notify.path]
        )
        #expect(
            notify.collect(seconds: 10) { $0.contains("STATUS=connected to") }.last?.contains("STATUS=connected to")
                == true)

        // A truncated model file, then SIGHUP: refused, logged, the old model kept.
        let text = try String(contentsOfFile: model, encoding: .utf8)
        try String(text.prefix(text.count / 3)).write(toFile: model, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        let refused = FakeJournal.shared?.wait(seconds: 5) {
            ($0["MESSAGE"] ?? "").hasPrefix(
                "reload refused, keeping the running configuration and model: model file \(model): not valid JSON")
        }
        #expect(refused != nil, "no refusal in the journal")
        #expect(notify.collect(seconds: 5) { $0.contains("READY=1") }.last?.contains("READY=1") == true)

        // A config with a bad value is refused the same way.
        try "[forecast]\nhorizon = 99\n".write(toFile: config, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(
            FakeJournal.shared?.wait(seconds: 5) {
                ($0["MESSAGE"] ?? "").contains("key forecast.horizon: must be 1...48, got 99")
            } != nil)

        // Still forecasting with the old model and settings.
        let inbox = Inbox()
        let subscriber = try client(broker, id: "t-reload-sub", inbox: inbox, subscribe: "aq/+/+")
        defer { withExtendedLifetime(subscriber) {} }
        let publisher = try client(broker, id: "t-reload-pub")
        let station = "reload-\(UUID().uuidString.prefix(6))"
        for h in 0..<24 {
            try publisher.publish(topic: "aq/\(station)/reading", payload: payload(hour: base + Int64(h)), qos: 1)
        }
        let forecasts = inbox.wait(seconds: 10, topic: "aq/\(station)/forecast")
        #expect(forecasts.count == 1)
        let hours =
            forecasts.first.flatMap { try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any] }?[
                "hours"] as? [Any]
        #expect(hours?.count == 8)
        // The station's retained state went from waiting (with the reason) to forecasting.
        let states = inbox.wait(seconds: 3, topic: "aq/\(station)/state", count: 24)
            .map { String(decoding: $0.payload, as: UTF8.self) }
        #expect(
            states.first?.contains("\"reason\":\"window incomplete: forecasts start at ") == true, "\(states.prefix(2))"
        )
        #expect(states.last == "{\"station\":\"\(station)\",\"state\":\"forecasting\",\"model_inputs\":\"all\"}")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 10) == 0)
    }

    @Test func restartRebuildsWindowsFromTheReadingLogWithoutWarmUp() throws {
        let broker = try Broker()
        let state = temporaryDirectory()
        let station = "log-\(UUID().uuidString.prefix(6))"
        let inbox = Inbox()
        let subscriber = try client(broker, id: "t-log-sub", inbox: inbox, subscribe: "aq/+/forecast")
        defer { withExtendedLifetime(subscriber) {} }
        let publisher = try client(broker, id: "t-log-pub")

        var daemon = try startDaemon(broker, stateDir: state)
        #expect(connectedLine(broker) != nil, "the daemon did not connect")
        for h in 0..<30 {
            try publisher.publish(topic: "aq/\(station)/reading", payload: payload(hour: base + Int64(h)), qos: 1)
        }
        #expect(inbox.wait(seconds: 10, topic: "aq/\(station)/forecast", count: 7).count == 7)
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 10) == 0)
        #expect(try ReadingLog(path: state + "/readings.sqlite").count() == 30)

        // Restarted: the window comes back from the log and a forecast goes out at once.
        let before = inbox.on("aq/\(station)/forecast").count
        daemon = try startDaemon(broker, stateDir: state)
        let rebuilt = inbox.wait(seconds: 10, topic: "aq/\(station)/forecast", count: before + 1)
        #expect(rebuilt.count == before + 1)
        let json = rebuilt.last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any] }
        #expect(json?["based_on_hour"] as? String == isoHour(base + 29))
        // The next hour is forecast straight away, with no 24-hour warm-up.
        try publisher.publish(topic: "aq/\(station)/reading", payload: payload(hour: base + 30), qos: 1)
        let next = inbox.wait(seconds: 10, topic: "aq/\(station)/forecast", count: before + 2)
        #expect(next.count == before + 2)
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 10) == 0)
        #expect(try ReadingLog(path: state + "/readings.sqlite").count() == 31)
    }

    /// kill -9 in the middle of a fast replay (20 stations, about 1,000 readings/s), the rest
    /// published while it is down, then a restart: at most one 200 ms commit batch is lost,
    /// the windows come back from the log, and every station's forecasts reach the last hour.
    @Test func killedMidReplayLosesAtMostOneCommitBatchAndResumes() throws {
        let broker = try Broker()
        let state = temporaryDirectory()
        let inbox = Inbox()
        let subscriber = try client(broker, id: "t-kill-sub", inbox: inbox, subscribe: "aq/+/forecast")
        defer { withExtendedLifetime(subscriber) {} }
        let publisher = try client(broker, id: "t-kill-pub", clean: false)
        var daemon = try startDaemon(broker, stateDir: state)
        #expect(connectedLine(broker) != nil, "the daemon did not connect")
        let tag = UUID().uuidString.prefix(6)
        let stations = (0..<20).map { "kill\($0)-\(tag)" }
        let hours = 60
        for h in 0..<hours {
            if h == 35 {
                daemon.signal(SIGKILL)
                #expect(daemon.wait(seconds: 5) == 128 + SIGKILL)
            }
            for s in stations {
                try publisher.publish(topic: "aq/\(s)/reading", payload: payload(hour: base + Int64(h)), qos: 1)
            }
            usleep(20_000)
        }
        daemon = try startDaemon(broker, stateDir: state)
        for s in stations {
            let last = inbox.wait(seconds: 15, topic: "aq/\(s)/forecast", count: 1).last
            let json = last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any] }
            #expect(
                json?["based_on_hour"] as? String == isoHour(base + Int64(hours - 1))
                    || {
                        // Still catching up: wait for the last hour's forecast. On a loaded
                        // machine the restarted daemon's 500 queued readings and their
                        // forecasts can take tens of seconds to reach this subscriber.
                        let deadline = Date().addingTimeInterval(90)
                        while Date() < deadline {
                            let m = inbox.on("aq/\(s)/forecast").last
                            let j = m.flatMap {
                                try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any]
                            }
                            if j?["based_on_hour"] as? String == isoHour(base + Int64(hours - 1)) { return true }
                            usleep(50_000)
                        }
                        return false
                    }(),
                "station \(s) never forecast from its last hour; its last forecast: \(String(decoding: inbox.on("aq/\(s)/forecast").last?.payload.prefix(120) ?? [], as: UTF8.self)); its journal: \(FakeJournal.shared?.all().filter { $0["STATION"] == s }.map { "\($0["MESSAGE"] ?? "") \($0["HOUR"] ?? "")" }.suffix(12) ?? [])"
            )
        }
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 10) == 0)
        let logged = try ReadingLog(path: state + "/readings.sqlite").all().filter { $0.station.hasSuffix("-\(tag)") }
        let distinct = Set(logged.map { "\($0.station) \($0.hour)" }).count
        let lost = stations.count * hours - distinct
        print(
            "kill -9 mid-replay: \(lost) of \(stations.count * hours) readings lost, \(logged.count - distinct) logged twice"
        )
        #expect(lost <= 200, "lost \(lost) readings; one 200 ms batch at 1,000 readings/s is 200")
    }

    @Test func brokerRestartedMidStreamLosesNoAcceptedReading() throws {
        let broker = try Broker()
        let daemon = try startDaemon(broker)
        #expect(connectedLine(broker) != nil, "the daemon did not connect")
        #expect(try daemonTakesReadings(broker), "the daemon took no reading: \(daemon.output)")
        let station = "restart-\(UUID().uuidString.prefix(6))"
        let publisher = try client(broker, id: "t-restart-pub", clean: false)
        let total = 200
        for h in 0..<100 {
            try publisher.publish(topic: "aq/\(station)/reading", payload: payload(hour: base + Int64(h)), qos: 1)
        }
        #expect(try handledEverythingSent(by: publisher, broker), "the first hundred were not handled")
        try broker.restart(downFor: 1.0)
        // Published while the daemon may not have reconnected yet: the broker queues them in
        // the daemon's persistent session; those sent while the broker was down are resent by
        // the publisher's library.
        for h in 100..<total {
            try publisher.publish(topic: "aq/\(station)/reading", payload: payload(hour: base + Int64(h)), qos: 1)
        }
        let reconnected = FakeJournal.shared?.wait(seconds: 15) {
            $0["MESSAGE"] == "connected to broker" && $0["BROKER"] == "127.0.0.1:\(broker.port)"
                && $0["SESSION_PRESENT"] == "true"
        }
        #expect(reconnected != nil, "the daemon did not reconnect with its session: \(daemon.output)")
        // Until every hour's forecast is out (a debug build catching up may need more than a
        // fixed pause), then a moment for anything beyond them.
        func published() -> Int {
            FakeJournal.shared?.all().filter { $0["MESSAGE"] == "forecast published" && $0["STATION"] == station }.count
                ?? 0
        }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, published() < total - 23 { usleep(100_000) }
        sleep(1)
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 10) == 0)
        let stopped = FakeJournal.shared?.all().last {
            $0["MESSAGE"] == "stopped" && $0["_PID"] == nil && $0["READINGS"] != nil
        }
        let forecastsSeen = published()
        #expect(
            forecastsSeen == total - 23,
            "forecasts from \(forecastsSeen) hours, expected \(total - 23); \(String(describing: stopped))")
    }
}
