import AirQuality
import ArgumentParser
import CommandSupport
import Foundation
import ReadingLog
import Training

#if canImport(Glibc)
    import Glibc
#endif

/// `aqcast retrain` on a large network's log, timed and its peak memory taken, against a
/// reference retrain of a small network in the same invocation: the training cost is bounded
/// (a fixed number of sampled windows an epoch), so the ratio shows what the log's size adds.
///
/// The stations are made from the shipped histories: station k is a year of one of the seven
/// shipped stations (each station and start taken in turn, gaps and all), its PM2.5 scaled by
/// a factor of its own between 0.7 and 1.3, moved so that every station's year is 2025.
struct RetrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrain",
        abstract: "Time and peak memory of aqcast retrain on a log of many station-years, against a small one.")

    @Option(help: "Stations of the large log, a year each.")
    var stations: Int = 1_000

    @Option(help: "Stations of the reference log.")
    var referenceStations: Int = 10

    @Option(help: "Override the recipe's number of epochs (both runs).")
    var epochs: Int?

    @Option(
        help:
            "Current model to beat (default: one epoch of the seed recipe, trained here, so that the candidate is promoted and trained again: the longest run)."
    )
    var current: String?

    @Option(help: "Folder for the logs (default: a temporary folder, removed afterwards).")
    var directory: String?

    func validate() throws {
        guard (1...100_000).contains(stations), (1...100_000).contains(referenceStations) else {
            throw ValidationError("--stations and --reference-stations must be 1...100000")
        }
    }

    func run() throws {
        let folder = directory ?? NSTemporaryDirectory() + "aqcast-retrainbench-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { if directory == nil { try? FileManager.default.removeItem(atPath: folder) } }
        let sources = try ShippedFile.histories().map { try HistoryFile.readings(path: $0).readings }
        let year: Int64 = 8_760
        // Every year of the shipped histories starting on a day 61 days from the last, in turn;
        // each keeps its gaps, as a real station's log does.
        var stretches: [(source: Int, first: Int64)] = []
        for (i, readings) in sources.enumerated() {
            guard let lo = readings.map(\.hour).min(), let hi = readings.map(\.hour).max() else { continue }
            for first in stride(from: lo, through: hi - year + 1, by: 24 * 61) { stretches.append((i, first)) }
        }
        guard !stretches.isEmpty else { throw CommandFailure("the shipped histories hold no whole year") }
        let first2025: Int64 = 481_824  // 2025-01-01T00:00Z in hours since 1970
        func make(_ count: Int, at path: String) throws -> Int {
            let log = try ReadingLog(path: path)
            var batch: [ReadingLog.Entry] = []
            var written = 0
            for k in 0..<count {
                let (i, first) = stretches[k % stretches.count]
                let scale = 0.7 + 0.6 * Double((k * 7_919) % 1_000) / 1_000
                for r in sources[i] where r.hour >= first && r.hour < first + year {
                    let hour = first2025 + (r.hour - first)
                    var moved = r
                    moved.station = "bench-\(k)"
                    moved.time = hour * 3600 + 1_800
                    moved.pm25 = (r.pm25 * scale).rounded()
                    batch.append(.init(reading: moved, arrived: Double(hour * 3600 + 1_801)))
                }
                if batch.count >= 200_000 {
                    try log.append(batch)
                    written += batch.count
                    batch.removeAll(keepingCapacity: true)
                }
            }
            try log.append(batch)
            return written + batch.count
        }

        /// `aqcast` in a child process, its output; it must end with one of `statuses`.
        func aqcast(_ arguments: [String], statuses: [Int32] = [0]) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: AQCastBench.aqcast)
            process.arguments = arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard statuses.contains(process.terminationStatus) else {
                printError(output)
                throw CommandFailure("aqcast \(arguments.first ?? "") ended with status \(process.terminationStatus)")
            }
            return output
        }
        let currentModel: String
        if let current {
            currentModel = current
        } else {
            currentModel = folder + "/poor-current.json"
            _ = try aqcast([
                "train", "--recipe", "seed", "--epochs", "1", "--seed", "3", "--out", currentModel, "--quiet",
            ])
        }

        /// One `aqcast retrain` in a child process: wall seconds, CPU seconds, peak resident MiB.
        func retrain(_ state: String) throws -> (wall: Double, cpu: Double, peakMiB: Double, output: String) {
            var before = rusage()
            getrusage(RUSAGE_CHILDREN.rawValue, &before)
            let start = Date()
            let output = try aqcast(
                ["retrain", "--state-dir", state, "--model", currentModel]
                    + (epochs.map { ["--epochs", "\($0)"] } ?? []),
                statuses: [0, 2])
            let wall = Date().timeIntervalSince(start)
            var after = rusage()
            getrusage(RUSAGE_CHILDREN.rawValue, &after)
            func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
            let cpu =
                seconds(after.ru_utime) + seconds(after.ru_stime) - seconds(before.ru_utime) - seconds(before.ru_stime)
            return (wall, cpu, Double(after.ru_maxrss) / 1024, output)
        }

        var results:
            [(stations: Int, readings: Int, run: (wall: Double, cpu: Double, peakMiB: Double, output: String))] = []
        for count in [referenceStations, stations] {
            let state = folder + "/\(count)-stations"
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            let made = Date()
            let readings = try make(count, at: ReadingLog.path(inStateDirectory: state))
            print(
                "\(count) stations: \(readings) readings logged in \(formatFixed(Date().timeIntervalSince(made), 1)) s (not timed below)"
            )
            let run = try retrain(state)
            for line in run.output.split(separator: "\n")
            where line.contains(" s: ") || line.hasPrefix("promoted") || line.hasPrefix("not promoted")
                || line.contains("refitted")
            {
                print("  \(line)")
            }
            print(
                "\(count) stations: retrain wall_s=\(formatFixed(run.wall, 1)) cpu_s=\(formatFixed(run.cpu, 1)) "
                    + "peak_rss_mib=\(formatFixed(run.peakMiB, 0))")
            results.append((count, readings, run))
        }
        let (reference, large) = (results[0], results[1])
        print(
            "ratio wall \(large.stations)/\(reference.stations) stations=\(formatFixed(large.run.wall / reference.run.wall, 2)) "
                + "readings ratio=\(formatFixed(Double(large.readings) / Double(reference.readings), 1))")
    }
}
