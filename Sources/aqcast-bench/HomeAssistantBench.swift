import AQCastTestSupport
import AirQuality
import ArgumentParser
import CommandSupport
import Foundation
import MQTTClient
import Synchronization

/// Home Assistant's `online` flood at scale: a daemon with discovery on and many stations
/// restored from its log is sent ten `online` messages at once; how long a reading sent right
/// after them waits for its forecast, against the same wait without them in the same run
/// (the reference), and the daemon's resident memory before and after.
struct HomeAssistantBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "homeassistant",
        abstract: "Forecast delay and memory while ten Home Assistant onlines are answered, against a quiet reading.")

    @Option(help: "Stations in the reading log, each announced to Home Assistant.")
    var stations: Int = 20000

    @Option(help: "Model file (default: the shipped model).")
    var model: String?

    func run() throws {
        let modelPath = try model ?? ShippedFile.model()
        let root = NSTemporaryDirectory() + "aqcast-habench-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let newest = try writeBenchLog(root + "/readings.sqlite", stations: stations, hours: 24).newest
        try "[homeassistant]\nenabled = true\n".write(toFile: root + "/aqcast.toml", atomically: true, encoding: .utf8)
        let broker = try Broker(settings: benchBrokerSettings)
        defer { broker.stop() }
        let configs = Counter()
        let arrivals = Mutex<[String: [UInt64]]>([:])
        let subscriber = try connectBench(broker.port, id: "bench-ha", subscribe: "#") { m in
            if m.topic.hasPrefix("homeassistant/sensor/"), m.topic.hasSuffix("/config") { configs.add() }
            if m.topic.hasSuffix("/forecast") {
                let now = DispatchTime.now().uptimeNanoseconds
                arrivals.withLock { $0[m.topic, default: []].append(now) }
            }
        }
        defer { subscriber.stop() }
        let daemon = try launchDaemon(
            port: broker.port, modelPath: modelPath, state: root, extra: ["--config", root + "/aqcast.toml"])
        defer {
            kill(daemon.processIdentifier, SIGKILL)
            daemon.waitUntilExit()
        }
        // Five configs a station: 1, 3 and 8 hours ahead, the state and the gain.
        let perAnnouncement = 5 * stations
        guard configs.wait(for: perAnnouncement, seconds: 300) else {
            throw CommandFailure("\(configs.value) of \(perAnnouncement) configs after the restart")
        }
        Thread.sleep(forTimeInterval: 2)
        let publisher = try connectBench(broker.port, id: "bench-ha-pub", subscribe: nil) { _ in }
        defer { publisher.stop() }
        /// Seconds from publishing `station`'s next reading to its forecast.
        func delay(_ station: String, before: () throws -> Void = {}) throws -> Double {
            let topic = "aq/\(station)/forecast"
            let seen = arrivals.withLock { $0[topic]?.count ?? 0 }
            try before()
            let start = DispatchTime.now().uptimeNanoseconds
            let reading = """
                {"time": \((newest + 1) * 3600 + 60), "pm25": 55, "dew_point": -5, "temperature": 3, \
                "pressure": 1016, "wind_direction": "NW", "wind_speed": 2.2}
                """
            try publisher.publish(topic: "aq/\(station)/reading", payload: Array(reading.utf8), qos: 1)
            let deadline = Date().addingTimeInterval(300)
            while Date() < deadline {
                if let t = arrivals.withLock({ $0[topic].flatMap { $0.count > seen ? $0[seen] : nil } }) {
                    return Double(t - start) / 1e9
                }
                usleep(1000)
            }
            throw CommandFailure("no forecast for \(station) within 300 s")
        }
        let pid = daemon.processIdentifier
        let reference = try delay("s0")
        let residentBefore = residentBytes(pid: pid)
        report("\(stations) stations announced; reference: a reading's forecast after \(formatFixed(reference, 4)) s")
        report("resident before: \(residentBefore / 1_048_576) MiB")
        let flooded = try delay("s1") {
            for _ in 0..<10 {
                try publisher.publish(topic: "homeassistant/status", payload: Array("online".utf8), qos: 1)
            }
        }
        report("after 10 onlines: a reading's forecast after \(formatFixed(flooded, 4)) s")
        // And one sent while the configs are going out (the announcement starts 2 s after them).
        _ = configs.wait(for: perAnnouncement + 1, seconds: 60)
        let during = try delay("s2")
        let sentBy = configs.value - perAnnouncement
        report(
            "during the announcement (\(sentBy) of \(perAnnouncement) configs out): a reading's forecast after "
                + "\(formatFixed(during, 4)) s")
        let announced = configs.wait(for: 2 * perAnnouncement, seconds: 600)
        let after = residentBytes(pid: pid)
        Thread.sleep(forTimeInterval: 5)
        let again = configs.value - perAnnouncement
        report(
            "configs published again: \(again) (\(formatFixed(Double(again) / Double(perAnnouncement), 2)) announcements)"
                + (announced ? "" : ", the announcement did not finish within 600 s"))
        report("resident after: \(after / 1_048_576) MiB, peak \(peakResidentBytes(pid: pid) / 1_048_576) MiB")
        report("ratio flooded/reference=\(formatFixed(flooded / reference, 2))")
        report("ratio during/reference=\(formatFixed(during / reference, 2))")
    }
}

/// The peak resident memory of a process (VmHWM in /proc), in bytes.
func peakResidentBytes(pid: Int32) -> Int {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
        let kb = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
    else { return 0 }
    return kb * 1024
}
