import AirQuality
import Foundation
import Logging
import ReadingLog
import ServiceLifecycle
import Synchronization
import Training

/// Scores the published forecasts against what came (``LiveAccuracy``, from the reading log)
/// every `[accuracy] interval_seconds`, publishes the figures (retained) on each station's
/// accuracy topic and on the network's, and warns in the journal, at most once a day per
/// station, when a station's forecasts did worse than persistence over the last 7 days.
public struct AccuracyService: Service {
    let interval: Double
    let horizon: Int
    let log: @Sendable () -> ReadingLog?
    let publish: @Sendable (_ topic: String, _ payload: [UInt8]) -> Void
    let stationTopic: @Sendable (String) -> String
    let networkTopic: String
    let metrics: DaemonMetrics
    let logger: Logger
    /// Forecast hours over 7 days a station needs before its gain is judged.
    static let minimumForecasts = 48
    /// Logged forecasts are kept this long past the 7 days they are scored over.
    static let keptHours: Int64 = 8 * 24

    public func run() async throws {
        guard interval > 0 else {
            try? await gracefulShutdown()
            return
        }
        await withDiscardingTaskGroup { group in
            group.addTask { await loop() }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }

    /// When each station was last warned about.
    final class Warnings: Sendable {
        let last = Mutex<[String: Double]>([:])
    }

    func loop() async {
        let warnings = Warnings()
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(interval))
            if Task.isCancelled { return }
            await offThePool { once(warnings) }
        }
    }

    /// One round: compute, publish, warn, prune.
    func once(_ warnings: Warnings) {
        guard let log = log() else { return }
        let accuracy: LiveAccuracy
        do {
            accuracy = try LiveAccuracy.compute(log: log, horizon: horizon)
        } catch {
            logger.error("cannot score the published forecasts: \(error)", metadata: ["reason": "\(error)"])
            return
        }
        metrics.record(accuracy)
        guard let newest = accuracy.newestOrigin else { return }
        let now = Date().timeIntervalSince1970
        for station in accuracy.stations {
            publish(stationTopic(station), accuracy.json(station: station, updatedAt: now))
            let week = LiveAccuracy.windows.count - 1
            if let (gain, count) = accuracy.overallGain(week, station: station), gain < 0,
                count >= Self.minimumForecasts,
                warnings.last.withLock({ last in
                    guard now - (last[station] ?? -.infinity) >= 86_400 else { return false }
                    last[station] = now
                    return true
                })
            {
                logger.warning(
                    "forecasts for \(station) did worse than persistence over the last 7 days: RMSE gain \(formatFixed(gain, 1))% over \(count) forecast hours",
                    metadata: [
                        "station": "\(station)", "gain_percent": "\(formatFixed(gain, 1))", "forecasts": "\(count)",
                    ])
            }
        }
        publish(networkTopic, accuracy.json(station: nil, updatedAt: now))
        if let gain = accuracy.overallGain(LiveAccuracy.windows.count - 1, station: nil) {
            logger.debug(
                "forecasts scored",
                metadata: [
                    "stations": "\(accuracy.stations.count)", "newest_origin": "\(isoHour(newest))",
                    "gain_percent_7d": "\(formatFixed(gain.gain, 1))",
                ])
        }
        _ = try? log.pruneForecasts(beforeOriginHour: newest - Self.keptHours)
    }
}
