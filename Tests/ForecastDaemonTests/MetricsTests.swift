import AQCastTestSupport
import AirQuality
import Foundation
import ReadingLog
import Testing
import Training

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The Prometheus endpoint of a daemon fed a replayed month through a real broker: the
/// exposition read strictly, each figure checked against what the broker, the reading log
/// and the accuracy topic show, and Prometheus' own linter run over it.
@Suite(.serialized) struct MetricsTests {
    init() {
        #expect(FakeJournal.shared != nil, "the test journal socket could not be bound")
    }

    @Test func theEndpointShowsAReplayedMonthAsTheTopicsAndTheLogDo() throws {
        let broker = try Broker()
        let state = temporaryDirectory()
        let config = state + "/aqcast.toml"
        try "[accuracy]\ninterval_seconds = 1\n".write(toFile: config, atomically: true, encoding: .utf8)
        let port = freePort()
        let daemon = try startDaemon(
            broker, stateDir: state, extra: ["--config", config, "--metrics-listen", "127.0.0.1:\(port)"])
        let station = "met\(UUID().uuidString.prefix(6).lowercased())"
        let inbox = Inbox()
        let watcher = try client(broker, id: "t-met", inbox: inbox, subscribe: "aq/#")
        defer { withExtendedLifetime(watcher) {} }
        #expect(connectedLine(broker) != nil, "the daemon did not connect: \(daemon.output)")
        let listening = FakeJournal.shared?.wait(seconds: 10) {
            $0["MESSAGE"] == "metrics endpoint listening" && $0["URL"] == "http://127.0.0.1:\(port)/metrics"
        }
        #expect(listening != nil, "no journal line for the endpoint: \(daemon.output)")

        // Two payloads that are no readings, then the month.
        try watcher.publish(topic: "aq/\(station)/reading", payload: Array("not json".utf8), qos: 1)
        try watcher.publish(topic: "aq/\(station)/reading", payload: Array(#"{"time": 1388552400}"#.utf8), qos: 1)
        let lastHour = try replayJanuary2014(station: station, broker: broker).lastHour
        let network = weekAccuracy(inbox, topic: "aq/aqcast/accuracy", newestOrigin: lastHour - 1)
        let week = try #require(network, "no accuracy for the whole month: \(daemon.output)")
        // Until the reading log's writer (committing every 200 ms) has every accepted reading.
        let committed = eventually(seconds: 10) {
            guard let scrape = try? httpGet("http://127.0.0.1:\(port)/metrics"),
                let m = try? PrometheusExposition(scrape.2),
                let logged = try? ReadingLog(path: state + "/readings.sqlite").count()
            else { return false }
            return m.value("aqcast_reading_log_pending_readings") == 0
                && m.value("aqcast_readings_accepted_total") == Double(logged)
        }
        #expect(committed, "the reading log did not catch up with the accepted readings")

        let (status, type, body) = try httpGet("http://127.0.0.1:\(port)/metrics")
        #expect(status == 200)
        #expect(type == "text/plain; version=0.0.4; charset=utf-8")
        let m = try PrometheusExposition(body)
        let forecasts = inbox.on("aq/\(station)/forecast").count
        let logged = try ReadingLog(path: state + "/readings.sqlite").count()
        #expect(forecasts > 600 && logged > 600)
        #expect(m.value("aqcast_readings_accepted_total") == Double(logged))
        #expect(m.value("aqcast_readings_refused_total", ["reason": "not_json"]) == 1)
        #expect(m.value("aqcast_readings_refused_total", ["reason": "missing_field"]) == 1)
        #expect(m.families["aqcast_readings_refused_total"]?.samples.count == Rejection.Code.allCases.count)
        #expect(m.value("aqcast_forecasts_published_total") == Double(forecasts))
        // Each forecast came from a reading that completed its hour (none from the clock here).
        #expect(m.value("aqcast_reading_to_forecast_seconds_count") == Double(forecasts))
        #expect(m.value("aqcast_forecast_duration_seconds_count") == Double(forecasts))
        #expect(m.value("aqcast_stations", ["state": "forecasting"]) == 1)
        #expect(m.value("aqcast_stations", ["state": "waiting"]) == 0)
        #expect(m.value("aqcast_broker_connected") == 1)
        #expect(m.value("aqcast_broker_reconnects_total") == 0)
        #expect(m.value("aqcast_reading_log_pending_readings") == 0)
        #expect(m.value("aqcast_reading_log_dropped_readings_total") == 0)
        #expect((m.value("aqcast_reading_log_commit_seconds_count") ?? 0) >= 1)
        #expect(m.value("aqcast_model_info", ["model": "aqcast-default.json", "role": "main"]) == 1)
        #expect(m.families["aqcast_model_info"]?.samples.first?.labels["version"]?.isEmpty == false)
        for f in m.families.values {
            #expect(f.name.hasPrefix("aqcast_") && f.help != nil, "\(f.name)")
            #expect((f.type == "counter") == f.name.hasSuffix("_total"), "\(f.name)")
        }

        // The accuracy gauges hold the network topic's 7-day figures, hour ahead by hour ahead.
        let rows = try #require(week["by_horizon"] as? [[String: Any]])
        #expect(rows.count == 8)
        for (i, row) in rows.enumerated() {
            let at = ["window": "7d", "horizon": "\(i + 1)"]
            // Concentrations in g/m³ (µg/m³ on the topic), the gain a ratio (a percentage there).
            let pairs: [(String, [String: String], String, Double)] = [
                ("aqcast_accuracy_scored_forecasts", [:], "forecasts", 1),
                ("aqcast_accuracy_rmse_grams_per_cubic_meter", ["forecaster": "model"], "rmse", 1e6),
                ("aqcast_accuracy_rmse_grams_per_cubic_meter", ["forecaster": "persistence"], "persistence_rmse", 1e6),
                ("aqcast_accuracy_mae_grams_per_cubic_meter", ["forecaster": "model"], "mae", 1e6),
                ("aqcast_accuracy_bias_grams_per_cubic_meter", [:], "bias", 1e6),
                ("aqcast_accuracy_gain_ratio", [:], "gain_percent", 100),
                ("aqcast_accuracy_interval_coverage_ratio", [:], "coverage", 1),
            ]
            for (name, labels, key, scale) in pairs {
                let gauge = try #require(m.value(name, at.merging(labels) { a, _ in a }), "\(name) h\(i + 1)")
                let topic = try #require((row[key] as? NSNumber)?.doubleValue, "\(key) h\(i + 1)")
                #expect(
                    abs(gauge * scale - topic) < 1e-9 * max(1, abs(topic)),
                    "\(name) h\(i + 1): \(gauge) against \(topic)")
            }
        }
        let lint = try runTool(promtool(), ["check", "metrics"], input: body)
        #expect(lint.status == 0, "promtool: \(lint.output)")

        // The dashboard asks only for what the endpoint shows.
        let queries = try dashboardQueries()
        #expect(queries.count >= 20)
        for q in queries {
            for name in q.matches(of: /aqcast_[a-z_]+/).map({ String($0.output) }) {
                let family = name.replacing(/_(bucket|sum|count)$/, with: "")
                #expect(m.families[name] != nil || m.families[family]?.type == "histogram", "\(name) in \(q)")
            }
        }

        // A real Prometheus scrapes the endpoint and stores what it read; every query of the
        // dashboard is good PromQL and, but for one that shows only refusals still coming, has
        // an answer.
        try withPrometheus(scraping: "127.0.0.1:\(port)") { query in
            #expect(eventually(seconds: 60) { query("up{job=\"aqcast\"}")?.values == [1] }, "never scraped")
            #expect(query("aqcast_readings_accepted_total")?.values == [Double(logged)])
            for q in queries {
                let concrete = q.replacingOccurrences(of: "$__rate_interval", with: "10s")
                    .replacingOccurrences(of: "$instance", with: ".+")
                let filtered = q.hasSuffix("> 0")
                #expect(
                    eventually {
                        guard let a = query(concrete), a.status == "success" else { return false }
                        return filtered || !a.values.isEmpty
                    }, "\(concrete): \(String(describing: query(concrete)))")
            }
        }

        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 20) == 0, "\(daemon.output)")
    }

    @Test func aPortInUseIsSaidAndTheDaemonForecastsOn() throws {
        let broker = try Broker()
        let taken = try LocalForecastServer()  // any listener on loopback holds the port
        let daemon = try startDaemon(broker, extra: ["--metrics-listen", "127.0.0.1:\(taken.port)"])
        #expect(connectedLine(broker) != nil, "the daemon did not connect: \(daemon.output)")
        let said = FakeJournal.shared?.wait(seconds: 10) {
            $0["MESSAGE"]?.hasPrefix("metrics endpoint cannot listen on 127.0.0.1:\(taken.port)") == true
                && $0["PRIORITY"] == "3"
        }
        #expect(said != nil, "no error line for the port in use: \(daemon.output)")
        let station = "mp\(UUID().uuidString.prefix(6).lowercased())"
        let inbox = Inbox()
        let c = try client(broker, id: "t-mp", inbox: inbox, subscribe: "aq/\(station)/forecast")
        for h in 0..<25 {
            try c.publish(topic: "aq/\(station)/reading", payload: payload(hour: base + Int64(h)), qos: 1)
        }
        let deadline = Date().addingTimeInterval(20)
        while inbox.on("aq/\(station)/forecast").isEmpty, Date() < deadline { usleep(50_000) }
        #expect(!inbox.on("aq/\(station)/forecast").isEmpty, "no forecast: \(daemon.output)")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 20) == 0, "\(daemon.output)")
    }

    @Test func theStrictReaderRefusesWhatTheFormatDoesNotAllow() {
        let good = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"q\\\"\"} 1\n"
        #expect((try? PrometheusExposition(good)) != nil)
        for bad in [
            "# TYPE a_total counter\na_total 1",  // no final newline
            "a_total 1\n",  // before TYPE
            "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n",  // split family
            "# TYPE a gauge\na nan\n",  // NaN spelt otherwise
            "# TYPE a gauge\na{x=\"\\t\"} 1\n",  // an escape the format has not
            "# TYPE a gauge\na 1\na 2\n",  // a series twice
            "# TYPE a gauge\n# TYPE a gauge\na 1\n",  // TYPE twice
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
            "# TYPE a gauge\nb 1\n",  // outside its family
            "# TYPE a gauge\na  1\n",  // two spaces
        ] {
            #expect((try? PrometheusExposition(bad)) == nil, "\(bad)")
        }
    }
}

