import AQCastTestSupport
import AirQuality
import Foundation
import MQTTClient
import ReadingLog
import Testing
import Training

@testable import ForecastDaemon

/// The keys Home Assistant's MQTT sensor documents
/// (https://www.home-assistant.io/integrations/sensor.mqtt/), its device and origin blocks.
enum HomeAssistantKeys {
    static let sensor: Set<String> = [
        "availability", "availability_mode", "availability_template", "availability_topic", "default_entity_id",
        "device", "device_class", "enabled_by_default", "encoding", "entity_category", "entity_picture",
        "expire_after", "force_update", "icon", "json_attributes_template", "json_attributes_topic",
        "last_reset_value_template", "name", "options", "origin", "payload_available", "payload_not_available",
        "platform", "qos", "state_class", "state_topic", "suggested_display_precision", "unique_id",
        "unit_of_measurement", "value_template",
    ]
    static let device: Set<String> = [
        "configuration_url", "connections", "hw_version", "identifiers", "manufacturer", "model", "model_id", "name",
        "serial_number", "suggested_area", "sw_version", "via_device",
    ]
    static let origin: Set<String> = ["name", "sw_version", "support_url"]
}

/// Renders a Home Assistant template with Jinja2, as Home Assistant does (`value_json` is the
/// payload read as JSON; `tojson` and `default` are Jinja2's own filters).
func renderTemplate(_ template: String, payload: [UInt8]) throws -> String {
    let script = """
        import json, sys, jinja2
        job = json.load(sys.stdin)
        env = jinja2.Environment(undefined=jinja2.StrictUndefined)
        print(env.from_string(job["template"]).render(value_json=json.loads(job["payload"])), end="")
        """
    let job = try JSONSerialization.data(withJSONObject: [
        "template": template, "payload": String(decoding: payload, as: UTF8.self),
    ])
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.arguments = ["-c", script]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    input.fileHandleForWriting.write(job)
    try input.fileHandleForWriting.close()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw POSIXError(.EINVAL) }
    return String(decoding: out, as: UTF8.self)
}

@Suite struct HomeAssistantDiscoveryTests {
    let start: Int64 = 385_000

    func discovery(horizons: [Int] = [1, 3, 8], horizonHours: Int = 8) -> HomeAssistantDiscovery {
        var settings = HomeAssistantSettings()
        settings.enabled = true
        settings.horizons = horizons
        return HomeAssistantDiscovery(
            settings: settings, horizonHours: horizonHours, forecastTopic: { "aq/\($0)/forecast" },
            stateTopic: { "aq/\($0)/state" }, accuracyTopic: { "aq/\($0)/accuracy" }, statusTopic: "aq/aqcast/status",
            version: "0.5.0")
    }

    func configs(_ station: String) throws -> [String: [String: Any]] {
        var out: [String: [String: Any]] = [:]
        for (topic, payload) in discovery().configs(for: station) {
            out[topic] = try #require(try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any])
        }
        return out
    }

