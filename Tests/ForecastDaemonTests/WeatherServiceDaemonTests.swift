import AQCastTestSupport
import AirQuality
import Foundation
import MQTTClient
import Testing

/// The daemon with a weather-forecast area served by a local HTTP server in the service's
/// format: the service answers, then fails (an error status, a truncated body, no answer at
/// all), then answers again.
@Suite(.serialized) struct WeatherServiceDaemonTests {
    init() {
        #expect(FakeJournal.shared != nil, "the test journal socket could not be bound")
    }

    @Test func forecastsUseTheServiceFallBackToHeldWeatherAndRecover() throws {
        let server = try LocalForecastServer()
        defer { server.stop() }
        let b: Int64 = 390_000
        server.mode = .answer(openMeteoAnswer(hours: Array((b + 1)...(b + 8))))
        let area = "city\(UUID().uuidString.prefix(6).lowercased())"
        let broker = try Broker()
        let state = temporaryDirectory()
        let config = state + "/aqcast.toml"
        try """
        [weather_forecast.\(area)]
        latitude = 39.93
        longitude = 116.42
        url = "http://127.0.0.1:\(server.port)/v1/forecast"
        refresh_seconds = 1
        timeout_seconds = 2
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try startDaemon(broker, stateDir: state, extra: ["--config", config])
        func journal(_ message: String, seconds: Double = 15) -> [String: String]? {
            FakeJournal.shared?.wait(seconds: seconds) { ($0["MESSAGE"] ?? "").hasPrefix(message) }
        }
        let fetched = journal("weather forecast fetched for area \(area)")
        #expect(fetched?["HOURS"] == "8", "no fetch: \(daemon.output)")
        let request = try #require(server.requests.first)
        #expect(request.hasPrefix("/v1/forecast?latitude=39.93&longitude=116.42&hourly=temperature_2m,"))

        let inbox = Inbox()
        let subscriber = try client(broker, id: "t-sub-\(area)", inbox: inbox, subscribe: "aq/+/forecast")
        defer { withExtendedLifetime(subscriber) {} }
        #expect(connectedLine(broker) != nil, "the daemon did not connect: \(daemon.output)")
        let publisher = try client(broker, id: "t-pub-\(area)")
        let station = "s\(area)"
        let topic = "aq/\(station)/forecast"
        /// Sends the reading of `hour` and returns the forecast from it: per hour, where its weather came from.
        func forecast(after hour: Int64) throws -> (weather: [String], json: [String: Any])? {
            let before = inbox.on(topic).count
            try publisher.publish(topic: "aq/\(station)/reading", payload: payload(hour: hour), qos: 1)
            guard let m = inbox.wait(seconds: 15, topic: topic, count: before + 1).last,
                let json = try JSONSerialization.jsonObject(with: Data(m.payload)) as? [String: Any],
                json["based_on_hour"] as? String == isoHour(hour), let hours = json["hours"] as? [[String: Any]]
            else { return nil }
            return (hours.compactMap { $0["weather"] as? String }, json)
        }

        // A day of readings: the forecast from its last hour has the service's weather for all eight.
        for h in (b - 23)..<b {
            try publisher.publish(topic: "aq/\(station)/reading", payload: payload(hour: h), qos: 1)
        }
        let first = try #require(try forecast(after: b), "no forecast: \(daemon.output)")
        #expect(first.weather == Array(repeating: "service", count: 8))
        #expect((first.json["weather_service"] as? [String: Any])?["area"] as? String == area)

        // The service fails in three ways; the journal warns once, then tells each retry at debug.
        server.mode = .status(500, #"{"error":true,"reason":"Internal failure"}"#)
        let warning = journal("weather forecast for area \(area) failed")
        #expect(warning?["PRIORITY"] == "4")
        #expect(warning?["REASON"] == "HTTP 500: Internal failure")
        server.mode = .truncated(openMeteoAnswer(hours: Array((b + 9)...(b + 16))))
        let truncated = journal("weather forecast for area \(area) failed again", seconds: 10)
        #expect(truncated != nil)
        server.mode = .silent
        let silent = FakeJournal.shared?.wait(seconds: 15) {
            ($0["MESSAGE"] ?? "") == "weather forecast for area \(area) failed again: no answer within the timeout"
        }
        #expect(silent != nil)

        // Meanwhile the stations use the last forecast while it covers their hours, then hold the weather.
        for k in 1...8 {
            let f = try #require(try forecast(after: b + Int64(k)), "no forecast from hour \(k): \(daemon.output)")
            #expect(
                f.weather == Array(repeating: "service", count: 8 - k) + Array(repeating: "held", count: k),
                "from hour \(k)")
        }

        // The service answers again: the next forecast uses its new weather.
        server.mode = .answer(openMeteoAnswer(hours: Array((b + 9)...(b + 24)), temperature: 20))
        let back = journal("weather forecast back for area \(area)")
        #expect(back?["PRIORITY"] == "5" && back?["HOURS"] == "16")
        let again = try #require(try forecast(after: b + 9))
        #expect(again.weather == Array(repeating: "service", count: 8))
        let issuedFirst = (first.json["weather_service"] as? [String: Any])?["issued_at"] as? String ?? ""
        let issuedAgain = (again.json["weather_service"] as? [String: Any])?["issued_at"] as? String ?? ""
        #expect(issuedAgain > issuedFirst)

        // One warning for the whole outage, and the daemon never stopped.
        let warnings = FakeJournal.shared?.all().filter {
            ($0["MESSAGE"] ?? "").hasPrefix("weather forecast for area \(area) failed:")
        }
        #expect(warnings?.count == 1)
        #expect(
            kill(daemon.pid, 0) == 0 && waitpid(daemon.pid, nil, WNOHANG) == 0, "the daemon stopped: \(daemon.output)")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 20) == 0, "\(daemon.output)")
    }
}
