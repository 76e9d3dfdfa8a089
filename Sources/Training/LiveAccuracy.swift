import AirQuality
import ReadingLog

/// How the daemon's own forecasts have done: every forecast hour it published (kept in the
/// reading log) scored against what then came (the mean PM2.5 of the hour's logged readings),
/// beside persistence (the origin hour's mean) on the same pairs, per station and pooled, by
/// hours ahead, over the last day and the last week.
///
/// The windows are by origin hour, counted back from the newest origin hour with a scored
/// forecast (the data's own clock, so a replayed history is judged as it was live): `24h` is
/// the forecasts from the 24 origin hours up to and including it, `7d` from the 168. These are
/// the pairs `aqcast backtest --from <first origin> --to <newest origin + 1 h>` scores on the same
/// readings, with the same figures.
public struct LiveAccuracy: Sendable {
    public static let windows: [(name: String, hours: Int64)] = [("24h", 24), ("7d", 168)]

    /// The newest origin hour with a scored forecast; nil when none is scored yet.
    public var newestOrigin: Int64?
    /// One report per window, in ``windows`` order.
    public var reports: [BacktestReport]

    /// Scores the forecasts logged in `log` (`horizon`: the hours ahead the daemon forecasts).
    public static func compute(log: ReadingLog, horizon: Int) throws -> LiveAccuracy {
        guard let newest = try log.newestForecastOrigin() else {
            return LiveAccuracy(newestOrigin: nil, reports: windows.map { _ in BacktestReport(horizon: horizon) })
        }
        let longest = windows.map(\.hours).max()!
        let scored = try log.scoredForecasts(fromOriginHour: newest - longest - Int64(horizon))
        return LiveAccuracy(scored, horizon: horizon)
    }

    /// Scores `scored` (any order).
    public init(_ scored: [ReadingLog.ScoredForecast], horizon: Int) {
        let anchor = scored.map(\.forecast.originHour).max()
        newestOrigin = anchor
        reports = Self.windows.map { window in
            var report = BacktestReport(horizon: horizon)
            guard let anchor else { return report }
            var byStation: [String: BacktestScores] = [:]
            for s in scored where s.forecast.originHour > anchor - window.hours && s.forecast.horizon <= horizon {
                let f = s.forecast
                byStation[f.station, default: BacktestScores(horizon: horizon)].add(
                    Backtest.Record(
                        station: f.station, originHour: f.originHour, horizon: f.horizon, truth: s.truth,
                        forecast: f.pm25, lower: f.lower, upper: f.upper, persistence: s.persistence))
            }
            for station in byStation.keys.sorted() {
                report.stations.append((station, byStation[station]!))
                report.pooled.merge(byStation[station]!)
            }
            return report
        }
    }

    private init(newestOrigin: Int64?, reports: [BacktestReport]) {
        self.newestOrigin = newestOrigin
        self.reports = reports
    }

    /// The first origin hour of `window` (an index into ``windows``).
    public func firstOrigin(_ window: Int) -> Int64? { newestOrigin.map { $0 - Self.windows[window].hours + 1 } }

    /// The stations with scored forecasts in the longest window.
    public var stations: [String] { reports.last?.stations.map(\.name) ?? [] }

    /// The scores of `station` (nil: pooled) in `window`.
    public func scores(_ window: Int, station: String?) -> BacktestScores? {
        guard let station else { return reports[window].pooled }
        return reports[window].stations.first { $0.name == station }?.scores
    }

    /// RMSE gain over persistence (%) over every hour ahead together in `window`, and how many
    /// forecast hours it is over; nil without any.
    public func overallGain(_ window: Int, station: String?) -> (gain: Double, forecasts: Int)? {
        guard let s = scores(window, station: station) else { return nil }
        var all = BacktestScores.Sums()
        for h in s.byHorizon {
            all.count += h.count
            all.squaredModel += h.squaredModel
            all.squaredPersistence += h.squaredPersistence
        }
        return all.count > 0 ? (all.gain, all.count) : nil
    }

    /// The accuracy topic's JSON for `station` (nil: the whole network): for each window its
    /// origin hours and, by hours ahead, the figures `aqcast backtest --json` gives.
    public func json(station: String?, updatedAt: Double) -> [UInt8] {
        var windows: [(String, JSONText)] = []
        for (i, w) in Self.windows.enumerated() {
            let s = scores(i, station: station) ?? BacktestScores(horizon: reports[i].horizon)
            let overall = overallGain(i, station: station)
            windows.append(
                (
                    w.name,
                    .object([
                        ("first_origin", firstOrigin(i).map { .string(isoHour($0)) } ?? .null),
                        ("newest_origin", newestOrigin.map { .string(isoHour($0)) } ?? .null),
                        ("overall_gain_percent", .optional(overall?.gain)),
                        ("forecasts", .integer(overall?.forecasts ?? 0)),
                        ("by_horizon", BacktestReport.horizonsJSON(s)),
                    ])
                ))
        }
        var updated: [UInt8] = []
        appendISOTime(Int64(updatedAt.rounded(.down)), to: &updated)
        var doc: [(String, JSONText)] =
            station.map { [("station", .string($0))] } ?? [("stations", .integer(stations.count))]
        doc += [("updated_at", .string(String(decoding: updated, as: UTF8.self))), ("windows", .object(windows))]
        return JSONText.object(doc).bytes
    }
}
