import AQCastTestSupport
import AirQuality
import Foundation
import InMemoryLogging
import Logging
import MQTTClient
import ReadingLog
import Synchronization
import Testing
import Training

@testable import ForecastDaemon

/// The live accuracy: a month of the shipped data replayed through a real broker, the daemon
/// scoring its own published forecasts, and the figures it publishes for the last 7 days equal
/// to the backtest's for the same forecasts.
@Suite(.serialized) struct AccuracyTests {
    init() {
        #expect(FakeJournal.shared != nil, "the test journal socket could not be bound")
    }

    @Test func theAccuracyTopicSaysWhatTheBacktestSaysForTheSameForecasts() throws {
        let broker = try Broker()
        let state = temporaryDirectory()
        let config = state + "/aqcast.toml"
        try "[accuracy]\ninterval_seconds = 1\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try startDaemon(broker, stateDir: state, extra: ["--config", config])
        let station = "acc\(UUID().uuidString.prefix(6).lowercased())"
        let inbox = Inbox()
        let watcher = try client(broker, id: "t-acc", inbox: inbox, subscribe: "aq/+/accuracy")
        defer { withExtendedLifetime(watcher) {} }
        #expect(connectedLine(broker) != nil, "the daemon did not connect: \(daemon.output)")
        // The history as the backtest reads it: the same month, the same station.
        let (month, lastHour) = try replayJanuary2014(station: station, broker: broker)
        // Until the daemon has scored the forecast from the hour before the last (its first
        // hour ahead is the last hour) and published it.
        let published = weekAccuracy(inbox, topic: "aq/\(station)/accuracy", newestOrigin: lastHour - 1)
        let week = try #require(published, "no accuracy for the whole month: \(daemon.output)")
        #expect(week["first_origin"] as? String == isoHour(lastHour - 1 - 167))

        var options = Backtest.Options()
        options.from = lastHour - 1 - 167
        options.to = lastHour
        let model = try ModelFile.load(path: Shipped.modelPath)
        let backtest = Backtest.run(model: model, modelName: "m", readings: month, options: options)
        let rows = try #require(week["by_horizon"] as? [[String: Any]])
        #expect(rows.count == 8)
        for (i, row) in rows.enumerated() {
            let s = backtest.pooled.byHorizon[i]
            #expect(row["forecasts"] as? Int == s.count, "h\(i + 1)")
            for (key, value) in [
                ("rmse", s.rmse), ("persistence_rmse", s.persistenceRMSE), ("gain_percent", s.gain), ("mae", s.mae),
                ("mae_gain_percent", s.maeGain), ("bias", s.bias), ("coverage", 100 * s.coverage),
            ] {
                let live = try #require(row[key] as? Double, "h\(i + 1) \(key)")
                let scale = key == "coverage" ? 100.0 : 1
                #expect(
                    formatFixed(live * scale, 1) == formatFixed(value, 1), "h\(i + 1) \(key): \(live) against \(value)")
                #expect(abs(live * scale - value) < 1e-6, "h\(i + 1) \(key): \(live) against \(value)")
            }
        }
        // The network's topic pools the one station; `aqcast accuracy` prints the same from the state directory.
        let network = inbox.on("aq/aqcast/accuracy").last.flatMap {
            try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any]
        }
        #expect(network?["stations"] as? Int ?? 0 >= 1)
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 20) == 0, "\(daemon.output)")
        let printed = try aqcast(["accuracy", "--state-dir", state, "--station", station])
        #expect(printed.status == 0, "\(printed.output)")
        let h8 = backtest.pooled.byHorizon[7]
        #expect(
            printed.output.contains("7d: forecasts from origin hours \(isoHour(lastHour - 168))"), "\(printed.output)")
        #expect(printed.output.contains(formatFixed(h8.rmse, 1)) && printed.output.contains(formatFixed(h8.gain, 1)))
    }
}

