import AirQuality
import Testing

@testable import ForecastDaemon

/// `[input.NAME]` and `[weather_sources]`: what they take, what they refuse and where, and how
/// an input's topic finds the station and the quantity.
@Suite struct InputConfigurationTests {
    func parse(_ text: String) throws -> DaemonConfiguration { try ConfigurationFile.parse(text, file: "t.toml") }

    func error(_ text: String) -> String? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func inputsAndWeatherSourcesAreRead() throws {
        let c = try parse(
            """
            [input.community]
            profile = "tasmota"
            topic = "tele/{station}/SENSOR"
            timezone = "+01:00"

            [input.esp]
            profile = "esphome"
            topic = "{station}/sensor/{quantity}/state"
            pm25 = "particulate_matter_2_5"
            temperature_unit = "F"

            [weather_sources]
            default = "roof"
            kitchen-2 = "garden"
            "node.7" = "garden"
            """)
        #expect(c.inputs.map(\.name) == ["community", "esp"])
        #expect(c.inputs[0].topic.filter == "tele/+/SENSOR" && c.inputs[0].format.timeZoneOffset == 3600)
        #expect(c.inputs[0].readingsPerHour == 0, "a Tasmota hour is complete by time")
        #expect(c.inputs[1].format.names[.pm25] == "particulate_matter_2_5")
        #expect(
            c.inputs[1].format.names[.humidity] == "humidity" && c.inputs[1].format.units.temperature == .fahrenheit)
        #expect(c.forecast.defaultWeatherSource == "roof")
        #expect(c.forecast.weatherSources == ["kitchen-2": "garden", "node.7": "garden"])
        #expect(
            c.forecast.weatherSource(of: "kitchen-2") == "garden" && c.forecast.weatherSource(of: "other") == "roof")
        #expect(c.forecast.weatherSource(of: "roof") == nil, "a source is not its own source")
    }

    /// Two subscriptions one topic can match: the broker delivers such a message once per
    /// subscription, so it was handled and logged twice. Refused at start, naming a topic.
    @Test func inputsWhoseFiltersOverlapAreRefused() throws {
        let both = """
            [input.esp]
            profile = "esphome"
            topic = "{station}/sensor/{quantity}/state"

            [input.ha]
            profile = "statestream"
            topic = "homeassistant/sensor/{station}_{quantity}/state"
            """
        #expect(
            error(both)
                == "t.toml line 7, key input.ha.topic: its filter homeassistant/sensor/+/state overlaps [input.esp]'s "
                + "+/sensor/+/state: a topic such as homeassistant/sensor/x/state matches both, and the broker would "
                + "deliver each such message twice; make one narrower")
        #expect(
            error("[input.t]\nprofile = \"tasmota\"\ntopic = \"aq/{station}/reading\"\n")?
                .contains("overlaps [topics] readings's aq/+/reading") == true)
        // Filters of different depths, or with different literal levels, are apart.
        let apart = try parse(both.replacingOccurrences(of: "topic = \"{station}", with: "topic = \"esphome/{station}"))
        #expect(apart.inputs.count == 2)
        #expect(overlappingTopic("a/+/c", "a/b/d") == nil)
        #expect(overlappingTopic("+/b/+", "a/+/c") == "a/b/c")
    }

    @Test func mistakesSayWhereAndWhat() {
        #expect(
            error("[input.a]\ntopic = \"x/{station}\"\n")
                == "t.toml line 1: [input.a] needs a profile (\"native\", \"tasmota\", \"airgradient\", \"esphome\", \"statestream\", \"json\")"
        )
        #expect(
            error("[input.a]\nprofile = \"shelly\"\ntopic = \"x\"\n")?.hasPrefix(
                "t.toml line 2, key input.a.profile: must be \"native\"") == true)
        #expect(
            error("[input.a]\nprofile = \"tasmota\"\ntopic = \"tele/+/SENSOR\"\n")
                == "t.toml line 3, key input.a.topic: takes {station} and {quantity} where a topic varies, not MQTT wildcards"
        )
        #expect(
            error("[input.a]\nprofile = \"esphome\"\ntopic = \"{station}/sensor/pm/state\"\n")
                == "t.toml line 3, key input.a.topic: must hold {quantity} once: profile esphome sends one value per topic"
        )
        #expect(
            error("[input.a]\nprofile = \"airgradient\"\ntopic = \"ag/{station}\"\npm25 = \"pm02\"\n")
                == "t.toml line 4, key input.a.pm25: profile airgradient reads its own fields; pm25 is for esphome, statestream and json"
        )
        #expect(
            error("[input.a]\nprofile = \"json\"\ntopic = \"j/{station}\"\ntimezone = \"CET\"\n")?.contains(
                "key input.a.timezone: must be an offset") == true)
        #expect(
            error("[input.a]\nprofile = \"json\"\ntopic = \"j/{station}\"\ncolour = 1\n")?.hasPrefix(
                "t.toml line 4, key input.a.colour: unknown key") == true)
        #expect(
            error("[input.]\n")
                == "t.toml line 1: an input's name (after 'input.') must be 1-64 letters, digits, '-' or '_'")
        #expect(
            error("[weather_sources]\ndefault = \"a/b\"\n")?.hasPrefix(
                "t.toml line 2, key weather_sources.default: station id holds the byte 0x2f") == true)
        #expect(
            error("[weather_sources]\nnode.7 = \"roof\"\n")
                == "t.toml line 2, key weather_sources.node.7: a station id with characters other than letters, digits, '-' and '_' must be quoted"
        )
        #expect(
            error("[input.a]\nprofile = \"json\"\ntopic = \"j/{station}\"\n[input.a]\n")
                == "t.toml line 4: section [input.a] given twice (first on line 1)")
    }

    @Test func topicsFindStationAndQuantity() throws {
        let esp = try InputTopic.make("{station}/sensor/{quantity}/state", for: PayloadFormat(profile: .esphome)).get()
        let names = PayloadFormat.defaultNames(.esphome)
        #expect(esp.match("balcony/sensor/pm_2_5/state", names: names)! == ("balcony", .pm25))
        #expect(esp.match("balcony/sensor/temperature/state", names: names)! == ("balcony", .temperature))
        #expect(esp.match("balcony/sensor/co2/state", names: names) == nil)
        #expect(esp.match("balcony/binary_sensor/pm_2_5/state", names: names) == nil)
        let ha = try InputTopic.make(
            "homeassistant/sensor/{station}_{quantity}/state", for: PayloadFormat(profile: .statestream)
        ).get()
        #expect(ha.filter == "homeassistant/sensor/+/state")
        #expect(ha.match("homeassistant/sensor/living_room_pm_2_5/state", names: names)! == ("living_room", .pm25))
        #expect(
            ha.match("homeassistant/sensor/living_room_humidity/state", names: names)! == ("living_room", .humidity))
        #expect(ha.match("homeassistant/sensor/_humidity/state", names: names) == nil, "an empty station id")
        let tasmota = try InputTopic.make("tele/{station}/SENSOR", for: PayloadFormat(profile: .tasmota)).get()
        #expect(tasmota.match("tele/tasmota_F847F7/SENSOR", names: [:])! == ("tasmota_F847F7", nil))
        #expect(tasmota.match("tele/tasmota_F847F7/STATE", names: [:]) == nil)
    }
}
