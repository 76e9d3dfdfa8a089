import AirQuality
import ArgumentParser
import CommandSupport
import Foundation
import ReadingLog
import Training

struct AccuracyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accuracy",
        abstract: "How the daemon's published forecasts have done, from its state directory.",
        discussion: """
            Every forecast hour the daemon published (kept in the reading log) is scored against \
            the mean PM2.5 of that hour's readings, beside persistence on the same pairs, over \
            the forecasts from the last 24 and 168 origin hours (counted back from the newest \
            scored one): what the daemon publishes on its accuracy topics.
            """)

    @OptionGroup var state: StateOptions

    @Option(help: "Only this station (default: pooled, and every station's gains).")
    var station: String?

    @Flag(help: "Print the accuracy topic's JSON instead of tables.")
    var json = false

    func run() throws {
        let c = try state.load()
        let path = ReadingLog.path(inStateDirectory: c.stateDirectory)
        guard FileManager.default.fileExists(atPath: path) else {
            throw CommandFailure("no reading log at \(path)")
        }
        let accuracy = try LiveAccuracy.compute(log: try ReadingLog(path: path), horizon: c.forecast.horizonHours)
        if json {
            print(
                String(
                    decoding: accuracy.json(station: station, updatedAt: Date().timeIntervalSince1970), as: UTF8.self))
            return
        }
        guard accuracy.newestOrigin != nil else {
            print("no published forecast has been scored yet (\(path))")
            return
        }
        for (i, window) in LiveAccuracy.windows.enumerated() {
            var report = accuracy.reports[i]
            if let station {
                report.pooled = accuracy.scores(i, station: station) ?? BacktestScores(horizon: report.horizon)
                report.stations = report.stations.filter { $0.name == station }
            }
            print(
                "\(window.name): forecasts from origin hours \(isoHour(accuracy.firstOrigin(i)!)) to "
                    + "\(isoHour(accuracy.newestOrigin!)) (UTC), \(report.stations.count) stations")
            print(report.table())
        }
    }
}
