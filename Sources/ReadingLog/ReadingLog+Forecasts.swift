import AirQuality
import Foundation
import GRDB

/// The forecasts the daemon published, kept beside the readings so that each can be scored
/// once its hours have come: the live accuracy is computed from the log, and so survives a
/// restart and can be recomputed by `aqcast accuracy`.
extension ReadingLog {
    /// One published forecast hour.
    public struct LoggedForecast: Sendable, Equatable {
        public var station: String
        public var originHour: Int64
        public var horizon: Int
        public var pm25: Double
        public var lower: Double
        public var upper: Double
        public var issuedAt: Double

        public init(
            station: String, originHour: Int64, horizon: Int, pm25: Double, lower: Double, upper: Double,
            issuedAt: Double
        ) {
            self.station = station
            self.originHour = originHour
            self.horizon = horizon
            self.pm25 = pm25
            self.lower = lower
            self.upper = upper
            self.issuedAt = issuedAt
        }

        /// Every hour of `forecast`.
        public static func hours(of forecast: StationForecast) -> [LoggedForecast] {
            forecast.hours.map {
                LoggedForecast(
                    station: forecast.station, originHour: forecast.basedOnHour, horizon: $0.horizon, pm25: $0.pm25,
                    lower: $0.lower, upper: $0.upper, issuedAt: forecast.issuedAt)
            }
        }
    }

    /// A logged forecast hour whose truth is known: the mean PM2.5 of the readings of its hour,
    /// and of its origin hour (persistence's forecast).
    public struct ScoredForecast: Sendable, Equatable {
        public var forecast: LoggedForecast
        public var truth: Double
        public var persistence: Double

        public init(forecast: LoggedForecast, truth: Double, persistence: Double) {
            self.forecast = forecast
            self.truth = truth
            self.persistence = persistence
        }
    }

    /// Logs forecast hours in one transaction; a forecast from the same origin replaces the
    /// earlier one (the one restored at start, published again).
    public func appendForecasts(_ entries: [LoggedForecast]) throws {
        guard !entries.isEmpty else { return }
        try database.write { try Self.insert(entries, into: $0) }
    }

    static func insert(_ entries: [LoggedForecast], into db: Database) throws {
        guard !entries.isEmpty else { return }
        let statement = try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO forecast (station, origin_hour, horizon, pm25, lower, upper, issued_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
        for e in entries {
            try statement.execute(arguments: [e.station, e.originHour, e.horizon, e.pm25, e.lower, e.upper, e.issuedAt])
        }
    }

    /// The logged forecast hours from origin hours at or after `firstOrigin` whose hour and
    /// origin hour both have readings, oldest origin first.
    public func scoredForecasts(fromOriginHour firstOrigin: Int64) throws -> [ScoredForecast] {
        try database.read { db in
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT f.station, f.origin_hour, f.horizon, f.pm25, f.lower, f.upper, f.issued_at,
                        (SELECT AVG(r.pm25) FROM reading r WHERE r.station = f.station
                            AND r.hour = f.origin_hour + f.horizon) AS truth,
                        (SELECT AVG(r.pm25) FROM reading r WHERE r.station = f.station
                            AND r.hour = f.origin_hour) AS persistence
                    FROM forecast f WHERE f.origin_hour >= ? ORDER BY f.origin_hour, f.station, f.horizon
                    """, arguments: [firstOrigin])
            var out: [ScoredForecast] = []
            while let row = try rows.next() {
                guard let truth: Double = row.checked("truth"), let persistence: Double = row.checked("persistence"),
                    let station: String = row.checked("station"), let origin: Int64 = row.checked("origin_hour"),
                    let horizon: Int = row.checked("horizon"), let pm25: Double = row.checked("pm25"),
                    let lower: Double = row.checked("lower"), let upper: Double = row.checked("upper"),
                    let issuedAt: Double = row.checked("issued_at")
                else { continue }
                out.append(
                    ScoredForecast(
                        forecast: LoggedForecast(
                            station: station, originHour: origin, horizon: horizon, pm25: pm25, lower: lower,
                            upper: upper, issuedAt: issuedAt),
                        truth: truth, persistence: persistence))
            }
            return out
        }
    }

    /// The newest origin hour of a logged forecast, if any.
    public func newestForecastOrigin() throws -> Int64? {
        try database.read { try Row.fetchOne($0, sql: "SELECT MAX(origin_hour) FROM forecast")?.checked(0) }
    }

    /// Deletes logged forecasts from origin hours before `hour`; returns how many hours.
    @discardableResult
    public func pruneForecasts(beforeOriginHour hour: Int64) throws -> Int {
        try database.write { db in
            try db.execute(sql: "DELETE FROM forecast WHERE origin_hour < ?", arguments: [hour])
            return db.changesCount
        }
    }
}
