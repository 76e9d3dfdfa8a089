import AQCastTestSupport
import AirQuality
import ArgumentParser
import CommandSupport
import Foundation
import MQTTClient
import ReadingLog
import Synchronization
import Training

/// A community network in real time: AirGradient-like monitors (PM2.5, temperature, humidity,
/// one message a minute, stamped on arrival) made from the six shipped multi-site stations,
/// half of them with a shared weather station, through a private broker into `aqcast run`.
/// Each station's previous 23 hours are put in the reading log first, as after a day of
/// running, so the first hour already forecasts. Prints, for each hour that ends, the stations
/// forecast, the models used and the daemon's resident memory and CPU time in that hour.
struct CommunityBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "community",
        abstract: "Monitors sending a reading a minute, with and without a weather station, for whole hours.")

    @Option(help: "Monitors.")
    var stations = 50

    @Option(help: "Hour boundaries to wait for (the first hour is partial).")
    var hours = 2

    /// The data hour the first logged hour is taken from (validation months).
    static let dataStart = daysFromCivil(year: 2015, month: 11, day: 1) * 24

    func run() throws {
        let sites = try ShippedFile.histories().filter { $0.contains("multisite") }.map {
            try HistoryFile.readings(path: $0).readings
        }
        let byHour = sites.map { Dictionary($0.map { ($0.hour, $0) }, uniquingKeysWith: { a, _ in a }) }
        let startHour = hourContaining(Int64(Date().timeIntervalSince1970))
        /// Station i's data for real hour r: its site's reading 3(i/6) days further on, scaled.
        func data(_ i: Int, _ r: Int64) -> Reading? {
            let h = Self.dataStart + (r - startHour) + 23 + Int64(i / sites.count) * 72
            guard var reading = byHour[i % sites.count][h] else { return nil }
            reading.pm25 *= 0.8 + 0.05 * Double(i % 7)
            return reading
        }
        func roof(_ r: Int64) -> Reading? {
            byHour[0][Self.dataStart + (r - startHour) + 23]
        }
        let ids = (0..<stations).map { String(format: "ag%02d", $0) }
        let withSource = Set(ids.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))

        let state = NSTemporaryDirectory() + "aqcast-community-\(getpid())"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let log = try ReadingLog(path: state + "/readings.sqlite")
        var entries: [ReadingLog.Entry] = []
        let now = Date().timeIntervalSince1970
        for (i, id) in ids.enumerated() {
            for back in 1...23 {
                let r = startHour - Int64(back)
                guard var d = data(i, r) else { continue }
                d.station = id
                d.time = r * 3600
                if withSource.contains(id), let w = roof(r) {
                    (d.pressure, d.windDirection, d.windSpeed) = (w.pressure, w.windDirection, w.windSpeed)
                } else {
                    (d.pressure, d.windDirection, d.windSpeed) = (.nan, .calm, .nan)
                }
                entries.append(.init(reading: d, arrived: now - Double(back) * 3600))
            }
        }
        try log.append(entries)
        var config = """
            [input.airgradient]
            profile = "airgradient"
            topic = "airgradient/readings/{station}"

            [weather_sources]

            """
        for id in ids where withSource.contains(id) { config += "\(id) = \"roof\"\n" }
        try config.write(toFile: state + "/aqcast.toml", atomically: true, encoding: .utf8)

        let broker = try Broker(settings: benchBrokerSettings)
        defer { broker.stop() }
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: AQCastBench.aqcast)
        daemon.arguments = [
            "run", "--config", state + "/aqcast.toml", "--broker", "127.0.0.1:\(broker.port)", "--log-level",
            "warning", "--state-dir", state,
        ]
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        defer {
            daemon.terminate()
            daemon.waitUntilExit()
        }
        let seen = Mutex<[String: [String: String]]>([:])  // "hour" -> station -> model_inputs
        let listener = try MQTTConnection(
            settings: MQTTSettings(host: "127.0.0.1", port: broker.port, clientID: "community-listen"),
            onMessage: { m in
                guard
                    let json = try? JSONSerialization.jsonObject(with: Data(m.payload)) as? [String: Any],
                    let station = json["station"] as? String, let hour = json["based_on_hour"] as? String,
                    let inputs = json["model_inputs"] as? String
                else { return }
                seen.withLock { $0[hour, default: [:]][station] = inputs }
            }, onEvent: { _ in })
        try listener.subscribe("aq/+/forecast", qos: 1)
        try listener.start()
        let publisher = try MQTTConnection(
            settings: MQTTSettings(host: "127.0.0.1", port: broker.port, clientID: "community-send"),
            onMessage: { _ in }, onEvent: { _ in })
        try publisher.start()
        Thread.sleep(forTimeInterval: 1)
        report(
            "community: \(stations) monitors (\(withSource.count) with weather station 'roof'), a message a minute, from \(isoHour(startHour)); daemon pid \(daemon.processIdentifier)"
        )

        var hourStartCPU = cpuSeconds(daemon.processIdentifier)
        var currentHour = startHour
        var boundaries = 0
        var sent = 0
        var ended: Int64?
        while boundaries < hours {
            let t = Date().timeIntervalSince1970
            let r = hourContaining(Int64(t))
            if r > currentHour {
                // An hour ended: its forecasts come with the next hour's first messages, sent now.
                ended = currentHour
                currentHour = r
            }
            if let w = roof(r) {
                let text =
                    #"{"time": \#(Int64(t)), "dew_point": \#(w.dewPoint), "temperature": \#(w.temperature), "pressure": \#(w.pressure), "wind_direction": "\#(w.windDirection.rawValue)", "wind_speed": \#(w.windSpeed)}"#
                try publisher.publish(topic: "aq/roof/reading", payload: Array(text.utf8), qos: 1)
            }
            for (i, id) in ids.enumerated() {
                guard let d = data(i, r) else { continue }
                let rh =
                    100
                    * exp(17.62 * d.dewPoint / (243.12 + d.dewPoint) - 17.62 * d.temperature / (243.12 + d.temperature))
                let text =
                    #"{"wifi":-50,"serialno":"\#(id)","pm02":\#(formatFixed(d.pm25, 1)),"atmp":\#(formatFixed(d.temperature, 2)),"rhum":\#(formatFixed(min(100, rh), 1))}"#
                try publisher.publish(topic: "airgradient/readings/\(id)", payload: Array(text.utf8), qos: 1)
                sent += 1
            }
            if let hour = ended {
                ended = nil
                boundaries += 1
                Thread.sleep(forTimeInterval: 20)
                let cpu = cpuSeconds(daemon.processIdentifier)
                let forecasts = seen.withLock { $0[isoHour(hour)] ?? [:] }
                var models: [String: Int] = [:]
                for (_, m) in forecasts { models[m, default: 0] += 1 }
                let modelText = models.sorted { $0.key < $1.key }.map { "\($0.value) by \($0.key)" }
                    .joined(separator: ", ")
                report(
                    "hour \(isoHour(hour)): \(forecasts.count) of \(stations) stations forecast (\(modelText)); "
                        + "\(sent) messages sent since the last line; daemon resident \(residentMiB(daemon.processIdentifier)) MiB, "
                        + "CPU \(formatFixed(cpu - hourStartCPU, 2)) s since the last line")
                hourStartCPU = cpu
                sent = 0
            }
            // The next whole minute.
            let next = (Date().timeIntervalSince1970 / 60).rounded(.down) * 60 + 60
            Thread.sleep(forTimeInterval: max(0.1, next - Date().timeIntervalSince1970))
        }
        listener.stop()
        publisher.stop()
    }

    func cpuSeconds(_ pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15.
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func residentMiB(_ pid: Int32) -> String { formatFixed(Double(residentBytes(pid: pid)) / 1_048_576, 1) }
}
