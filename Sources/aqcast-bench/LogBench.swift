import AirQuality
import ArgumentParser
import CommandSupport
import Foundation
import ReadingLog
import Training

#if canImport(Glibc)
    import Glibc
#endif

/// Ingest into the reading log, as the daemon's writer does it (one transaction per batch),
/// against a reference in the same run: the same readings appended as text lines to a flat
/// file with one fsync per batch, the cheapest durable log there is.
struct LogBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Readings per second into the SQLite reading log, against a flat file fsynced per batch.")

    @Option(help: "Readings written.")
    var readings: Int = 1_000_000

    @Option(help: "Readings per transaction (the daemon commits every 200 ms: at 100,000 readings/s, 20,000).")
    var batch: Int = 20_000

    @Option(help: "Folder for the scratch files (default: a temporary folder).")
    var directory: String?

    func run() throws {
        let folder = directory ?? NSTemporaryDirectory() + "aqcast-logbench-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let entries = (0..<readings).map { i -> ReadingLog.Entry in
            let hour = Int64(400_000 + i / 1000)
            return .init(
                reading: Reading(
                    station: "s\(i % 1000)", time: hour * 3600 + 60, pm25: Double(i % 300), dewPoint: -5,
                    temperature: 3, pressure: 1016, windDirection: .northWest, windSpeed: 2.2),
                arrived: Double(hour * 3600 + 61))
        }
        print("\(readings) readings of 1,000 stations, \(batch) per transaction")

        let flatPath = folder + "/flat.csv"
        let fd = open(flatPath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o644)
        var start = DispatchTime.now().uptimeNanoseconds
        for first in stride(from: 0, to: entries.count, by: batch) {
            var text = ""
            for e in entries[first..<min(entries.count, first + batch)] {
                let r = e.reading
                text +=
                    "\(r.station),\(r.time),\(r.hour),\(r.pm25),\(r.dewPoint),\(r.temperature),\(r.pressure),\(r.windDirection.rawValue),\(r.windSpeed),\(e.arrived)\n"
            }
            _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
            fsync(fd)
        }
        let flatSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        close(fd)
        let flatRate = Double(readings) / flatSeconds
        print(
            "reference, flat file fsynced per batch: \(formatFixed(flatRate, 0)) readings/s (\(formatFixed(flatSeconds, 2)) s)"
        )

        let log = try ReadingLog(path: folder + "/readings.sqlite")
        start = DispatchTime.now().uptimeNanoseconds
        for first in stride(from: 0, to: entries.count, by: batch) {
            try log.append(Array(entries[first..<min(entries.count, first + batch)]))
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let rate = Double(readings) / seconds
        guard try log.count() == readings else {
            throw CommandFailure("the log holds \(try log.count()), not \(readings)")
        }
        print(
            "reading log (SQLite, WAL, indexed by station and hour): \(formatFixed(rate, 0)) readings/s (\(formatFixed(seconds, 2)) s)"
        )
        print("ratio log/flat=\(formatFixed(rate / flatRate, 2))")
    }
}
