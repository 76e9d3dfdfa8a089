import AQCastTestSupport
import Foundation
import MQTTClient
import Testing

@testable import ForecastDaemon

/// One daemon per state directory and one broker session per daemon: a second daemon on the
/// same state directory refuses to start; each installation has a client id of its own, kept
/// across restarts; and a client that takes the daemon's session is said in words.
@Suite(.serialized) struct DaemonIdentityTests {
    init() {
        #expect(FakeJournal.shared != nil, "the test journal socket could not be bound")
    }

    @Test func aSecondDaemonOnTheSameStateDirectoryRefusesToStart() throws {
        let broker = try Broker()
        let state = temporaryDirectory()
        let first = try startDaemon(broker, stateDir: state)
        #expect(connectedLine(broker) != nil, "the first daemon did not connect: \(first.output)")
        let second = try startDaemon(broker, stateDir: state)
        #expect(second.wait(seconds: 20) == 78, "\(second.output)")
        #expect(
            second.output.contains("another aqcast daemon (process \(first.pid)) is running on this state directory"),
            "\(second.output)")
        // The first goes on, and once it is gone the state directory is free again.
        #expect(kill(first.pid, 0) == 0 && waitpid(first.pid, nil, WNOHANG) == 0, "\(first.output)")
        first.signal(SIGTERM)
        #expect(first.wait(seconds: 20) == 0, "\(first.output)")
        func connections() -> Int {
            FakeJournal.shared?.all().filter {
                $0["MESSAGE"] == "connected to broker" && $0["BROKER"] == "127.0.0.1:\(broker.port)"
            }.count ?? 0
        }
        let before = connections()
        let third = try startDaemon(broker, stateDir: state)
        #expect(eventually(seconds: 15) { connections() > before }, "\(third.output)")
        third.signal(SIGTERM)
        #expect(third.wait(seconds: 20) == 0, "\(third.output)")
    }

    @Test func eachStateDirectoryHasAClientIdOfItsOwnKeptAcrossRestarts() throws {
        let (a, b) = (temporaryDirectory(), temporaryDirectory())
        try FileManager.default.createDirectory(atPath: a, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: b, withIntermediateDirectories: true)
        let idA = ClientIdentity.resolve(stateDirectory: a)
        let idB = ClientIdentity.resolve(stateDirectory: b)
        #expect(idA.hasPrefix("aqcast-") && idA.utf8.count == 23, "\(idA)")
        #expect(idA != idB)
        #expect(ClientIdentity.resolve(stateDirectory: a) == idA, "not stable across starts")
        // A state directory an earlier version used (a reading log, no client-id file) keeps the
        // old default, and with it the broker's session and what is queued there.
        let old = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: old, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: old + "/readings.sqlite", contents: Data()))
        #expect(ClientIdentity.resolve(stateDirectory: old) == "aqcast")
        #expect(ClientIdentity.resolve(stateDirectory: old) == "aqcast")
        // A configured id is used as it is.
        var c = DaemonConfiguration()
        c.stateDirectory = a
        #expect(try ForecastService.mqttSettings(c, environment: [:]).clientID == idA)
        c.clientID = "site-7"
        #expect(try ForecastService.mqttSettings(c, environment: [:]).clientID == "site-7")
    }

    @Test func aClientThatTakesTheDaemonsSessionIsSaidInWords() throws {
        let broker = try Broker()
        let state = temporaryDirectory()
        let daemon = try startDaemon(broker, stateDir: state)
        #expect(connectedLine(broker) != nil, "the daemon did not connect: \(daemon.output)")
        let id = try String(contentsOfFile: state + "/client-id", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let thief = try client(broker, id: id)
        defer { thief.stop() }
        #expect(id.hasPrefix("aqcast-"), "a new state directory got \(id)")
        let said = FakeJournal.shared?.wait(seconds: 30) {
            ($0["MESSAGE"] ?? "").contains("most likely another client uses this daemon's client id \(id)")
        }
        #expect(said?["PRIORITY"] == "4", "\(daemon.output)")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 20) == 0, "\(daemon.output)")
    }

    /// A password file that cannot be read is a configuration error (exit 78, which the unit
    /// does not restart on), said before the daemon starts, not a failure at run time (exit 1,
    /// restarted every 5 s).
    @Test func anUnreadablePasswordFileStopsStartUpAsAConfigurationError() throws {
        let broker = try Broker()
        let state = temporaryDirectory()
        let config = state + "/aqcast.toml"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try "[broker]\npassword_file = \"\(state)/missing-password\"\n".write(
            toFile: config, atomically: true, encoding: .utf8)
        let daemon = try startDaemon(broker, stateDir: state, extra: ["--config", config])
        #expect(daemon.wait(seconds: 20) == 78, "\(daemon.output)")
        let said = FakeJournal.shared?.wait(seconds: 5) {
            ($0["MESSAGE"] ?? "").hasPrefix(
                "cannot start: \(state)/missing-password, key broker.password_file: cannot be read")
        }
        #expect(said?["PRIORITY"] == "2", "\(daemon.output)")
    }

    /// `[log] level` is applied by a reload (SIGHUP), as the sample configuration says.
    @Test func aReloadAppliesTheLogLevel() throws {
        let broker = try Broker()
        let state = temporaryDirectory()
        let config = state + "/aqcast.toml"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try "[log]\nlevel = \"info\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try startDaemon(broker, stateDir: state, extra: ["--config", config], logLevel: nil)
        #expect(connectedLine(broker) != nil, "the daemon did not connect: \(daemon.output)")
        let station = "lvl\(UUID().uuidString.prefix(6).lowercased())"
        let inbox = Inbox()
        let subscriber = try client(broker, id: "t-lvl-sub", inbox: inbox, subscribe: "aq/\(station)/forecast")
        defer { withExtendedLifetime(subscriber) {} }
        let publisher = try client(broker, id: "t-lvl-pub")
        func debugLines() -> Int {
            FakeJournal.shared?.all().filter { $0["MESSAGE"] == "forecast published" && $0["STATION"] == station }
                .count ?? 0
        }
        for h in 0..<25 {
            try publisher.publish(topic: "aq/\(station)/reading", payload: payload(hour: base + Int64(h)), qos: 1)
        }
        #expect(inbox.wait(seconds: 15, topic: "aq/\(station)/forecast", count: 2).count == 2)
        #expect(debugLines() == 0, "debug lines at level info")
        try "[log]\nlevel = \"debug\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(FakeJournal.shared?.wait(seconds: 15) { $0["MESSAGE"] == "reloaded" } != nil, "\(daemon.output)")
        try publisher.publish(topic: "aq/\(station)/reading", payload: payload(hour: base + 25), qos: 1)
        #expect(inbox.wait(seconds: 15, topic: "aq/\(station)/forecast", count: 3).count == 3)
        #expect(eventually(seconds: 10) { debugLines() == 1 }, "\(debugLines()) debug lines after the reload")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 20) == 0, "\(daemon.output)")
    }

    /// A metrics endpoint on an address other machines reach is said at warning level: it has no
    /// authentication.
    @Test func aMetricsEndpointReachableFromTheNetworkIsAWarning() throws {
        #expect(DaemonConfiguration.isLoopback("127.0.0.1") && DaemonConfiguration.isLoopback("127.1.2.3"))
        #expect(DaemonConfiguration.isLoopback("::1") && DaemonConfiguration.isLoopback("localhost"))
        #expect(!DaemonConfiguration.isLoopback("0.0.0.0") && !DaemonConfiguration.isLoopback("::"))
        #expect(!DaemonConfiguration.isLoopback("127.0.0.1.example.org") && !DaemonConfiguration.isLoopback("10.0.0.1"))
        let broker = try Broker()
        let port = freePort()
        let daemon = try startDaemon(broker, extra: ["--metrics-listen", "0.0.0.0:\(port)"])
        let said = FakeJournal.shared?.wait(seconds: 15) {
            ($0["MESSAGE"] ?? "").hasPrefix(
                "the metrics endpoint listens on 0.0.0.0:\(port), reachable from the network")
        }
        #expect(said?["PRIORITY"] == "4", "\(daemon.output)")
        // The warning is said while the configuration is read, before the signal handlers are
        // in place: stopped then, the daemon would die of SIGTERM (143) rather than stop.
        #expect(connectedLine(broker) != nil, "\(daemon.output)")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 20) == 0, "\(daemon.output)")
    }

    /// A model written before weights checksums (format 2 without one) still runs, and the
    /// journal says at warning level that its weights cannot be checked.
    @Test func aModelWithoutAChecksumRunsWithAWarning() throws {
        var object = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Shipped.modelPath)))
                as? [String: Any])
        #expect(object["version"] as? Int == 2 && object["weights_checksum"] != nil)
        object["weights_checksum"] = nil
        let state = temporaryDirectory()
        let path = state + "/unchecked.json"
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        let broker = try Broker()
        let daemon = try startDaemon(broker, stateDir: state, extra: ["--model", path])
        let said = FakeJournal.shared?.wait(seconds: 15) {
            $0["MESSAGE"] == "model file unchecked.json: format version 2 without weights_checksum: a changed "
                + "weight cannot be found; a retrain writes the model anew with one"
        }
        #expect(said?["PRIORITY"] == "4", "\(daemon.output)")
        #expect(connectedLine(broker) != nil, "the daemon did not run on the model: \(daemon.output)")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 20) == 0, "\(daemon.output)")
    }
}
