import AirQuality
import ArgumentParser
import CommandSupport
import Foundation
import MQTTClient
import Synchronization
import Training

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Publish a PRSA CSV hour by hour as one station's live readings (for demos and benchmarks).")

    @Option(help: "PRSA-format CSV (default: the shipped Beijing file).")
    var csv: String?

    @Option(help: "Station id to publish as.")
    var station: String = "beijing"

    @Option(help: "Data hours per real hour: 3600 sends one reading a second.")
    var speed: Double = 3600

    @Option(help: "First hour to send, YYYY-MM-DDTHH (default: the first row).")
    var from: String?

    @Option(help: "How many hours to send (default: to the end of the file).")
    var hours: Int?

    @Option(help: "Broker address HOST:PORT.")
    var broker: String = "127.0.0.1:1883"

    @Option(help: "Topic pattern; {station} is replaced.")
    var topic: String = "aq/{station}/reading"

    @Option(help: "Seconds to wait without a new acknowledgement before giving up on the broker.")
    var acknowledgementWaitSeconds: Int = 10

    func validate() throws {
        guard speed > 0, speed.isFinite else { throw ValidationError("--speed must be a positive number") }
        guard RunCommand.parseBroker(broker) != nil else { throw ValidationError("--broker must be HOST:PORT") }
        if let problem = ReadingDecoder.validateStation(station) { throw ValidationError("--station: \(problem)") }
        if let hours, hours < 1 { throw ValidationError("--hours must be at least 1") }
        guard (1...3600).contains(acknowledgementWaitSeconds) else {
            throw ValidationError("--acknowledgement-wait-seconds must be 1...3600")
        }
    }

    func run() async throws {
        let path = try csv ?? ShippedFile.data()
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw CommandFailure("cannot read \(path)")
        }
        let records = try PRSAReader.parse(String(decoding: bytes, as: UTF8.self), file: path)
        let speeds = PreparedSeries.deaccumulatedWindSpeed(records)
        var start = 0
        if let from {
            guard let i = records.firstIndex(where: { $0.hourLabel == from }) else {
                throw CommandFailure("no row for hour \(from) in \(path)")
            }
            start = i
        }
        let end = min(records.count, start + (hours ?? records.count))
        let (host, port) = RunCommand.parseBroker(broker)!
        // The broker's last word on the connection, for the error if readings are not taken.
        let lastProblem = Mutex<String?>(nil)
        let connected = Mutex(false)
        let connection = try MQTTConnection(
            settings: MQTTSettings(host: host, port: port, clientID: "aqcast-replay-\(getpid())", cleanSession: true),
            onMessage: { _ in },
            onEvent: { event in
                switch event {
                case .refused(_, let reason, _):
                    printError("broker refused the connection: \(reason)")
                    lastProblem.withLock { $0 = "refused: \(reason)" }
                case .disconnected(_, let reason), .failure(let reason):
                    lastProblem.withLock { $0 = reason }
                case .connected:
                    connected.withLock { $0 = true }
                case .fellBackToMQTT311:
                    break
                }
            })
        try connection.start()
        // Readings go out once the broker has taken the connection (or the wait is over): two
        // of twelve published before the first CONNACK went unacknowledged on a loaded machine.
        let clock = ContinuousClock()
        let connectBy = clock.now.advanced(by: .seconds(acknowledgementWaitSeconds))
        while !connected.withLock({ $0 }), clock.now < connectBy { try await Task.sleep(for: .milliseconds(10)) }
        let destination = topic.replacingOccurrences(of: "{station}", with: station)
        let interval = 3600 / speed
        let begin = clock.now
        var sent = 0
        for (n, i) in (start..<end).enumerated() {
            let r = records[i]
            guard let pm = r.pm25 else { continue }  // a sensor that missed this hour
            let time = r.unixTime
            let payload =
                "{\"time\":\(time),\"pm25\":\(pm),\"dew_point\":\(r.dewPoint),\"temperature\":\(r.temperature),"
                + "\"pressure\":\(r.pressure),\"wind_direction\":\"\(r.windDirection.rawValue)\",\"wind_speed\":\(formatFixed(speeds[i], 2))}"
            try await clock.sleep(until: begin.advanced(by: .seconds(interval * Double(n))))
            try connection.publish(topic: destination, payload: Array(payload.utf8), qos: 1)
            sent += 1
        }
        // Only what the broker acknowledged counts; wait while the acknowledgements still come.
        var acknowledged = connection.acknowledgedPublishes
        var lastProgress = clock.now
        while acknowledged < sent, clock.now - lastProgress < .seconds(acknowledgementWaitSeconds) {
            try await Task.sleep(for: .milliseconds(50))
            let now = connection.acknowledgedPublishes
            if now > acknowledged { lastProgress = clock.now }
            acknowledged = now
        }
        connection.stop()
        // Nothing to send (every hour of the range lacks PM2.5) is said as such, and so is a
        // broker that was never reached: "sent 0 readings, all acknowledged" said neither.
        guard sent > 0 else {
            if connected.withLock({ $0 }) {
                printError(
                    "nothing sent: the \(end - start) hours from \(records[start].hourLabel) have no PM2.5 "
                        + "(the broker at \(host):\(port) was reached)")
            } else {
                let why = lastProblem.withLock { $0 } ?? "no answer within \(acknowledgementWaitSeconds) s"
                printError("nothing sent, and the broker at \(host):\(port) could not be reached: \(why)")
            }
            throw ExitCode.failure
        }
        guard acknowledged == sent else {
            let why = lastProblem.withLock { $0 } ?? "no acknowledgement within \(acknowledgementWaitSeconds) s"
            printError("the broker at \(host):\(port) acknowledged \(acknowledged) of \(sent) readings: \(why)")
            throw ExitCode.failure
        }
        printError(
            "sent \(sent) readings to \(destination), all acknowledged by \(host):\(port) "
                + "(\(end - start - sent) hours without PM2.5 skipped)")
    }
}
