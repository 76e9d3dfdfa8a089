import AQCastTestSupport
import AirQuality
import ArgumentParser
import CommandSupport
import Foundation
import MQTTClient
import ReadingLog
import Training

/// A restart with a full reading log: from process start until every station's first forecast
/// is out, against a reference in the same run, the same daemon started with an empty log until
/// it says `online` (start-up, model load and broker connection with nothing to restore).
struct RestartBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "Seconds from start to the first forecast of every station restored from the reading log.")

    @Option(help: "Stations in the reading log.")
    var stations: Int = 1000

    @Option(help: "Hours of readings per station in the log.")
    var hours: Int = 48

    @Option(help: "Model file (default: the shipped model).")
    var model: String?

    func run() throws {
        let modelPath = try model ?? ShippedFile.model()
        let root = NSTemporaryDirectory() + "aqcast-restartbench-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/full", withIntermediateDirectories: true)
        let count = try writeBenchLog(root + "/full/readings.sqlite", stations: stations, hours: hours).readings
        report("reading log: \(stations) stations x \(hours) hours = \(count) readings")

        let reference = try timeToOnline(modelPath: modelPath, state: root + "/empty")
        report("reference, empty log: online after \(formatFixed(reference, 3)) s")

        let broker = try Broker(settings: benchBrokerSettings)
        defer { broker.stop() }
        let forecasts = Counter()
        let online = Counter()
        let subscriber = try connectBench(broker.port, id: "bench-restart", subscribe: "aq/#") { m in
            if m.topic.hasSuffix("/forecast") { forecasts.add() }
            if m.topic == "aq/aqcast/status", m.payload == Array("online".utf8) { online.add() }
        }
        defer { subscriber.stop() }
        let start = DispatchTime.now().uptimeNanoseconds
        let daemon = try launchDaemon(port: broker.port, modelPath: modelPath, state: root + "/full")
        defer {
            kill(daemon.processIdentifier, SIGKILL)
            daemon.waitUntilExit()
        }
        guard online.wait(for: 1, seconds: 60) else { throw CommandFailure("the daemon never said online") }
        let onlineAt = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard forecasts.wait(for: stations, seconds: 120) else {
            throw CommandFailure("\(forecasts.value) of \(stations) forecasts after a restart")
        }
        let done = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        report(
            "restart with the log: online after \(formatFixed(onlineAt, 3)) s, all \(stations) windows restored "
                + "and first forecasts out after \(formatFixed(done, 3)) s")
        report("ratio restart/reference=\(formatFixed(done / reference, 2))")
    }

    func timeToOnline(modelPath: String, state: String) throws -> Double {
        let broker = try Broker(settings: benchBrokerSettings)
        defer { broker.stop() }
        let online = Counter()
        let subscriber = try connectBench(broker.port, id: "bench-ref", subscribe: "aq/aqcast/status") { m in
            if m.payload == Array("online".utf8) { online.add() }
        }
        defer { subscriber.stop() }
        let start = DispatchTime.now().uptimeNanoseconds
        let daemon = try launchDaemon(port: broker.port, modelPath: modelPath, state: state)
        defer {
            kill(daemon.processIdentifier, SIGKILL)
            daemon.waitUntilExit()
        }
        guard online.wait(for: 1, seconds: 60) else { throw CommandFailure("the reference daemon never said online") }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

/// A reading log of `stations` stations (`s0`, `s1`, ...) with a reading in each of the last
/// `hours` hours before the current one: what a restart rebuilds the windows from. Returns the
/// newest hour (hours since 1970) and the readings written.
func writeBenchLog(_ path: String, stations: Int, hours: Int) throws -> (newest: Int64, readings: Int) {
    let newest = Int64(Date().timeIntervalSince1970) / 3600 - 1
    let log = try ReadingLog(path: path)
    var entries: [ReadingLog.Entry] = []
    for h in 0..<hours {
        for s in 0..<stations {
            let hour = newest - Int64(hours - 1 - h)
            entries.append(
                .init(
                    reading: Reading(
                        station: "s\(s)", time: hour * 3600 + 60, pm25: Double(40 + (s + h) % 60),
                        dewPoint: -5, temperature: 3, pressure: 1016, windDirection: .northWest,
                        windSpeed: 2.2),
                    arrived: Double(hour * 3600 + 61)))
        }
    }
    try log.append(entries)
    return (newest, entries.count)
}

/// A plain client of the benchmarks' own.
func connectBench(_ port: Int, id: String, subscribe: String?, onMessage: @escaping @Sendable (MQTTMessage) -> Void)
    throws -> MQTTConnection
{
    let c = try MQTTConnection(
        settings: MQTTSettings(host: "127.0.0.1", port: port, clientID: id, cleanSession: true, maximumInflight: 1000),
        onMessage: onMessage, onEvent: { _ in })
    if let subscribe { try c.subscribe(subscribe, qos: 1) }
    try c.start()
    Thread.sleep(forTimeInterval: 0.5)
    return c
}
