import AirQuality
import ArgumentParser
import CommandSupport
import Foundation
import ReadingLog
import Training

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load a history CSV (PRSA or multi-site layout) into the reading log.")

    @Option(help: "History CSV: the PRSA layout (one station) or the multi-site one (its station column).")
    var csv: String

    @Option(
        help: "Station id the history belongs to (default: a PRSA file's name, a multi-site file's station column).")
    var station: String?

    @Option(help: "State directory holding readings.sqlite.")
    var stateDir: String = "/var/lib/aqcast"

    func validate() throws {
        if let station, let problem = ReadingDecoder.validateStation(station) {
            throw ValidationError("--station: \(problem)")
        }
    }

    func run() throws {
        let (layout, readings) = try HistoryFile.readings(path: csv, station: station)
        let stations = Set(readings.map(\.station)).sorted()
        if let bad = stations.lazy.compactMap({ ReadingDecoder.validateStation($0) }).first {
            throw CommandFailure("\(csv): \(bad)")
        }
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        let log = try ReadingLog(path: ReadingLog.path(inStateDirectory: stateDir))
        let arrived = Date().timeIntervalSince1970
        var first = 0
        while first < readings.count {
            let batch = readings[first..<min(readings.count, first + 10_000)]
            try log.append(batch.map { .init(reading: $0, arrived: arrived) })
            first += batch.count
        }
        print(
            "imported \(readings.count) readings (\(layout.rawValue) layout) for \(stations.joined(separator: ", ")) "
                + "into \(log.path) (hours without PM2.5 left out); the log holds \(try log.count())")
    }
}
