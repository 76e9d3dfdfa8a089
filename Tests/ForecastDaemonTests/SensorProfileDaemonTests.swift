import AQCastTestSupport
import AirQuality
import Foundation
import MQTTClient
import ReadingLog
import Testing

/// Each payload profile through a real broker, as the firmware sends it: readings in, forecasts
/// out, and each forecast naming where its inputs came from. One weather station (`roof`, our
/// JSON without PM2.5) gives the pressure and wind the cheap sensors lack.
@Suite(.serialized) struct SensorProfileDaemonTests {
    init() {
        #expect(FakeJournal.shared != nil, "the test journal socket could not be bound")
    }

    static let configuration = """
        [input.tasmota]
        profile = "tasmota"
        topic = "tele/{station}/SENSOR"
        timezone = "+01:00"
        readings_per_hour = 1

        [input.airgradient]
        profile = "airgradient"
        topic = "airgradient/readings/{station}"
        readings_per_hour = 1

        [input.esphome]
        profile = "esphome"
        topic = "esphome/{station}/sensor/{quantity}/state"
        readings_per_hour = 1

        [input.statestream]
        profile = "statestream"
        topic = "homeassistant/sensor/{station}_{quantity}/state"
        readings_per_hour = 1

        [input.json]
        profile = "json"
        topic = "lab/{station}/data"
        time = "ts"
        pm25 = "pm.pm25"
        temperature = "climate.t"
        humidity = "climate.rh"
        temperature_unit = "F"

        [weather_sources]
        default = "roof"
        """

    func roof(_ time: Int64) -> [UInt8] {
        Array(
            #"{"time": \#(time), "dew_point": -5, "temperature": 3, "pressure": 1018, "wind_direction": "NW", "wind_speed": 2.2}"#
                .utf8)
    }

