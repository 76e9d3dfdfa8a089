import AQCastTestSupport
import AirQuality
import ArgumentParser
import CommandSupport
import Foundation
import MQTTClient
import Synchronization

/// Many station ids against the daemon with its default configuration: one reading each for
/// more ids than `max_stations`, through a real broker. Prints the daemon's resident memory
/// before and after, the stations it holds (their retained state messages), and the retained
/// state messages of refused ids (there should be none).
struct StationsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stations",
        abstract: "Resident memory and retained messages after one reading each from many station ids.")

    @Option(help: "Station ids, one reading each.")
    var ids: Int = 200_000

    @Option(help: "The daemon's max_stations (its default).")
    var maxStations: Int = 100_000

    @Option(help: "Model file (default: the shipped model).")
    var model: String?

    func run() throws {
        let broker = try Broker(settings: benchBrokerSettings)
        defer { broker.stop() }
        let daemon = try launchDaemon(port: broker.port, modelPath: try model ?? ShippedFile.model())
        defer {
            kill(daemon.processIdentifier, SIGKILL)
            daemon.waitUntilExit()
        }
        let states = Counter()
        let watcher = try connectBench(broker.port, id: "bench-states", subscribe: "aq/+/state") { _ in states.add() }
        let publisher = try connectBench(broker.port, id: "bench-ids", subscribe: nil) { _ in }
        Thread.sleep(forTimeInterval: 2)
        let before = residentBytes(pid: daemon.processIdentifier)
        report("daemon before: resident \(formatFixed(Double(before) / 1_048_576, 1)) MiB")
        let payload = Array(
            #"{"time":1388552400,"pm25":40,"dew_point":-5,"temperature":3,"pressure":1016,"wind_direction":"NW","wind_speed":2.2}"#
                .utf8)
        let start = Date()
        for i in 0..<ids { try publisher.publish(topic: "aq/id\(i)/reading", payload: payload, qos: 1) }
        let held = min(ids, maxStations)
        guard states.wait(for: held, seconds: 600) else {
            throw CommandFailure("the daemon published \(states.value) states, expected \(held)")
        }
        // The refused ids come after the held ones; give the daemon time to take them too.
        var last = -1
        while residentBytes(pid: daemon.processIdentifier) != last {
            last = residentBytes(pid: daemon.processIdentifier)
            Thread.sleep(forTimeInterval: 3)
        }
        let after = residentBytes(pid: daemon.processIdentifier)
        report(
            "\(ids) ids sent in \(formatFixed(Date().timeIntervalSince(start), 1)) s; states published: \(states.value)"
        )
        report(
            "daemon after: resident \(formatFixed(Double(after) / 1_048_576, 1)) MiB, "
                + "\(formatFixed(Double(after - before) / Double(held), 0)) bytes a held station")
        watcher.stop()
        // What a newcomer finds retained: every held station's state, none of a refused one's.
        let retained = Mutex<(held: Int, refused: Int)>((0, 0))
        let late = try connectBench(broker.port, id: "bench-late", subscribe: "aq/+/state") { m in
            guard m.retained, let n = Int(m.topic.dropFirst(5).prefix { $0 != "/" }) else { return }
            retained.withLock {
                if n < held { $0.held += 1 } else { $0.refused += 1 }
            }
        }
        Thread.sleep(forTimeInterval: 5)
        late.stop()
        publisher.stop()
        let (kept, refused) = retained.withLock { $0 }
        report("retained state messages: \(kept) of held stations, \(refused) of refused ids")
    }
}
