import AirQuality
import ForecastDaemon
import Foundation
import InMemoryLogging
import Logging
import ReadingLog
import ServiceLifecycle
import Testing

/// The reading log's service in process, in a service group of its own, without a broker.
@Suite struct ReadingLogServiceTests {
    /// Readings handed to the writer are still only in memory when the group is told to stop
    /// (the writer commits once a minute here); the service's stop writes every one of them.
    @Test func whatIsPendingIsWrittenWhenTheGroupStops() async throws {
        var configuration = DaemonConfiguration()
        configuration.stateDirectory = temporaryDirectory()
        configuration.commitIntervalMilliseconds = 60_000
        let logger = Logger(label: "test")
        let service = ReadingLogService(configuration: configuration, hours: 30, logger: logger)
        let group = ServiceGroup(services: [service], logger: logger)
        let path = ReadingLog.path(inStateDirectory: configuration.stateDirectory)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            for h in 0..<50 {
                let reading = Reading(
                    station: "pending", time: Int64(1_388_534_400 + 3600 * h), pm25: 80, dewPoint: -10,
                    temperature: 2, pressure: 1020, windDirection: .northWest, windSpeed: 3)
                service.writer.enqueue(.init(reading: reading, arrived: 0))
            }
            #expect(try ReadingLog(path: path).count() == 0, "written before the stop: the test proves nothing")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(try ReadingLog(path: path).count() == 50)
    }

    func reading(_ station: String, hour: Int64) -> Reading {
        Reading(
            station: station, time: hour * 3600, pm25: 40, dewPoint: -5, temperature: 8, pressure: 1015,
            windDirection: .southEast, windSpeed: 2)
    }

    /// At start the service reads the newest hours for the windows, prunes what arrived before
    /// the retention, and says both in the log (an in-memory handler here, the journal in the
    /// daemon).
    @Test func itPrunesByArrivalAtStartAndSaysSo() throws {
        var configuration = DaemonConfiguration()
        configuration.stateDirectory = temporaryDirectory()
        configuration.retentionDays = 30
        try FileManager.default.createDirectory(
            atPath: configuration.stateDirectory, withIntermediateDirectories: true)
        let now = Date().timeIntervalSince1970
        let newest = Int64(now) / 3600
        let log = try ReadingLog(path: ReadingLog.path(inStateDirectory: configuration.stateDirectory))
        // Ten readings that arrived 40 days ago, for hours that long ago too, and twenty recent ones.
        try log.append(
            (0..<10).map { .init(reading: reading("old", hour: newest - 960 + Int64($0)), arrived: now - 40 * 86_400) })
        try log.append((0..<20).map { .init(reading: reading("new", hour: newest - 19 + Int64($0)), arrived: now) })
        let handler = InMemoryLogHandler()
        let service = ReadingLogService(
            configuration: configuration, hours: 48, logger: Logger(label: "test") { _ in handler })
        let entries = handler.entries
        let pruned = entries.first { $0.message.description == "reading log pruned" }
        #expect(pruned?.metadata["readings"]?.description == "10", "\(entries)")
        #expect(pruned?.metadata["retention_days"]?.description == "30")
        let opened = entries.first { $0.message.description == "reading log opened" }
        #expect(opened?.metadata["readings"]?.description == "20", "\(entries)")
        #expect(service.history.filter { $0.station == "new" }.count == 20)
        #expect(try log.count() == 20)
    }

    /// A state directory that cannot hold the log (a file is in its place) is said as an error
    /// with its reason, and the service still takes readings (kept in memory) rather than failing.
    @Test func anUnusableStateDirectoryIsSaidAndTheServiceStillStarts() throws {
        var configuration = DaemonConfiguration()
        let parent = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        configuration.stateDirectory = parent + "/state"
        #expect(FileManager.default.createFile(atPath: configuration.stateDirectory, contents: Data("x".utf8)))
        let handler = InMemoryLogHandler()
        let service = ReadingLogService(
            configuration: configuration, hours: 48, logger: Logger(label: "test") { _ in handler })
        let error = handler.entries.first { $0.level == .error }
        #expect(error?.message.description.hasPrefix("reading log unavailable") == true, "\(handler.entries)")
        #expect(error?.metadata["reason"]?.description == "reading_log")
        #expect(error?.metadata["path"]?.description == configuration.stateDirectory + "/readings.sqlite")
        #expect(service.history.isEmpty && service.writer.log == nil)
        service.writer.enqueue(.init(reading: reading("kept", hour: 400_000), arrived: 0))
        #expect(service.writer.queue.pending == 1 && service.writer.queue.dropped == 0)
    }
}