/// GET `url`: the status, the content type and the body.
func httpGet(_ url: String) throws -> (Int, String?, String) {
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: (Int, String?, String)?
    nonisolated(unsafe) var failure: (any Error)?
    URLSession.shared.dataTask(with: URL(string: url)!) { data, response, error in
        if let http = response as? HTTPURLResponse, let data {
            result = (
                http.statusCode, http.value(forHTTPHeaderField: "Content-Type"), String(decoding: data, as: UTF8.self)
            )
        } else {
            failure = error ?? URLError(.badServerResponse)
        }
        done.signal()
    }.resume()
    done.wait()
    if let failure { throw failure }
    return result!
}

/// What Prometheus' query API answered: its status and the values of the series it found.
struct PrometheusAnswer {
    var status: String
    var values: [Double]
}

/// Runs a Prometheus server (from ``promtool()``'s folder) scraping `target` every second
/// while `body` runs; `body` gets a function asking the server an instant query.
func withPrometheus<T>(scraping target: String, _ body: (_ query: (String) -> PrometheusAnswer?) throws -> T)
    throws -> T
{
    let server = try promtool().replacingOccurrences(of: "/promtool", with: "/prometheus")
    let dir = temporaryDirectory()
    try """
    global:
      scrape_interval: 1s
    scrape_configs:
      - job_name: aqcast
        static_configs:
          - targets: ["\(target)"]
    """.write(toFile: dir + "/prometheus.yml", atomically: true, encoding: .utf8)
    let port = freePort()
    let p = try ChildProcess(
        server,
        [
            "--config.file=\(dir)/prometheus.yml", "--storage.tsdb.path=\(dir)/data",
            "--web.listen-address=127.0.0.1:\(port)",
        ])
    defer {
        p.signal(SIGTERM)
        _ = p.wait(seconds: 20)
    }
    return try body { q in
        let encoded = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
        guard let (_, _, text) = try? httpGet("http://127.0.0.1:\(port)/api/v1/query?query=\(encoded)"),
            let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let status = json["status"] as? String
        else { return nil }
        let result = (json["data"] as? [String: Any])?["result"] as? [[String: Any]] ?? []
        return PrometheusAnswer(
            status: status,
            values: result.compactMap { ($0["value"] as? [Any])?.last as? String }.compactMap { Double($0) })
    }
}

