import AQCastTestSupport
import AirQuality
import ArgumentParser
import CommandSupport
import ForecastDaemon
import Foundation
import MQTTClient
import Synchronization
import Training

struct DaemonBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract:
            "End to end through a private mosquitto: the daemon's sustained rate against the broker's pass-through to a plain subscriber, reading-to-forecast latency at a fixed rate, and memory per station."
    )

    @Option(help: "Stations publishing readings.")
    var stations: Int = 1000

    @Option(help: "Hours of readings per station in the throughput runs (the first 23 only fill the window).")
    var hours: Int = 48

    @Option(help: "Readings per second in the latency run.")
    var rate: Int = 1000

    @Option(help: "Seconds of the latency run.")
    var seconds: Int = 10

    @Option(help: "Stations held in memory for the memory figure (in process, no broker).")
    var memoryStations: Int = 100_000

    @Option(help: "Model file (default: the shipped model).")
    var model: String?

    func run() throws {
        let broker = try Broker(settings: benchBrokerSettings)
        defer { broker.stop() }
        let modelPath = try model ?? ShippedFile.model()
        let file = try ModelFile.load(path: modelPath)
        let base: Int64 = 385_000
        func payload(_ hour: Int64) -> [UInt8] {
            Array(
                "{\"time\":\(hour * 3600),\"pm25\":\(40 + hour % 50),\"dew_point\":-5,\"temperature\":3,\"pressure\":1016,\"wind_direction\":\"NW\",\"wind_speed\":2.2}"
                    .utf8)
        }
        let total = stations * hours

        // 1. The broker alone: every reading to a plain subscriber.
        let plain = Counter()
        let subscriber = try connectBench(broker.port, id: "bench-plain", subscribe: "aq/+/reading") { _ in plain.add()
        }
        let publisher = try connectBench(broker.port, id: "bench-pub", subscribe: nil) { _ in }
        /// Publishes every station's hours, hour by hour, under `aq/<prefix><n>/reading`.
        func publishAll(prefix: String) throws {
            for h in 0..<hours {
                for s in 0..<stations {
                    try publisher.publish(topic: "aq/\(prefix)\(s)/reading", payload: payload(base + Int64(h)), qos: 1)
                }
            }
        }
        let start = Date()
        try publishAll(prefix: "s")
        guard plain.wait(for: total, seconds: 300) else {
            throw CommandFailure("plain subscriber got \(plain.value) of \(total)")
        }
        let plainRate = Double(total) / Date().timeIntervalSince(start)
        subscriber.stop()
        report("broker to a plain subscriber: \(total) readings, \(formatFixed(plainRate, 0)) readings/s")

        // Forecasts of both runs below arrive here; each run waits for its own count on top.
        let forecasts = Counter()
        let arrivals = Arrivals()
        let watcher = try connectBench(broker.port, id: "bench-forecasts", subscribe: "aq/+/forecast") { m in
            forecasts.add()
            arrivals.record(m)
        }
        defer { watcher.stop() }
        let expected = stations * (hours - 23)
        /// Publishes every station's hours under `aq/<prefix><n>/reading`, waits until each hour
        /// from the 24th on is answered on a forecast topic, and returns readings per second.
        func answeredRate(prefix: String, by answerer: String) throws -> Double {
            let counted = forecasts.value
            let start = Date()
            try publishAll(prefix: prefix)
            guard forecasts.wait(for: counted + expected, seconds: 600) else {
                throw CommandFailure("the \(answerer) answered \(forecasts.value - counted) of \(expected) hours")
            }
            return Double(total) / Date().timeIntervalSince(start)
        }

        // 2. The ceiling: a relay that does on the wire what the daemon does (takes every reading
        // at QoS 1 and answers each station's hours from the 24th on with a retained QoS 1
        // message the size of a real forecast) and nothing else. No daemon can pass more
        // readings through this broker on this machine.
        let canned = try cannedForecast(model: file, payload: payload, base: base)
        let relay = Relay(answer: canned)
        let relayConnection = try connectBench(broker.port, id: "bench-relay", subscribe: "aq/+/reading") { m in
            relay.take(m)
        }
        relay.connection = relayConnection
        let relayRate = try answeredRate(prefix: "r", by: "relay")
        relayConnection.stop()
        report(
            "relay (the daemon's traffic without its work): \(total) readings, \(expected) answers, \(formatFixed(relayRate, 0)) readings/s"
        )

        // 3. The daemon: the same readings, each hour from the 24th on answered by a forecast.
        let daemon = try launchDaemon(port: broker.port, modelPath: modelPath)
        // Children of this async command inherit its blocked signals; end them with SIGKILL.
        defer {
            kill(daemon.processIdentifier, SIGKILL)
            daemon.waitUntilExit()
        }
        Thread.sleep(forTimeInterval: 1.5)
        let daemonRate = try answeredRate(prefix: "t", by: "daemon")
        report("daemon: \(total) readings, \(expected) forecasts, \(formatFixed(daemonRate, 0)) readings/s")
        report(
            "ratio daemon/plain=\(formatFixed(daemonRate / plainRate, 2)) relay/plain=\(formatFixed(relayRate / plainRate, 2)) daemon/relay=\(formatFixed(daemonRate / relayRate, 2))"
        )

        // 4. Latency at a fixed rate: stations already warm, one reading each completes an hour.
        let paced = rate * seconds
        let sent = Sent()
        let latencyStart = forecasts.value
        let clock = ContinuousClock()
        let begin = clock.now
        for i in 0..<paced {
            let s = i % stations
            let h = base + Int64(hours + i / stations)
            let due = begin.advanced(by: .seconds(Double(i) / Double(rate)))
            if due > clock.now {
                Thread.sleep(forTimeInterval: Double((due - clock.now).components.attoseconds) / 1e18)
            }
            sent.record(station: "t\(s)", hour: h)
            try publisher.publish(topic: "aq/t\(s)/reading", payload: payload(h), qos: 1)
        }
        guard forecasts.wait(for: latencyStart + paced, seconds: 60) else {
            throw CommandFailure("latency run: \(forecasts.value - latencyStart) of \(paced) forecasts")
        }
        let latencies = arrivals.latencies(against: sent).sorted()
        func q(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(p * Double(latencies.count)))] * 1000 }
        report(
            "latency at \(rate) readings/s over \(seconds) s (\(latencies.count) forecasts): "
                + "p50 \(formatFixed(q(0.5), 2)) ms, p99 \(formatFixed(q(0.99), 2)) ms, max \(formatFixed(latencies.last! * 1000, 2)) ms"
        )
        publisher.stop()

        // 5. Memory per station, in process.
        let engine = ForecastEngine(model: file, modelName: "bench", settings: .init())
        let perStation = fillWindows(engine, stations: memoryStations, base: base)
        report(
            "memory: \(memoryStations) stations with full windows, \(formatFixed(perStation, 0)) bytes resident per station"
        )
    }
}

