import AirQuality
import Foundation
import GRDB
import GRDBSQLite

/// The reading log: every accepted reading, in an SQLite file (WAL mode) in the state
/// directory, so a restart can rebuild each station's window and a retrain can learn from the
/// stations' own history.
/// SQLite's marker for "copy the bound text now".
private let sqliteTransient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

public final class ReadingLog: Sendable {
    let database: DatabasePool
    public let path: String

    /// A reading as logged: the reading and when it arrived (Unix seconds).
    public struct Entry: Sendable, Equatable {
        public var reading: Reading
        public var arrived: Double

        public init(reading: Reading, arrived: Double) {
            self.reading = reading
            self.arrived = arrived
        }
    }

    /// The log's file in a state directory.
    public static func path(inStateDirectory directory: String) -> String { directory + "/readings.sqlite" }

    /// Opens (creating if needed) the log at `path` and brings its schema up to date.
    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        database = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(database)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: readings") { db in
            try db.create(table: "reading") { t in
                t.column("station", .text).notNull()
                t.column("time", .integer).notNull()
                t.column("hour", .integer).notNull()
                t.column("pm25", .double).notNull()
                t.column("dew_point", .double).notNull()
                t.column("temperature", .double).notNull()
                t.column("pressure", .double).notNull()
                t.column("wind_direction", .text).notNull()
                t.column("wind_speed", .double).notNull()
                t.column("arrived", .double).notNull()
            }
            try db.create(index: "reading_by_station_hour", on: "reading", columns: ["station", "hour"])
            try db.create(index: "reading_by_hour", on: "reading", columns: ["hour"])
        }
        m.registerMigration("v2: rejected payloads") { db in
            try db.create(table: "rejected") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("arrived", .double).notNull()
                t.column("station", .text).notNull()
                t.column("topic", .text).notNull()
                t.column("code", .text).notNull()
                t.column("reason", .text).notNull()
                t.column("payload_bytes", .integer).notNull()
            }
        }
        m.registerMigration("v3: no index by hour alone") { db in
            // Only the daily prune filtered on it; a scan once a day costs less than keeping a
            // second index up to date for every reading.
            try db.drop(index: "reading_by_hour")
        }
        m.registerMigration("v4: weather may be missing") { db in
            // A station forecast by a model for fewer inputs sends no pressure or wind: those
            // columns take NULL. SQLite cannot drop NOT NULL in place, so the table is copied,
            // in its order (ties in time are broken by rowid).
            try db.execute(
                sql: """
                    CREATE TABLE reading_v4 (
                      station TEXT NOT NULL, time INTEGER NOT NULL, hour INTEGER NOT NULL, pm25 DOUBLE NOT NULL,
                      dew_point DOUBLE, temperature DOUBLE, pressure DOUBLE, wind_direction TEXT, wind_speed DOUBLE,
                      arrived DOUBLE NOT NULL);
                    INSERT INTO reading_v4 SELECT station, time, hour, pm25, dew_point, temperature, pressure,
                      wind_direction, wind_speed, arrived FROM reading ORDER BY rowid;
                    DROP TABLE reading;
                    ALTER TABLE reading_v4 RENAME TO reading;
                    CREATE INDEX reading_by_station_hour ON reading(station, hour);
                    """)
        }
        m.registerMigration("v5: published forecasts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE forecast (
                        station TEXT NOT NULL, origin_hour INTEGER NOT NULL, horizon INTEGER NOT NULL,
                        pm25 DOUBLE NOT NULL, lower DOUBLE NOT NULL, upper DOUBLE NOT NULL, issued_at DOUBLE NOT NULL,
                        PRIMARY KEY (station, origin_hour, horizon)) WITHOUT ROWID;
                    CREATE INDEX forecast_by_origin ON forecast(origin_hour);
                    """)
        }
        m.registerMigration("v6: bias correction errors") { db in
            try db.execute(
                sql: """
                    CREATE TABLE bias (
                        station TEXT NOT NULL, model TEXT NOT NULL, horizon INTEGER NOT NULL, day INTEGER NOT NULL,
                        sum DOUBLE NOT NULL, count INTEGER NOT NULL,
                        PRIMARY KEY (station, model, horizon, day)) WITHOUT ROWID;
                    """)
        }
        return m
    }

    /// A payload the daemon refused, and why.
    public struct Rejected: Sendable, Equatable {
        public var arrived: Double
        public var station: String
        public var topic: String
        public var code: String
        public var reason: String
        public var payloadBytes: Int

        public init(arrived: Double, station: String, topic: String, code: String, reason: String, payloadBytes: Int) {
            self.arrived = arrived
            self.station = station
            self.topic = topic
            self.code = code
            self.reason = reason
            self.payloadBytes = payloadBytes
        }
    }

    /// The refused payloads kept at most (the oldest go first).
    public static let rejectedKept = 10_000

    /// Appends refusals in one transaction and trims the table to ``rejectedKept`` rows.
    public func appendRejected(_ entries: [Rejected]) throws {
        guard !entries.isEmpty else { return }
        try database.write { db in
            let statement = try db.cachedStatement(
                sql:
                    "INSERT INTO rejected (arrived, station, topic, code, reason, payload_bytes) VALUES (?, ?, ?, ?, ?, ?)"
            )
            for e in entries {
                try statement.execute(arguments: [e.arrived, e.station, e.topic, e.code, e.reason, e.payloadBytes])
            }
            try db.execute(
                sql: "DELETE FROM rejected WHERE id <= (SELECT MAX(id) FROM rejected) - ?",
                arguments: [Self.rejectedKept])
        }
    }

    /// The most recent refusals, newest first.
    public func recentRejected(limit: Int) throws -> [Rejected] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM rejected ORDER BY id DESC LIMIT ?", arguments: [limit]).map {
                Rejected(
                    arrived: $0["arrived"], station: $0["station"], topic: $0["topic"], code: $0["code"],
                    reason: $0["reason"], payloadBytes: $0["payload_bytes"])
            }
        }
    }

    public func rejectedCount() throws -> Int {
        try database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM rejected") ?? 0 }
    }

    /// Appends entries in one transaction.
    public func append(
        _ entries: [Entry], forecasts: [LoggedForecast] = [], biasErrors: [LoggedBiasError] = []
    ) throws {
        guard !entries.isEmpty || !forecasts.isEmpty || !biasErrors.isEmpty else { return }
        try database.write { db in
            try Self.insert(forecasts, into: db)
            try Self.insert(biasErrors, into: db)
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO reading (station, time, hour, pm25, dew_point, temperature, pressure, wind_direction,
                                         wind_speed, arrived) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            // Bound through SQLite's own calls: GRDB's argument arrays box each value, and that
            // was most of the cost at 100,000 readings a second.
            let s = statement.sqliteStatement
            for e in entries {
                let r = e.reading
                sqlite3_reset(s)
                // A weather input the station does not measure (NaN) is NULL; so is the wind
                // direction when the wind speed is.
                func value(_ i: Int32, _ v: Double) -> Int32 {
                    v.isNaN ? sqlite3_bind_null(s, i) : sqlite3_bind_double(s, i, v)
                }
                let bound =
                    r.station.withCString { sqlite3_bind_text(s, 1, $0, -1, sqliteTransient) }
                    | sqlite3_bind_int64(s, 2, r.time) | sqlite3_bind_int64(s, 3, r.hour)
                    | sqlite3_bind_double(s, 4, r.pm25) | value(5, r.dewPoint)
                    | value(6, r.temperature) | value(7, r.pressure)
                    | (r.windSpeed.isNaN
                        ? sqlite3_bind_null(s, 8)
                        : r.windDirection.rawValue.withCString { sqlite3_bind_text(s, 8, $0, -1, sqliteTransient) })
                    | value(9, r.windSpeed) | sqlite3_bind_double(s, 10, e.arrived)
                guard bound == SQLITE_OK else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: bound), message: "binding a reading")
                }
                let rc = sqlite3_step(s)
                guard rc == SQLITE_DONE else {
                    throw DatabaseError(
                        resultCode: ResultCode(rawValue: rc),
                        message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                }
            }
            sqlite3_reset(s)
        }
    }

    /// Readings of the last `hours` hours before each station's newest one, oldest first: what
    /// a restart needs to rebuild the windows.
    public func recent(hours: Int) throws -> [Reading] {
        try database.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.* FROM reading r
                    JOIN (SELECT station, MAX(hour) AS newest FROM reading GROUP BY station) n
                      ON r.station = n.station AND r.hour > n.newest - ?
                    ORDER BY r.time, r.rowid
                    """, arguments: [hours])
            return rows.compactMap(Self.reading)
        }
    }

    /// Every reading in the log, oldest first: what retraining reads.
    public func all() throws -> [Reading] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM reading ORDER BY time, rowid").compactMap(Self.reading)
        }
    }

    /// Every reading in the log, grouped by station and in hour order within one (arrival
    /// order within an hour), handed to `body` one at a time from a cursor: what retraining
    /// reads, without holding the log in memory. The daemon can go on writing meanwhile (it
    /// writes after the snapshot this reads).
    public func forEachByStation(_ body: (Reading) throws -> Void) throws {
        try database.read { db in
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT station, time, pm25, dew_point, temperature, pressure, wind_direction, wind_speed
                    FROM reading ORDER BY station, hour, time, rowid
                    """)
            while let row = try rows.next() {
                guard let reading = Self.reading(row) else { continue }
                try body(reading)
            }
        }
    }

    /// The newest hour logged, if any.
    public func newestHour() throws -> Int64? {
        try database.read { try Row.fetchOne($0, sql: "SELECT MAX(hour) FROM reading")?.checked(0) }
    }

    /// How many readings the log holds.
    public func count() throws -> Int {
        try database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM reading") ?? 0 }
    }

    /// Deletes readings that arrived more than `days` days before `now` (Unix seconds);
    /// returns how many. Retention counts from arrival, not from the reading's own hour, so a
    /// history imported today (years of hours, all arriving now) is kept for `days` days like
    /// today's live readings, and only the log's size over time is bounded.
    @discardableResult
    public func prune(keepingDays days: Int, now: Double) throws -> Int {
        try database.write { db in
            try db.execute(sql: "DELETE FROM reading WHERE arrived < ?", arguments: [now - Double(days) * 86_400])
            return db.changesCount
        }
    }

    /// A logged reading; a weather input the station does not measure (NULL) is NaN.
    /// The reading in `row`, or nil when its station, time, PM2.5 or wind direction cannot be
    /// read (of another SQLite type, or NULL); a weather value that cannot be read counts as
    /// missing, as a NULL does.
    static func reading(_ row: Row) -> Reading? {
        guard let station: String = row.checked("station"), let time: Int64 = row.checked("time"),
            let pm25: Double = row.checked("pm25")
        else { return nil }
        let text: String? = row.checked("wind_direction")
        guard (row["wind_direction"] as DatabaseValue).isNull || text != nil,
            let direction = text.map({ WindDirection(rawValue: $0) }) ?? .calm
        else { return nil }
        return Reading(
            station: station, time: time, pm25: pm25, dewPoint: row.checked("dew_point") ?? .nan,
            temperature: row.checked("temperature") ?? .nan, pressure: row.checked("pressure") ?? .nan,
            windDirection: direction, windSpeed: row.checked("wind_speed") ?? .nan)
    }
}
