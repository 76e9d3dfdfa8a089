import AirQuality
import Foundation
import GRDB
import Testing
import Training

@testable import ReadingLog

@Suite struct ReadingLogTests {
    let path = NSTemporaryDirectory() + "aqcast-log-\(UUID().uuidString).sqlite"

    func reading(_ station: String, _ hour: Int64, pm: Double = 40) -> Reading {
        Reading(
            station: station, time: hour * 3600 + 60, pm25: pm, dewPoint: -3, temperature: 4, pressure: 1012,
            windDirection: .southEast, windSpeed: 2.5)
    }

    /// Rows of the wrong SQLite type (a hand edit, another program): text in PM2.5, the time or
    /// the dew point, a blob station id, a number as the wind direction. Each read of the log
    /// leaves the unreadable rows out (a dew point it cannot read counts as missing) instead of
    /// stopping the process, as GRDB's typed subscripts did at every start.
    @Test func rowsOfTheWrongTypeAreLeftOutNotFatal() throws {
        let log = try ReadingLog(path: path)
        try log.append((0..<24).map { .init(reading: reading("a", 1000 + Int64($0)), arrived: 5) })
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            let columns =
                "station, time, hour, pm25, dew_point, temperature, pressure, wind_direction, wind_speed, arrived"
            for values in [
                "'a', 3600 * 1024 + 60, 1024, 'forty', -3, 4, 1012, 'SE', 2.5, 5",
                "'a', 'noon', 1025, 40, -3, 4, 1012, 'SE', 2.5, 5",
                "X'00FF', 3600 * 1026 + 60, 1026, 40, -3, 4, 1012, 'SE', 2.5, 5",
                "'a', 3600 * 1027 + 60, 1027, 40, 'dry', 4, 1012, 'SE', 2.5, 5",
                "'a', 3600 * 1028 + 60, 1028, 40, -3, 4, 1012, 7, 2.5, 5",
                "'a', 3600 * 1029 + 60, '1029', 41, -3, 4, 1012, 'SE', 2.5, 5",
            ] {
                try db.execute(sql: "INSERT INTO reading (\(columns)) VALUES (\(values))")
            }
        }
        let all = try log.all()
        // The 24 good rows, the unreadable dew point as missing, the hour kept as text (the time
        // is what a reading is read from); no text PM2.5, text time, blob station or numeric wind.
        #expect(all.count == 26, "\(all.count) rows read")
        #expect(all.contains { $0.time == 1027 * 3600 + 60 && $0.dewPoint.isNaN })
        #expect(!all.contains { $0.station != "a" })
        var byStation = 0
        try log.forEachByStation { _ in byStation += 1 }
        #expect(byStation == 26)
        #expect(try log.recent(hours: 48).count <= 26)
        _ = try log.newestHour()
    }

    @Test func appendsAndReadsBackTheRecentHoursOfEachStation() throws {
        let log = try ReadingLog(path: path)
        try log.append((0..<40).map { .init(reading: reading("a", 1000 + Int64($0)), arrived: 5) })
        try log.append((0..<10).map { .init(reading: reading("b", 2000 + Int64($0), pm: 7), arrived: 6) })
        #expect(try log.count() == 50)
        let recent = try log.recent(hours: 24)
        #expect(recent.filter { $0.station == "a" }.count == 24)
        #expect(recent.filter { $0.station == "b" }.count == 10)
        #expect(recent.first { $0.station == "a" } == reading("a", 1016))
        // Reopening keeps everything and does not migrate twice.
        #expect(try ReadingLog(path: path).count() == 50)
    }

    /// A station without pressure or wind (forecast by a model for fewer inputs): the missing
    /// inputs are NULL in the log and NaN again when read, by every reader, and a log made
    /// before they could be missing keeps its readings, in order, through the migration.
    @Test func missingWeatherIsKeptAsNullAndOldLogsMigrate() throws {
        // A log as version 3 made it: every weather column NOT NULL.
        do {
            let queue = try DatabaseQueue(path: path)
            var old = DatabaseMigrator()
            for id in ["v1: readings", "v2: rejected payloads", "v3: no index by hour alone"] {
                old.registerMigration(id) { db in
                    if id.hasPrefix("v1") {
                        try db.create(table: "reading") { t in
                            t.column("station", .text).notNull()
                            t.column("time", .integer).notNull()
                            t.column("hour", .integer).notNull()
                            for c in ["pm25", "dew_point", "temperature", "pressure"] { t.column(c, .double).notNull() }
                            t.column("wind_direction", .text).notNull()
                            t.column("wind_speed", .double).notNull()
                            t.column("arrived", .double).notNull()
                        }
                    }
                }
            }
            try old.migrate(queue)
            try queue.write { db in
                for h in [3, 1, 2] {
                    let r = reading("old", 500 + Int64(h))
                    try db.execute(
                        sql: "INSERT INTO reading VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        arguments: [
                            r.station, r.time, r.hour, r.pm25, r.dewPoint, r.temperature, r.pressure, "SE", r.windSpeed,
                            1.0,
                        ])
                }
            }
        }
        let log = try ReadingLog(path: path)
        #expect(try log.all().map(\.hour) == [501, 502, 503] && log.all().allSatisfy { $0 == reading("old", $0.hour) })
        var sensor = reading("cheap", 700)
        sensor.pressure = .nan
        sensor.windSpeed = .nan
        try log.append([.init(reading: sensor, arrived: 2)])
        try log.append([.init(reading: reading("whole", 700), arrived: 2)])
        for back in [try log.all(), try log.recent(hours: 24)] {
            let got = try #require(back.first { $0.station == "cheap" })
            #expect(got.pm25 == 40 && got.temperature == 4 && got.dewPoint == -3)
            #expect(got.pressure.isNaN && got.windSpeed.isNaN && got.windDirection == .calm)
            #expect(back.first { $0.station == "whole" } == reading("whole", 700))
        }
        var streamed: [Reading] = []
        try log.forEachByStation { streamed.append($0) }
        #expect(streamed.first { $0.station == "cheap" }?.pressure.isNaN == true && streamed.count == 5)
        let nulls = try DatabaseQueue(path: path).read {
            try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM reading WHERE pressure IS NULL AND wind_direction IS NULL")
        }
        #expect(nulls == 1)
    }

    @Test func prsaRowsBecomeReadingsWithUTCTimesAndHourlyWind() throws {
        let csv =
            "No,year,month,day,hour,pm2.5,DEWP,TEMP,PRES,cbwd,Iws,Is,Ir\n"
            + "1,2014,1,1,5,129,-16,-4,1020,NW,1.79,0,0\n2,2014,1,1,6,NA,-16,-4,1020,NW,4.92,0,0\n"
            + "3,2014,1,1,7,140,-15,-4,1020,NW,6.71,0,0\n"
        let readings = Reading.fromPRSA(try PRSAReader.parse(csv, file: "t.csv"), station: "bj")
        #expect(readings.count == 2)
        #expect(readings[0].time == 1_388_552_400 && readings[0].windSpeed == 1.79)
        #expect(readings[1].time == 1_388_552_400 + 7200 && abs(readings[1].windSpeed - (6.71 - 4.92)) < 1e-12)
        let log = try ReadingLog(path: path)
        try log.append(readings.map { .init(reading: $0, arrived: 0) })
        #expect(try log.recent(hours: 24) == readings)
    }

    @Test func theCursorHandsEachStationOverInHourOrderWhateverTheArrivalOrder() throws {
        let log = try ReadingLog(path: path)
        // Interleaved as they arrive live, one station late by a few hours, and two readings in
        // one hour (kept in their arrival order).
        var arriving: [Reading] = []
        for h in Int64(0)..<30 { arriving += [reading("b", 100 + h, pm: Double(h)), reading("a", 100 + h)] }
        arriving += [reading("a", 95), reading("b", 110, pm: 99)]
        try log.append(arriving.map { .init(reading: $0, arrived: 1) })
        #expect(try log.newestHour() == 129)
        var seen: [Reading] = []
        try log.forEachByStation { seen.append($0) }
        #expect(seen.count == arriving.count)
        #expect(seen.map(\.station) == [String](repeating: "a", count: 31) + [String](repeating: "b", count: 31))
        #expect(seen.prefix(31).map(\.hour) == [95] + Array(100..<130))
        let b = seen.suffix(31)
        #expect(b.map(\.hour) == Array(100...110) + [110] + Array(111..<130))
        #expect(b.filter { $0.hour == 110 }.map(\.pm25) == [10, 99])
        #expect(
            try ReadingLog(path: NSTemporaryDirectory() + "aqcast-empty-\(UUID().uuidString).sqlite").newestHour()
                == nil)
    }

    @Test func pruneKeepsTheRetentionPeriodCountedFromArrival() throws {
        let log = try ReadingLog(path: path)
        let now = 1_800_000_000.0
        // Ten days of live readings, each arriving at its hour.
        let liveFirst = Int64(now / 3600) - 24 * 10 + 1
        try log.append(
            (0..<(24 * 10)).map {
                .init(
                    reading: reading("live", liveFirst + Int64($0)),
                    arrived: Double((liveFirst + Int64($0)) * 3600 + 60))
            })
        // Three years of history imported an hour ago: old hours, a new arrival.
        try log.append(
            (0..<(24 * 365 * 3)).map { .init(reading: reading("imported", 300_000 + Int64($0)), arrived: now - 3600) })
        let pruned = try log.prune(keepingDays: 7, now: now)
        #expect(pruned == 24 * 3 - 1)
        #expect(try log.count() == 24 * 7 + 1 + 24 * 365 * 3)
        // Seven days on, the imported history's arrival is past the retention too.
        #expect(try log.prune(keepingDays: 7, now: now + 7 * 86_400) == 24 * 365 * 3 + 24 * 7)
    }

    @Test func refusedPayloadsAreKeptUpToTheBound() throws {
        let log = try ReadingLog(path: path)
        let many = (0..<(ReadingLog.rejectedKept + 500)).map {
            ReadingLog.Rejected(
                arrived: Double($0), station: "s", topic: "aq/s/reading", code: "not_json",
                reason: "payload is not valid JSON", payloadBytes: $0)
        }
        try log.appendRejected(many)
        #expect(try log.rejectedCount() == ReadingLog.rejectedKept)
        #expect(try log.recentRejected(limit: 1).first?.payloadBytes == ReadingLog.rejectedKept + 499)
    }

    /// Published forecasts are kept and scored against the mean of each hour's readings, with
    /// persistence the origin hour's mean; a forecast from the same origin replaces the first.
    @Test func loggedForecastsAreScoredAgainstTheHoursMeans() throws {
        let log = try ReadingLog(path: path)
        // Hour 500 has two readings (mean 30), hour 501 one (50), hour 502 none.
        try log.append(
            [
                .init(reading: reading("s", 500, pm: 20), arrived: 1),
                .init(
                    reading: Reading(
                        station: "s", time: 500 * 3600 + 1800, pm25: 40, dewPoint: -3, temperature: 4,
                        pressure: 1012, windDirection: .southEast, windSpeed: 2.5), arrived: 1),
                .init(reading: reading("s", 501, pm: 50), arrived: 1),
            ],
            forecasts: [1, 2].map {
                .init(station: "s", originHour: 500, horizon: $0, pm25: 99, lower: 0, upper: 1, issuedAt: 7)
            })
        try log.appendForecasts(
            [1, 2].map {
                .init(station: "s", originHour: 500, horizon: $0, pm25: 45, lower: 40, upper: 60, issuedAt: 8)
            })
        let scored = try log.scoredForecasts(fromOriginHour: 0)
        #expect(scored.count == 1, "hour 502 has no readings: not scored")
        #expect(
            scored.first
                == .init(
                    forecast: .init(
                        station: "s", originHour: 500, horizon: 1, pm25: 45, lower: 40, upper: 60, issuedAt: 8),
                    truth: 50, persistence: 30))
        #expect(try log.newestForecastOrigin() == 500)
        #expect(try log.scoredForecasts(fromOriginHour: 501).isEmpty)
        #expect(try log.pruneForecasts(beforeOriginHour: 501) == 2)
        #expect(try log.newestForecastOrigin() == nil)
    }

    @Test func writerBatchesOffTheCallersThreadAndFlushesOnStop() throws {
        let log = try ReadingLog(path: path)
        let writer = ReadingLogWriter(path: path, log: log, interval: .milliseconds(50)) { _ in }
        writer.start()
        for h in 0..<500 { writer.enqueue(.init(reading: reading("w", 9000 + Int64(h)), arrived: 1)) }
        writer.stop()
        #expect(try log.count() == 500 && writer.written == 500)
    }

    @Test func writerKeepsEntriesWhileTheDatabaseCannotBeWrittenAndReportsOnce() throws {
        let log = try ReadingLog(path: path)
        let reports = Box()
        let writer = ReadingLogWriter(path: path, log: log, interval: .seconds(60)) { reports.add($0) }
        writer.enqueue(.init(reading: reading("x", 100), arrived: 1))
        writer.enqueueForecast(
            StationForecast(
                station: "x", basedOnHour: 100, issuedAt: 2,
                model: "m", hours: [ForecastHour(horizon: 1, pm25: 41, lower: 30, upper: 50)],
                intervalLevels: (0.05, 0.95)))
        // A fault: the table is gone (as after corruption or a bad manual edit).
        try DatabaseQueueForTests.drop(path: path)
        #expect(writer.flush() == false)
        #expect(writer.flush() == false)
        #expect(reports.count == 1)
        #expect(reports.first?.contains("1 readings kept in memory, retrying") == true)
        // The fault is mended: the next write says so once, and what was kept is in the log.
        try DatabaseQueueForTests.recreate(path: path)
        writer.enqueue(.init(reading: reading("x", 101), arrived: 1))
        #expect(writer.flush() == true)
        #expect(writer.flush() == true)
        #expect(reports.count == 2)
        #expect(reports.last == "the reading log \(path) is written again: the 2 readings kept in memory are in it")
        #expect(try log.count() == 2)
        // The forecast queued before the fault was kept with the readings and written with them.
        #expect(try log.scoredForecasts(fromOriginHour: 0).map(\.truth) == [40])
    }
}

