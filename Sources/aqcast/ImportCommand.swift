import AirQuality
import ArgumentParser
import Foundation
import ReadingLog

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load a PRSA-format CSV into the reading log as one station's history.")

    @Option(help: "PRSA-format CSV.")
    var csv: String

    @Option(help: "Station id the history belongs to.")
    var station: String

    @Option(help: "State directory holding readings.sqlite.")
    var stateDir: String = "/var/lib/aqcast"

    func validate() throws {
        if let problem = ReadingDecoder.validateStation(station) { throw ValidationError("--station: \(problem)") }
    }

    func run() throws {
        guard let bytes = FileManager.default.contents(atPath: csv) else { throw ValidationError("cannot read \(csv)") }
        let records = try PRSAReader.parse(String(decoding: bytes, as: UTF8.self), file: csv)
        let readings = Reading.fromPRSA(records, station: station)
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        let log = try ReadingLog(path: stateDir + "/readings.sqlite")
        let arrived = Date().timeIntervalSince1970
        var first = 0
        while first < readings.count {
            let batch = readings[first..<min(readings.count, first + 10_000)]
            try log.append(batch.map { .init(reading: $0, arrived: arrived) })
            first += batch.count
        }
        print("imported \(readings.count) readings for \(station) into \(log.path) "
            + "(\(records.count - readings.count) hours without PM2.5 left out); the log holds \(try log.count())")
    }
}
