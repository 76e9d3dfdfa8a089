import AirQuality
import ForecastDaemon
import Foundation
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
}