/// Polls `condition` every 250 ms for up to `seconds`; whether it came true.
func eventually(seconds: Double = 30, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(250_000)
    }
    return condition()
}

/// The PromQL of every panel of the shipped Grafana dashboard.
func dashboardQueries() throws -> [String] {
    let path = Shipped.root.appendingPathComponent("contrib/grafana/aqcast-dashboard.json").path
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
    let panels = json?["panels"] as? [[String: Any]] ?? []
    return panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
}

/// Prometheus' own linter, unpacked from Debian's package by `scripts/fetch-prometheus.sh`
/// (the test command runs it).
func promtool() throws -> String {
    let path = Shipped.root.appendingPathComponent(".build-tools/prometheus/usr/bin/promtool").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw POSIXError(.ENOENT, "no \(path): run scripts/fetch-prometheus.sh")
    }
    return path
}

/// Runs `tool` with `arguments` and `input` on its standard input: exit status and output.
func runTool(_ tool: String, _ arguments: [String], input: String) throws -> (status: Int32?, output: String) {
    let file = temporaryDirectory() + "/input"
    try input.write(toFile: file, atomically: true, encoding: .utf8)
    let quoted = ([tool] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
    let p = try ChildProcess("/bin/sh", ["-c", quoted.joined(separator: " ") + " < '\(file)'"])
    return (p.wait(seconds: 60), p.output)
}

extension POSIXError {
    init(_ code: POSIXError.Code, _ message: String) {
        self.init(code, userInfo: [NSLocalizedDescriptionKey: message])
    }
}