/// The shipped PRSA file's January 2014 as `station`'s readings.
func january2014(station: String) throws -> [Reading] {
    let csv = Shipped.root.appendingPathComponent("data/PRSA_data_2010.1.1-2014.12.31.csv").path
    let first = hourContaining(try RFC3339.parse("2014-01-01T00:00:00Z".utf8).get())
    return try HistoryFile.readings(path: csv, station: station).readings.filter {
        $0.hour >= first && $0.hour < first + 720
    }
}

/// Replays January 2014 of the shipped PRSA file as `station` through `broker` (`aqcast
/// replay`, 200 hours a second); the month's readings as the backtest reads them, and its
/// last hour.
func replayJanuary2014(station: String, broker: Broker) throws -> (readings: [Reading], lastHour: Int64) {
    let csv = Shipped.root.appendingPathComponent("data/PRSA_data_2010.1.1-2014.12.31.csv").path
    let replay = try aqcast([
        "replay", "--csv", csv, "--station", station, "--from", "2014-01-01T00", "--hours", "720", "--speed",
        "720000", "--broker", "127.0.0.1:\(broker.port)",
    ])
    #expect(replay.status == 0, "\(replay.output)")
    let month = try january2014(station: station)
    return (month, try #require(month.map(\.hour).max()))
}

/// The 7-day window of the newest accuracy message on `topic` once it reaches `newestOrigin`
/// (within 60 s), or nil.
func weekAccuracy(_ inbox: Inbox, topic: String, newestOrigin: Int64) -> [String: Any]? {
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline {
        if let m = inbox.on(topic).last,
            let json = try? JSONSerialization.jsonObject(with: Data(m.payload)) as? [String: Any],
            let week = (json["windows"] as? [String: Any])?["7d"] as? [String: Any],
            week["newest_origin"] as? String == isoHour(newestOrigin)
        {
            return week
        }
        usleep(100_000)
    }
    return nil
}

/// The accuracy service in-process on a real SQLite log: a station whose forecasts lost to
/// persistence over the week is warned about once, not at every round.
@Suite struct AccuracyServiceTests {
    @Test func aStationWorseThanPersistenceIsWarnedAboutOnceADay() throws {
        let path = temporaryDirectory() + "/readings.sqlite"
        let log = try ReadingLog(path: path)
        let start: Int64 = 390_000
        // PM2.5 steady at 40; the forecasts say 80 (persistence says 40 and is right).
        try log.append(
            (0..<80).map { h in
                .init(
                    reading: Reading(
                        station: "bad", time: (start + Int64(h)) * 3600, pm25: 40, dewPoint: -3, temperature: 4,
                        pressure: 1012, windDirection: .southEast, windSpeed: 2), arrived: 1)
            },
            forecasts: (0..<70).flatMap { h in
                (1...8).map {
                    ReadingLog.LoggedForecast(
                        station: "bad", originHour: start + Int64(h), horizon: $0, pm25: 80, lower: 60, upper: 100,
                        issuedAt: 1)
                }
            })
        let memory = InMemoryLogHandler()
        let published = Mutex<[String]>([])
        let service = AccuracyService(
            interval: 1, horizon: 8, log: { log }, publish: { topic, _ in published.withLock { $0.append(topic) } },
            stationTopic: { "aq/\($0)/accuracy" }, networkTopic: "aq/aqcast/accuracy", metrics: DaemonMetrics(),
            logger: Logger(label: "test") { _ in memory })
        let warnings = AccuracyService.Warnings()
        service.once(warnings)
        service.once(warnings)
        let warned = memory.entries.filter { $0.level == .warning }
        #expect(warned.count == 1)
        #expect(
            warned.first?.message.description.hasPrefix(
                "forecasts for bad did worse than persistence over the last 7 days") == true)
        #expect(
            published.withLock { $0 } == [
                "aq/bad/accuracy", "aq/aqcast/accuracy", "aq/bad/accuracy", "aq/aqcast/accuracy",
            ])
    }
}
