import AQCastTestSupport
import AirQuality
import Foundation
import MQTTClient
import ReadingLog
import Synchronization
import Testing

/// Messages a test client received, by topic.
final class Inbox: Sendable {
    private let messages = Mutex<[MQTTMessage]>([])

    func add(_ m: MQTTMessage) { messages.withLock { $0.append(m) } }
    func on(_ topic: String) -> [MQTTMessage] { messages.withLock { $0.filter { $0.topic == topic } } }
    func count(where holds: (MQTTMessage) -> Bool) -> Int { messages.withLock { $0.count(where: holds) } }

    func wait(seconds: Double, topic: String, count: Int = 1) -> [MQTTMessage] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, on(topic).count < count { usleep(20_000) }
        return on(topic)
    }
}

/// A real MQTT client of the test's own, to publish readings and watch forecasts.
func client(_ broker: Broker, id: String, inbox: Inbox? = nil, subscribe: String? = nil, clean: Bool = true) throws
    -> MQTTConnection
{
    let connections = Mutex(0)
    let c = try MQTTConnection(
        settings: MQTTSettings(
            host: "127.0.0.1", port: broker.port, clientID: id, cleanSession: clean,
            reconnectDelaySeconds: (1, 2)),
        onMessage: { inbox?.add($0) },
        onEvent: { if case .connected = $0 { connections.withLock { $0 += 1 } } })
    if let subscribe { try c.subscribe(subscribe) }
    try c.start()
    // Until the broker has the connection (and the subscription): what is published from then
    // on reaches this client.
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline,
        connections.withLock({ $0 }) == 0 || (subscribe != nil && c.acknowledgedSubscriptions == 0)
    {
        usleep(5_000)
    }
    return c
}

/// Whether the daemon takes readings from `broker` within `seconds`. The connected line does
/// not say so: the daemon subscribes after it connects, and a busy machine can delay the
/// subscription past a test's first messages. A probe station's reading is sent, on a new
/// station each time, until that station's state comes back; accepted readings spend none of
/// the journal's budget for refusals.
func daemonTakesReadings(_ broker: Broker, seconds: Double = 20) throws -> Bool {
    let inbox = Inbox()
    let tag = "probe\(UUID().uuidString.prefix(6).lowercased())"
    let watcher = try client(broker, id: "t-\(tag)-sub", inbox: inbox, subscribe: "aq/+/state")
    let publisher = try client(broker, id: "t-\(tag)-pub")
    defer { withExtendedLifetime((watcher, publisher)) {} }
    let hour = Int64(Date().timeIntervalSince1970) / 3600
    let deadline = Date().addingTimeInterval(seconds)
    var sent = 0
    while Date() < deadline {
        try publisher.publish(topic: "aq/\(tag)-\(sent)/reading", payload: payload(hour: hour), qos: 1)
        sent += 1
        let next = Date().addingTimeInterval(0.5)
        while Date() < next {
            if (0..<sent).contains(where: { !inbox.on("aq/\(tag)-\($0)/state").isEmpty }) { return true }
            usleep(20_000)
        }
    }
    return false
}

/// Whether the daemon has handled, within `seconds`, everything `publisher` sent before this
/// call: a reading for a fresh probe station goes out through the same connection, and the
/// broker delivers one connection's messages in order to the daemon, which handles them in
/// order on its MQTT thread, so once the probe's state comes back the messages before it were
/// handled. The condition wait instead of a fixed pause after a burst.
func handledEverythingSent(by publisher: MQTTConnection, _ broker: Broker, seconds: Double = 20) throws -> Bool {
    let inbox = Inbox()
    let probe = "drain\(UUID().uuidString.prefix(6).lowercased())"
    let watcher = try client(broker, id: "t-\(probe)-sub", inbox: inbox, subscribe: "aq/\(probe)/state")
    defer { withExtendedLifetime(watcher) {} }
    let hour = Int64(Date().timeIntervalSince1970) / 3600
    try publisher.publish(topic: "aq/\(probe)/reading", payload: payload(hour: hour), qos: 1)
    return !inbox.wait(seconds: seconds, topic: "aq/\(probe)/state").isEmpty
}

/// A fresh folder for a daemon's state (its reading log).
func temporaryDirectory() -> String {
    let dir = NSTemporaryDirectory() + "aqcast-state-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func startDaemon(
    _ broker: Broker, notify: NotifySocket? = nil, environment: [String: String] = [:],
    stateDir: String? = nil, extra: [String] = [], logLevel: String? = "debug"
) throws -> ChildProcess {
    var env = environment
    if let notify { env["NOTIFY_SOCKET"] = notify.path }
    return try ChildProcess(
        Shipped.binary,
        [
            "run", "--broker", "127.0.0.1:\(broker.port)", "--model", Shipped.modelPath,
            "--state-dir", stateDir ?? temporaryDirectory(),
            // Many daemons run at once here: none listens for Prometheus unless `extra` says.
            "--metrics-listen", "",
        ] + (logLevel.map { ["--log-level", $0] } ?? []) + extra,
        environment: env)
}

let base: Int64 = 385_000

/// Topics as the daemon writes them into the journal (control characters escaped).
func asJournalWritesIt(_ s: String) -> String {
    String(
        s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "\\x\(String($0.value, radix: 16))" : String($0) }
            .joined().prefix(200))
}

/// The daemon's journal line saying it connected to `broker`, once it is there.
func connectedLine(_ broker: Broker, seconds: Double = 10) -> [String: String]? {
    FakeJournal.shared?.wait(seconds: seconds) {
        $0["MESSAGE"] == "connected to broker" && $0["BROKER"] == "127.0.0.1:\(broker.port)"
    }
}
