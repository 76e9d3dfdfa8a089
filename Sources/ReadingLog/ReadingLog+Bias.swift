import AirQuality
import Foundation
import GRDB

/// The errors each station's bias correction learnt, summed by day and hour ahead, so that a
/// restart resumes the correction instead of learning it again for a month.
extension ReadingLog {
    /// One error learnt by a station's correction for forecasts by `model`.
    public struct LoggedBiasError: Sendable, Equatable {
        public var station: String
        public var model: String
        public var error: BiasCorrection.Error

        public init(station: String, model: String, error: BiasCorrection.Error) {
            self.station = station
            self.model = model
            self.error = error
        }

        /// The errors learnt as `forecast` was made.
        public static func errors(of forecast: StationForecast) -> [LoggedBiasError] {
            forecast.biasErrors.map { LoggedBiasError(station: forecast.station, model: forecast.model, error: $0) }
        }
    }

    static func insert(_ errors: [LoggedBiasError], into db: Database) throws {
        guard !errors.isEmpty else { return }
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO bias (station, model, horizon, day, sum, count) VALUES (?, ?, ?, ?, ?, 1)
                ON CONFLICT (station, model, horizon, day) DO UPDATE SET sum = sum + excluded.sum, count = count + 1
                """)
        for e in errors where e.error.error.isFinite {
            try statement.execute(arguments: [e.station, e.model, e.error.horizon, e.error.day, e.error.error])
        }
    }

    /// Each station's correction over the `days` days up to `today` (days since 1970), for the
    /// model that made its newest errors.
    public func biasCorrections(days: Int, today: Int64) throws -> [String: BiasCorrection] {
        guard days > 0 else { return [:] }
        return try database.read { db in
            var byStation: [String: (model: String, newest: Int64, rows: [(Int, BiasCorrection.Bucket)])] = [:]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT station, model, horizon, day, sum, count FROM bias WHERE day > ? ORDER BY day",
                arguments: [today - Int64(days)])
            while let row = try rows.next() {
                guard let station: String = row.checked("station"), let model: String = row.checked("model"),
                    let day: Int64 = row.checked("day"), let sum: Double = row.checked("sum"),
                    let count: Int = row.checked("count"), let horizon: Int = row.checked("horizon")
                else { continue }
                let bucket = BiasCorrection.Bucket(day: day, sum: sum, count: count)
                if let held = byStation[station], held.model == model {
                    byStation[station]!.rows.append((horizon, bucket))
                    byStation[station]!.newest = day
                } else if byStation[station].map({ day >= $0.newest }) ?? true {
                    // A later day by another model: that model forecasts the station now.
                    byStation[station] = (model, day, [(horizon, bucket)])
                }
            }
            return byStation.mapValues { BiasCorrection(days: days, model: $0.model, buckets: $0.rows) }
        }
    }

    /// Deletes the errors of days before `day`; returns how many day rows went.
    @discardableResult
    public func pruneBias(beforeDay day: Int64) throws -> Int {
        try database.write { db in
            try db.execute(sql: "DELETE FROM bias WHERE day < ?", arguments: [day])
            return db.changesCount
        }
    }
}
