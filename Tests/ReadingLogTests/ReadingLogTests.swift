import AirQuality
import Foundation
import GRDB
import Testing

@testable import ReadingLog

@Suite struct ReadingLogTests {
    let path = NSTemporaryDirectory() + "aqcast-log-\(UUID().uuidString).sqlite"

    func reading(_ station: String, _ hour: Int64, pm: Double = 40) -> Reading {
        Reading(station: station, time: hour * 3600 + 60, pm25: pm, dewPoint: -3, temperature: 4, pressure: 1012,
                windDirection: .southEast, windSpeed: 2.5)
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

    @Test func prsaRowsBecomeReadingsWithUTCTimesAndHourlyWind() throws {
        let csv = "No,year,month,day,hour,pm2.5,DEWP,TEMP,PRES,cbwd,Iws,Is,Ir\n"
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

    @Test func pruneKeepsTheRetentionPeriod() throws {
        let log = try ReadingLog(path: path)
        try log.append((0..<(24 * 10)).map { .init(reading: reading("a", 5000 + Int64($0)), arrived: 1) })
        #expect(try log.prune(keepingDays: 7) == 24 * 3 - 1)
        #expect(try log.count() == 24 * 7 + 1)
    }

    @Test func refusedPayloadsAreKeptUpToTheBound() throws {
        let log = try ReadingLog(path: path)
        let many = (0..<(ReadingLog.rejectedKept + 500)).map {
            ReadingLog.Rejected(arrived: Double($0), station: "s", topic: "aq/s/reading", code: "not_json",
                                reason: "payload is not valid JSON", payloadBytes: $0)
        }
        try log.appendRejected(many)
        #expect(try log.rejectedCount() == ReadingLog.rejectedKept)
        #expect(try log.recentRejected(limit: 1).first?.payloadBytes == ReadingLog.rejectedKept + 499)
    }

    @Test func writerBatchesOffTheCallersThreadAndFlushesOnStop() throws {
        let log = try ReadingLog(path: path)
        let writer = ReadingLogWriter(log: log, interval: .milliseconds(50)) { _ in }
        writer.start()
        for h in 0..<500 { writer.enqueue(.init(reading: reading("w", 9000 + Int64(h)), arrived: 1)) }
        writer.stop()
        #expect(try log.count() == 500 && writer.written == 500)
    }

    @Test func writerKeepsEntriesWhileTheDatabaseCannotBeWrittenAndReportsOnce() throws {
        let log = try ReadingLog(path: path)
        let reports = Box()
        let writer = ReadingLogWriter(log: log, interval: .seconds(60)) { reports.add($0) }
        writer.enqueue(.init(reading: reading("x", 100), arrived: 1))
        // A fault: the table is gone (as after corruption or a bad manual edit).
        try DatabaseQueueForTests.drop(path: path)
        #expect(writer.flush() == false)
        #expect(writer.flush() == false)
        #expect(reports.count == 1)
        #expect(reports.first?.contains("1 readings kept in memory, retrying") == true)
    }
}

final class Box: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.withLock { items.append(s) } }
    var count: Int { lock.withLock { items.count } }
    var first: String? { lock.withLock { items.first } }
}

enum DatabaseQueueForTests {
    static func drop(path: String) throws {
        let q = try DatabaseQueue(path: path)
        try q.write { try $0.execute(sql: "DROP TABLE reading") }
    }
}