/// Faults of the log's file and disk, made real: a folder that does not exist yet, a file
/// deleted or garbled under the writer, and a small tmpfs that fills up or turns read-only.
@Suite(.serialized) struct ReadingLogFaultTests {
    func reading(_ hour: Int64) -> ReadingLog.Entry {
        .init(
            reading: Reading(
                station: "f", time: hour * 3600, pm25: 50, dewPoint: -3, temperature: 4, pressure: 1012,
                windDirection: .northWest, windSpeed: 1.5), arrived: 1)
    }

    let folder = NSTemporaryDirectory() + "aqcast-faults-\(UUID().uuidString.prefix(8))"

    @Test func aFolderThatAppearsLaterIsUsedThen() throws {
        let path = folder + "/not/yet/readings.sqlite"
        // A file where the folder should be: creating the folder fails until it is removed.
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder + "/not"))
        let reports = Box()
        let writer = ReadingLogWriter(path: path, interval: .seconds(60), reportEvery: 3600) { reports.add($0) }
        writer.enqueue(reading(1))
        #expect(writer.flush() == false)
        writer.enqueue(reading(2))
        #expect(writer.flush() == false)
        #expect(reports.count == 1, "one report per interval, not per attempt")
        try FileManager.default.removeItem(atPath: folder + "/not")
        #expect(writer.flush() == true)
        #expect(try ReadingLog(path: path).count() == 2)
    }

    @Test func aDeletedFileIsReplacedAndLaterReadingsLandInTheNewOne() throws {
        let path = folder + "/readings.sqlite"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let reports = Box()
        let writer = ReadingLogWriter(path: path, log: try ReadingLog(path: path), interval: .seconds(60)) {
            reports.add($0)
        }
        writer.enqueue(reading(1))
        #expect(writer.flush())
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        writer.enqueue(reading(2))
        #expect(writer.flush())
        #expect(try ReadingLog(path: path).count() == 1)
        #expect(reports.first?.contains("was deleted or replaced; writing to a new one") == true)
    }

    @Test func aCorruptFileIsSetAsideAndANewLogStarted() throws {
        let path = folder + "/readings.sqlite"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: path))
        let reports = Box()
        let writer = ReadingLogWriter(path: path, interval: .seconds(60)) { reports.add($0) }
        writer.enqueue(reading(1))
        #expect(writer.flush())
        #expect(try ReadingLog(path: path).count() == 1)
        let aside = try FileManager.default.contentsOfDirectory(atPath: folder).filter {
            $0.hasPrefix("readings.sqlite.corrupt-")
        }
        #expect(aside.count == 1)
        #expect(reports.first?.contains("is corrupt") == true, "\(reports.first ?? "")")
    }

    /// A 1 MiB tmpfs filled by another file: the writes fail and the readings wait in memory;
    /// when space is freed they are all written.
    @Test(.enabled(if: getuid() == 0, "mounts a tmpfs, which needs root"))
    func aFullDiskKeepsReadingsInMemoryUntilSpaceIsFreed() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", folder)
        defer { _ = try? mount("-u", folder) }
        let path = folder + "/readings.sqlite"
        let reports = Box()
        let writer = ReadingLogWriter(path: path, log: try ReadingLog(path: path), interval: .seconds(60)) {
            reports.add($0)
        }
        writer.enqueue(reading(1))
        #expect(writer.flush())
        let filler = folder + "/filler"
        try? Data(repeating: 1, count: 4 << 20).write(to: URL(fileURLWithPath: filler))  // stops when the disk is full
        for h in 2..<502 { writer.enqueue(reading(Int64(h))) }
        #expect(writer.flush() == false)
        #expect(writer.flush() == false)
        #expect(reports.count == 1, "one report per interval, not per attempt")
        #expect(reports.first?.contains("500 readings kept in memory") == true, "\(reports.first ?? "")")
        try FileManager.default.removeItem(atPath: filler)
        #expect(writer.flush())
        #expect(try ReadingLog(path: path).count() == 501)
    }

    /// The log's file system read-only (as after the kernel remounts it on errors): readings wait
    /// in memory until it is writable again.
    @Test(.enabled(if: getuid() == 0, "mounts a tmpfs, which needs root"))
    func aReadOnlyFileSystemKeepsReadingsInMemoryUntilItIsWritable() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", folder)
        defer { _ = try? mount("-u", folder) }
        let path = folder + "/readings.sqlite"
        try ReadingLog(path: path).append([reading(1)])
        try mount("-o", "remount,ro", folder)
        let reports = Box()
        let writer = ReadingLogWriter(path: path, interval: .seconds(60)) { reports.add($0) }
        writer.enqueue(reading(2))
        #expect(writer.flush() == false)
        #expect(reports.first?.contains("1 readings kept in memory") == true, "\(reports.first ?? "")")
        try mount("-o", "remount,rw", folder)
        #expect(writer.flush())
        #expect(try ReadingLog(path: path).count() == 2)
    }

    /// Runs mount(8) (or umount with "-u"); needs root, as the test suite does.
    func mount(_ arguments: String...) throws {
        let p = Process()
        if arguments.first == "-u" {
            p.executableURL = URL(fileURLWithPath: "/bin/umount")
            p.arguments = Array(arguments.dropFirst())
        } else {
            p.executableURL = URL(fileURLWithPath: "/bin/mount")
            p.arguments = arguments
        }
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw POSIXError(.EPERM, userInfo: [NSLocalizedDescriptionKey: "mount \(arguments) failed (needs root)"])
        }
    }
}

final class Box: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.withLock { items.append(s) } }
    var count: Int { lock.withLock { items.count } }
    var first: String? { lock.withLock { items.first } }
    var last: String? { lock.withLock { items.last } }
}

enum DatabaseQueueForTests {
    static func drop(path: String) throws {
        let q = try DatabaseQueue(path: path)
        try q.write { try $0.execute(sql: "DROP TABLE reading") }
    }

    /// The reading table as the newest migration leaves it.
    static func recreate(path: String) throws {
        let q = try DatabaseQueue(path: path)
        try q.write {
            try $0.execute(
                sql: """
                    CREATE TABLE reading (station TEXT NOT NULL, time INTEGER NOT NULL, hour INTEGER NOT NULL,
                      pm25 DOUBLE NOT NULL, dew_point DOUBLE, temperature DOUBLE, pressure DOUBLE, wind_direction TEXT,
                      wind_speed DOUBLE, arrived DOUBLE NOT NULL)
                    """)
        }
    }
}