    @Test func everyProfileIsForecastAndNamesItsInputs() throws {
        let broker = try Broker()
        let state = temporaryDirectory()
        let config = state + "/aqcast.toml"
        try Self.configuration.write(toFile: config, atomically: true, encoding: .utf8)
        // The stations stamped on arrival have their last 23 hours in the log already, as after
        // a day of running: the live message completes a whole window.
        let now = Date().timeIntervalSince1970
        let hour = hourContaining(Int64(now))
        let tag = UUID().uuidString.prefix(6).lowercased()
        let live = ["ag\(tag)", "esp\(tag)", "ha\(tag)"]
        let log = try ReadingLog(path: state + "/readings.sqlite")
        try log.append(
            live.flatMap { station in
                (1...23).map { back in
                    ReadingLog.Entry(
                        reading: Reading(
                            station: station, time: (hour - Int64(back)) * 3600, pm25: 30, dewPoint: -5, temperature: 3,
                            pressure: 1018, windDirection: .northWest, windSpeed: 2.2),
                        arrived: now - Double(back) * 3600)
                }
            })
        let daemon = try startDaemon(broker, stateDir: state, extra: ["--config", config])
        let inbox = Inbox()
        let subscriber = try client(broker, id: "t-sub", inbox: inbox, subscribe: "aq/+/forecast")
        defer { withExtendedLifetime(subscriber) {} }
        #expect(connectedLine(broker) != nil, "the daemon did not connect: \(daemon.output)")
        let publisher = try client(broker, id: "t-pub")
        func send(_ topic: String, _ text: String) throws {
            try publisher.publish(topic: topic, payload: Array(text.utf8), qos: 1)
        }

        // The stations that send their own time: a day of hours, the roof's weather before each.
        let tasmota = "tasmota_\(tag)"
        let lab = "lab\(tag)"
        for h in 0..<24 {
            let t = (base + Int64(h)) * 3600
            try publisher.publish(topic: "aq/roof/reading", payload: roof(t), qos: 1)
            let local = String(isoHour(base + Int64(h) + 1).dropLast())  // UTC+1, no zone
            try send(
                "tele/\(tasmota)/SENSOR",
                #"{"Time":"\#(local)","SDS0X1":{"PM2.5":32.0,"PM10":40.1},"SHT3X":{"Temperature":3.0,"Humidity":60.0,"DewPoint":-4.1},"TempUnit":"C"}"#
            )
            try send("lab/\(lab)/data", #"{"ts": \#(t), "pm": {"pm25": 35}, "climate": {"t": 37.4, "rh": 60}}"#)
        }
        // Then the stations stamped on arrival, with the roof's weather of now.
        try publisher.publish(topic: "aq/roof/reading", payload: roof(Int64(now)), qos: 1)
        try send(
            "airgradient/readings/\(live[0])",
            #"{"wifi":-46,"serialno":"\#(live[0])","rco2":447,"pm01":3,"pm02":7,"pm10":8,"pm003Count":442,"atmp":25.87,"rhum":43,"tvocIndex":100,"noxIndex":1,"boot":6}"#
        )
        try send("esphome/\(live[1])/sensor/temperature/state", "3.5")
        try send("esphome/\(live[1])/sensor/humidity/state", "61")
        try send("esphome/\(live[1])/sensor/pm_2_5/state", "12.5")
        try send("homeassistant/sensor/\(live[2])_temperature/state", "4.0")
        try send("homeassistant/sensor/\(live[2])_humidity/state", "70")
        try send("homeassistant/sensor/\(live[2])_pm_2_5/state", "unavailable")
        try send("homeassistant/sensor/\(live[2])_pm_2_5/state", "9.0")

        func forecast(_ station: String, from earliest: Int64) -> [String: Any]? {
            newestForecast(inbox, station: station, basedOnOrAfter: earliest)
        }
        let expected: [(String, Int64, [String: String])] = [
            (
                tasmota, base + 23,
                ["temperature": "station", "dew_point": "station", "pressure": "weather source roof"]
            ),
            (
                lab, base + 23,
                [
                    "temperature": "station", "dew_point": "derived from temperature and humidity",
                    "wind_speed": "weather source roof",
                ]
            ),
            (
                live[0], hour,
                [
                    "temperature": "station", "dew_point": "derived from temperature and humidity",
                    "wind_direction": "weather source roof",
                ]
            ),
            (
                live[1], hour,
                [
                    "temperature": "station, an earlier message", "dew_point": "derived from temperature and humidity",
                    "pressure": "weather source roof",
                ]
            ),
            (live[2], hour, ["temperature": "station, an earlier message", "pressure": "weather source roof"]),
        ]
        for (station, earliest, inputs) in expected {
            let json = forecast(station, from: earliest)
            #expect(
                json != nil, "no forecast for \(station) from \(isoHour(earliest)) on: \(daemon.output.suffix(3000))")
            let named = json?["inputs"] as? [String: String]
            for (input, origin) in inputs {
                #expect(named?[input] == origin, "\(station): \(input) is \(named?[input] ?? "missing"), not \(origin)")
            }
            #expect((json?["hours"] as? [[String: Any]])?.count == 8)
        }
        // The Home Assistant state that was no number is refused with its reason; nothing stops.
        let refused = FakeJournal.shared?.wait(seconds: 5) {
            $0["REASON"] == "wrong_type" && $0["STATION"] == live[2]
                && $0["MESSAGE"] == "reading rejected: the PM2.5 state is 'unavailable', not a number"
        }
        #expect(refused != nil)
        // What was read is in the log, whole: the roof's weather filled in the Tasmota's wind.
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 10) == 0)
        let logged = try ReadingLog(path: state + "/readings.sqlite").all().filter { $0.station == tasmota }
        #expect(
            logged.count == 24
                && logged.allSatisfy { $0.pressure == 1018 && $0.windDirection == .northWest && $0.pm25 == 32 })
    }

    /// No weather source at all: an AirGradient monitor (PM2.5, temperature, humidity) is
    /// forecast by the shipped model for those inputs, which its forecast and state name; its
    /// day in the log (as such a station logs it, without pressure or wind) rebuilds its window.
    @Test func aMonitorWithoutWindIsForecastByTheModelForItsInputs() throws {
        let broker = try Broker()
        let state = temporaryDirectory()
        let config = state + "/aqcast.toml"
        try
            "[input.airgradient]\nprofile = \"airgradient\"\ntopic = \"airgradient/readings/{station}\"\nreadings_per_hour = 1\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let now = Date().timeIntervalSince1970
        let hour = hourContaining(Int64(now))
        let station = "ag\(UUID().uuidString.prefix(6).lowercased())"
        try ReadingLog(path: state + "/readings.sqlite").append(
            (1...23).map { back in
                ReadingLog.Entry(
                    reading: Reading(
                        station: station, time: (hour - Int64(back)) * 3600, pm25: 30, dewPoint: 10, temperature: 25,
                        pressure: .nan, windDirection: .calm, windSpeed: .nan),
                    arrived: now - Double(back) * 3600)
            })
        let daemon = try startDaemon(broker, stateDir: state, extra: ["--config", config])
        let inbox = Inbox()
        let subscriber = try client(broker, id: "t-sub", inbox: inbox, subscribe: "aq/#")
        defer { withExtendedLifetime(subscriber) {} }
        #expect(connectedLine(broker) != nil, "the daemon did not connect: \(daemon.output)")
        let publisher = try client(broker, id: "t-pub")
        try publisher.publish(
            topic: "airgradient/readings/\(station)",
            payload: Array(#"{"wifi":-46,"serialno":"x","pm02":7,"atmp":25.87,"rhum":43}"#.utf8), qos: 1)
        let live = newestForecast(inbox, station: station, basedOnOrAfter: hour)
        #expect(live?["model_inputs"] as? String == "pm25+dew_point+temperature", "\(daemon.output.suffix(2000))")
        #expect((live?["model"] as? String)?.hasPrefix("aqcast-pm25-temperature-humidity.json ") == true)
        let inputs = live?["inputs"] as? [String: String]
        #expect(inputs?["dew_point"] == "derived from temperature and humidity")
        #expect(inputs?["pressure"] == "none" && inputs?["wind_speed"] == "none")
        let states = inbox.on("aq/\(station)/state").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: String]
        }
        #expect(states.last?["model_inputs"] == "pm25+dew_point+temperature")
        let loaded = FakeJournal.shared?.wait(seconds: 2) {
            $0["MESSAGE"] == "model for fewer inputs loaded" && $0["INPUTS"] == "pm25"
        }
        #expect(loaded != nil, "the journal does not say the models for fewer inputs were loaded")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 10) == 0)
        let logged = try ReadingLog(path: state + "/readings.sqlite").all().filter { $0.station == station }
        #expect(logged.count == 24 && logged.last?.pm25 == 7 && logged.last?.pressure.isNaN == true)
    }
}

/// The newest forecast `inbox` received for `station` made from `earliest` or a later hour,
/// waiting up to 15 s for one; nil if none came.
func newestForecast(_ inbox: Inbox, station: String, basedOnOrAfter earliest: Int64) -> [String: Any]? {
    let deadline = Date().addingTimeInterval(15)
    while Date() < deadline {
        for m in inbox.on("aq/\(station)/forecast").reversed() {
            if let json = try? JSONSerialization.jsonObject(with: Data(m.payload)) as? [String: Any],
                let based = json["based_on_hour"] as? String, based >= isoHour(earliest)
            {
                return json
            }
        }
        usleep(50_000)
    }
    return nil
}