/// A real forecast's bytes, made in process by the engine from one station's first day.
func cannedForecast(model: ModelFile, payload: (Int64) -> [UInt8], base: Int64) throws -> [UInt8] {
    let engine = ForecastEngine(model: model, modelName: "bench", settings: .init())
    for h in 0..<24 {
        let outcome = engine.ingest(
            station: "r0", payload: payload(base + Int64(h)), retained: false, now: Double(base + 30) * 3600)
        if case .accepted(_, _, let forecast?, _, _) = outcome { return forecast.json() }
    }
    throw CommandFailure("the engine made no forecast from 24 hours of readings")
}

/// The bench's stand-in for the daemon on the wire: counts each station's readings and answers
/// from the 24th on, on the connection's network thread as the daemon does.
final class Relay: @unchecked Sendable {
    // @unchecked: `counts` is touched only on the relay connection's network thread, and
    // `connection` is set before the first reading is published.
    let answer: [UInt8]
    var connection: MQTTConnection?
    private var counts: [Substring: Int] = [:]

    init(answer: [UInt8]) { self.answer = answer }

    func take(_ m: MQTTMessage) {
        let station = m.topic.split(separator: "/")[1]
        let n = counts[station, default: 0] + 1
        counts[station] = n
        if n >= 24 { try? connection?.publish(topic: "aq/\(station)/forecast", payload: answer, qos: 1, retain: true) }
    }
}

/// Starts `aqcast run` (the program built beside this one) against a local broker.
func launchDaemon(
    port: Int, modelPath: String, state: String = NSTemporaryDirectory() + "aqcast-bench-state-\(getpid())",
    extra: [String] = []
)
    throws -> Process
{
    do {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: AQCastBench.aqcast)
        p.arguments =
            [
                "run", "--broker", "127.0.0.1:\(port)", "--model", modelPath, "--log-level", "warning", "--state-dir",
                state,
            ] + extra
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }
}

/// Resident memory of a process (this one when `pid` is nil), in bytes, from /proc.
func residentBytes(pid: Int32? = nil) -> Int {
    let path = pid.map { "/proc/\($0)/statm" } ?? "/proc/self/statm"
    let fields = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// A thread-safe count with a wait.
final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
    func wait(for n: Int, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while value < n, Date() < deadline { usleep(2000) }
        return value >= n
    }
}

/// Send times of the paced readings, by station and hour.
final class Sent: Sendable {
    private let times = Mutex<[String: UInt64]>([:])
    func record(station: String, hour: Int64) {
        let t = DispatchTime.now().uptimeNanoseconds
        times.withLock { $0["\(station) \(isoHour(hour))"] = t }
    }
    func time(_ key: String) -> UInt64? { times.withLock { $0[key] } }
}

/// Arrival times of forecasts, by station and the hour they are based on.
final class Arrivals: Sendable {
    private let arrivals = Mutex<[(String, UInt64)]>([])
    func record(_ m: MQTTMessage) {
        let t = DispatchTime.now().uptimeNanoseconds
        let station = m.topic.split(separator: "/")[1]
        let text = String(decoding: m.payload, as: UTF8.self)
        guard let r = text.range(of: "\"based_on_hour\":\"") else { return }
        let hour = text[r.upperBound...].prefix(20)
        arrivals.withLock { $0.append(("\(station) \(hour)", t)) }
    }
    func latencies(against sent: Sent) -> [Double] {
        arrivals.withLock { $0 }.compactMap { key, t in sent.time(key).map { Double(t - $0) / 1e9 } }
    }
}

/// The lines the benches' private mosquitto runs with: no cap on queued messages, 1,000 in
/// flight a client, and replies not held back by Nagle's algorithm.
let benchBrokerSettings = "max_queued_messages 0\nmax_inflight_messages 1000\nset_tcp_nodelay true"

/// Prints a result line at once (standard output may be a pipe).
func report(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