    @Test func eachConfigHasOnlyDocumentedKeysAndTheOnesWeNeed() throws {
        let all = try configs("dongsi")
        #expect(
            Set(all.keys) == [
                "homeassistant/sensor/aqcast_dongsi/pm25_h1/config",
                "homeassistant/sensor/aqcast_dongsi/pm25_h3/config",
                "homeassistant/sensor/aqcast_dongsi/pm25_h8/config", "homeassistant/sensor/aqcast_dongsi/state/config",
                "homeassistant/sensor/aqcast_dongsi/gain_7d/config",
            ])
        for (topic, c) in all {
            #expect(
                Set(c.keys).isSubset(of: HomeAssistantKeys.sensor),
                "\(topic): \(Set(c.keys).subtracting(HomeAssistantKeys.sensor))")
            for key in [
                "name", "unique_id", "default_entity_id", "state_topic", "value_template", "availability_topic",
                "device", "origin",
            ] {
                #expect(c[key] != nil, "\(topic) lacks \(key)")
            }
            #expect(c["object_id"] == nil, "the deprecated object_id")
            let device = try #require(c["device"] as? [String: Any])
            #expect(Set(device.keys).isSubset(of: HomeAssistantKeys.device))
            #expect(device["identifiers"] as? [String] == ["aqcast_dongsi"])
            let origin = try #require(c["origin"] as? [String: Any])
            #expect(Set(origin.keys).isSubset(of: HomeAssistantKeys.origin) && origin["name"] as? String == "aqcast")
            #expect(c["availability_topic"] as? String == "aq/aqcast/status")
            #expect((c["default_entity_id"] as? String)?.hasPrefix("sensor.aqcast_dongsi_") == true)
        }
        let h3 = try #require(all["homeassistant/sensor/aqcast_dongsi/pm25_h3/config"])
        #expect(h3["device_class"] as? String == "pm25" && h3["unit_of_measurement"] as? String == "µg/m³")
        #expect(h3["state_class"] as? String == "measurement" && h3["state_topic"] as? String == "aq/dongsi/forecast")
        #expect(h3["unique_id"] as? String == "aqcast_dongsi_pm25_h3")
        let state = try #require(all["homeassistant/sensor/aqcast_dongsi/state/config"])
        #expect(
            state["device_class"] as? String == "enum" && state["options"] as? [String] == ["forecasting", "waiting"])
    }

    @Test func stationIdsThatAreNotSafeGetAStableNodeOfTheirOwn() {
        #expect(HomeAssistantDiscovery.node("dongsi-2_b") == "aqcast_dongsi-2_b")
        let a = HomeAssistantDiscovery.node("Node.7")
        let b = HomeAssistantDiscovery.node("node.7")
        #expect(a.hasPrefix("aqcast_node_7_") && b.hasPrefix("aqcast_node_7_") && a != b)
        #expect(a == HomeAssistantDiscovery.node("Node.7"))
        #expect(
            a.unicodeScalars.allSatisfy {
                CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789_-").contains($0)
            })
        // An id spelled as another station's hashed node gets a node of its own, not the victim's.
        let impostor = String(a.dropFirst("aqcast_".count))
        #expect(HomeAssistantDiscovery.node(impostor) != a, "\(impostor) took over \(a)")
        #expect(HomeAssistantDiscovery.node(impostor).hasPrefix("aqcast_\(impostor)_"))
        // Quotes and backslashes in an id are escaped in the JSON, never break it.
        let odd = discovery().configs(for: #"a"b\c"#)
        #expect(odd.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.payload))) != nil })
    }

    @Test func horizonsPastTheForecastGetNoSensor() {
        #expect(discovery(horizons: [1, 3, 8, 24], horizonHours: 8).topics(for: "s").count == 5)
        #expect(
            discovery(horizons: [24], horizonHours: 24).topics(for: "s") == [
                "homeassistant/sensor/aqcast_s/pm25_h24/config", "homeassistant/sensor/aqcast_s/state/config",
                "homeassistant/sensor/aqcast_s/gain_7d/config",
            ])
    }

    /// The engine tells which stations left memory, once, so their entities can be removed.
    @Test func expiredStationsAreToldOnce() {
        let e = shippedEngine { $0.stationExpiryHours = 1 }
        let now = Double(start + 100) * 3600
        _ = e.ingest(station: "a", payload: payload(hour: start + 99), retained: false, now: now)
        #expect(e.takeExpired().isEmpty)
        _ = e.ingest(station: "b", payload: payload(hour: start + 101), retained: false, now: now + 7200)
        #expect(e.takeExpired() == ["a"])
        #expect(e.takeExpired().isEmpty)
        #expect(discovery().topics(for: "a").count == 5)
    }

    /// Every template, rendered by Jinja2 against a real forecast and state of the engine,
    /// picks the right values.
    @Test func theTemplatesPickTheRightValuesFromARealForecast() throws {
        let e = shippedEngine()
        var forecast: StationForecast?
        var state: StationState?
        for h in 0..<24 {
            if case .accepted(_, _, let f, _, let s) = e.ingest(
                station: "dongsi", payload: payload(hour: start + Int64(h)), retained: false,
                now: Double(start + 100) * 3600)
            {
                forecast = f ?? forecast
                state = s ?? state
            }
        }
        let f = try #require(forecast)
        let json = f.json()
        let all = try configs("dongsi")
        for h in [1, 3, 8] {
            let c = try #require(all["homeassistant/sensor/aqcast_dongsi/pm25_h\(h)/config"])
            let value = try renderTemplate(try #require(c["value_template"] as? String), payload: json)
            let hour = f.hours[h - 1]
            #expect(Double(value) == (hour.pm25 * 10).rounded() / 10, "h\(h): \(value) against \(hour.pm25)")
            let attributes = try renderTemplate(try #require(c["json_attributes_template"] as? String), payload: json)
            let read = try #require(try JSONSerialization.jsonObject(with: Data(attributes.utf8)) as? [String: Any])
            #expect(read["valid_time"] as? String == isoHour(f.basedOnHour + Int64(h)))
            #expect(read["lower"] as? Double == (hour.lower * 10).rounded() / 10)
            #expect(read["upper"] as? Double == (hour.upper * 10).rounded() / 10)
            #expect(read["based_on_hour"] as? String == isoHour(f.basedOnHour))
            #expect(read["weather"] as? String == "held")
        }
        let s = try #require(all["homeassistant/sensor/aqcast_dongsi/state/config"])
        let stateJSON = try #require(state).json(station: "dongsi")
        #expect(try renderTemplate(try #require(s["value_template"] as? String), payload: stateJSON) == "forecasting")
        let waiting = StationState.waiting(reason: "gap of 5 hours", hour: start).json(station: "dongsi")
        #expect(try renderTemplate(try #require(s["value_template"] as? String), payload: waiting) == "waiting")
        let why = try renderTemplate(try #require(s["json_attributes_template"] as? String), payload: waiting)
        #expect(why.contains("gap of 5 hours"))
        // The 7-day gain, from a live accuracy payload.
        let scored = (0..<48).map { k in
            ReadingLog.ScoredForecast(
                forecast: .init(
                    station: "dongsi", originHour: start + Int64(k), horizon: 1, pm25: 50, lower: 30, upper: 70,
                    issuedAt: 0),
                truth: 52, persistence: 60)
        }
        let accuracy = LiveAccuracy(scored, horizon: 8)
        let g = try #require(all["homeassistant/sensor/aqcast_dongsi/gain_7d/config"])
        let gainText = try renderTemplate(
            try #require(g["value_template"] as? String), payload: accuracy.json(station: "dongsi", updatedAt: 0))
        let expected = accuracy.overallGain(1, station: "dongsi")?.gain ?? .nan
        #expect(Double(gainText) == (expected * 10).rounded() / 10, "\(gainText) against \(expected)")
        #expect(expected == 75)
        // A station id from outside is escaped in the accuracy payload, which parses back.
        let odd = LiveAccuracy(
            scored.map {
                var s = $0
                s.forecast.station = #"a"b\c"#
                return s
            }, horizon: 8
        ).json(station: #"a"b\c"#, updatedAt: 0)
        let read = try #require(try JSONSerialization.jsonObject(with: Data(odd)) as? [String: Any])
        #expect(read["station"] as? String == #"a"b\c"#)
    }
}

/// Discovery through a real broker: the configs of a station once it is first published for,
/// and again when Home Assistant announces itself.
@Suite(.serialized) struct HomeAssistantDaemonTests {
    init() {
        #expect(FakeJournal.shared != nil, "the test journal socket could not be bound")
    }

    /// A daemon with `[homeassistant] enabled` and sensors for 1 and 8 hours ahead.
    private func startDaemonWithDiscovery(_ broker: Broker) throws -> ChildProcess {
        let state = temporaryDirectory()
        let config = state + "/aqcast.toml"
        try "[homeassistant]\nenabled = true\nhorizons = [1, 8]\n".write(
            toFile: config, atomically: true, encoding: .utf8)
        return try startDaemon(broker, stateDir: state, extra: ["--config", config])
    }

    @Test func stationsAreAnnouncedAndAnnouncedAgainWhenHomeAssistantStarts() throws {
        let broker = try Broker()
        let daemon = try startDaemonWithDiscovery(broker)
        let inbox = Inbox()
        let watcher = try client(broker, id: "t-ha", inbox: inbox, subscribe: "homeassistant/#")
        defer { withExtendedLifetime(watcher) {} }
        #expect(connectedLine(broker) != nil, "the daemon did not connect: \(daemon.output)")
        let publisher = try client(broker, id: "t-ha-pub")
        let station = "ha\(UUID().uuidString.prefix(6).lowercased())"
        for h in 0..<24 {
            try publisher.publish(topic: "aq/\(station)/reading", payload: payload(hour: 385_000 + Int64(h)), qos: 1)
        }
        let topics = ["pm25_h1", "pm25_h8", "state", "gain_7d"].map {
            "homeassistant/sensor/aqcast_\(station)/\($0)/config"
        }
        for topic in topics {
            let got = inbox.wait(seconds: 15, topic: topic)
            #expect(got.count == 1, "\(topic): \(got.count) configs; \(daemon.output)")
            let c = try #require(
                got.first.flatMap { try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any] })
            #expect(c["availability_topic"] as? String == "aq/aqcast/status")
        }
        // Home Assistant restarts: every config once more.
        try publisher.publish(topic: "homeassistant/status", payload: Array("online".utf8), qos: 1)
        for topic in topics {
            #expect(inbox.wait(seconds: 15, topic: topic, count: 2).count == 2, "\(topic) not republished")
        }
        // A late subscriber (Home Assistant starting after us) finds them retained.
        let late = Inbox()
        let other = try client(
            broker, id: "t-ha-late", inbox: late, subscribe: "homeassistant/sensor/aqcast_\(station)/#")
        defer { withExtendedLifetime(other) {} }
        for topic in topics { #expect(late.wait(seconds: 10, topic: topic).first?.retained == true) }
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 20) == 0, "\(daemon.output)")
    }

    /// Ten `online` messages on Home Assistant's status topic at once (anyone may publish them;
    /// Home Assistant does at every start): one announcement of every station's configs, made
    /// in the background, not ten made on the MQTT thread while readings wait.
    @Test func aFloodOfOnlineMessagesIsOneAnnouncementAndReadingsFlow() throws {
        let broker = try Broker()
        let daemon = try startDaemonWithDiscovery(broker)
        let inbox = Inbox()
        let tag = UUID().uuidString.prefix(6).lowercased()
        let watcher = try client(broker, id: "t-flood-ha", inbox: inbox, subscribe: "homeassistant/sensor/#")
        defer { withExtendedLifetime(watcher) {} }
        let forecasts = Inbox()
        let forecastWatcher = try client(broker, id: "t-flood-fc", inbox: forecasts, subscribe: "aq/+/forecast")
        defer { withExtendedLifetime(forecastWatcher) {} }
        #expect(connectedLine(broker) != nil, "the daemon did not connect: \(daemon.output)")
        let publisher = try client(broker, id: "t-flood-pub")
        let stations = (0..<100).map { "fl\(tag)\($0)" }
        for h in 0..<24 {
            for station in stations {
                try publisher.publish(
                    topic: "aq/\(station)/reading", payload: payload(hour: 385_000 + Int64(h)), qos: 1)
            }
        }
        // Four configs a station (two horizons, the state, the gain).
        let perAnnouncement = stations.count * 4
        func configs() -> Int { inbox.count { $0.topic.hasSuffix("/config") } }
        #expect(eventually(seconds: 60) { configs() == perAnnouncement }, "\(configs()) configs; \(daemon.output)")
        for _ in 0..<10 {
            try publisher.publish(topic: "homeassistant/status", payload: Array("online".utf8), qos: 1)
        }
        // Readings go on meanwhile.
        try publisher.publish(topic: "aq/\(stations[0])/reading", payload: payload(hour: 385_024), qos: 1)
        #expect(
            forecasts.wait(seconds: 15, topic: "aq/\(stations[0])/forecast", count: 2).count == 2,
            "no forecast while Home Assistant's online was answered")
        #expect(
            eventually(seconds: 30) { configs() >= 2 * perAnnouncement }, "\(configs()) configs; \(daemon.output)")
        // The other nine are one more request, answered after the minute's interval: none within it.
        sleep(5)
        #expect(configs() == 2 * perAnnouncement, "\(configs() - perAnnouncement) configs again for ten onlines")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 20) == 0, "\(daemon.output)")
    }

    /// A new sensor's first reading: its state (`waiting`, first reading in), its Home Assistant
    /// device and an info line in the journal, at once. A Tasmota sensor's hour is complete only
    /// when the next one starts, so it used to show nothing for up to an hour.
    @Test func aNewStationShowsUpAtItsFirstReading() throws {
        let broker = try Broker()
        let state = temporaryDirectory()
        let config = state + "/aqcast.toml"
        try """
        [homeassistant]
        enabled = true
        horizons = [1, 8]

        [input.tasmota]
        profile = "tasmota"
        topic = "tele/{station}/SENSOR"
        timezone = "UTC"
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try startDaemon(broker, stateDir: state, extra: ["--config", config])
        let inbox = Inbox()
        let watcher = try client(broker, id: "t-new-ha", inbox: inbox, subscribe: "#")
        defer { withExtendedLifetime(watcher) {} }
        #expect(connectedLine(broker) != nil, "the daemon did not connect: \(daemon.output)")
        let station = "new\(UUID().uuidString.prefix(6).lowercased())"
        let publisher = try client(broker, id: "t-new-pub")
        let time = String(isoHour(385_000).dropLast()).replacingOccurrences(of: ":00:00", with: ":05:00")
        try publisher.publish(
            topic: "tele/\(station)/SENSOR",
            payload: Array(
                #"{"Time":"\#(time)","SDS0X1":{"PM2.5":32.0},"SHT3X":{"Temperature":3.0,"Humidity":60.0}}"#.utf8),
            qos: 1)
        let published = try #require(inbox.wait(seconds: 10, topic: "aq/\(station)/state").first, "no state")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(published.payload)) as? [String: Any])
        #expect(json["state"] as? String == "waiting")
        #expect(
            json["reason"] as? String == "first reading in: forecasts start at \(isoHour(385_023))", "\(json)")
        #expect(inbox.wait(seconds: 10, topic: "homeassistant/sensor/aqcast_\(station)/state/config").count == 1)
        let line = FakeJournal.shared?.wait(seconds: 10) {
            ($0["MESSAGE"] ?? "") == "new station: first reading in: forecasts start at \(isoHour(385_023))"
                && $0["STATION"] == station
        }
        #expect(line?["PRIORITY"] == "6", "\(daemon.output)")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 20) == 0, "\(daemon.output)")
    }
}
