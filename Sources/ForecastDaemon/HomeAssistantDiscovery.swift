import AirQuality

/// The `[homeassistant]` section: whether the daemon announces its stations to Home
/// Assistant through MQTT discovery, under which prefix, and which hours ahead become sensors.
public struct HomeAssistantSettings: Sendable, Equatable {
    public var enabled = false
    public var discoveryPrefix = "homeassistant"
    public var horizons = [1, 3, 8]

    public init() {}
}

/// Home Assistant's MQTT discovery for the daemon's stations
/// (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery): one device per station,
/// with a sensor for the forecast at each chosen hour ahead, one for the station's state and one
/// for the 7-day RMSE gain over persistence of its live accuracy,
/// each a retained config message on `<prefix>/sensor/<node>/<object>/config`. An empty
/// retained config removes the entity; Home Assistant asks for every config again by
/// publishing `online` on `<prefix>/status`.
///
/// The sensors read our own topics: the forecast (`value_template` into its `hours`), the
/// state, and availability from the status topic (`online`/`offline`, Home Assistant's
/// defaults). Each has a stable `unique_id` and `default_entity_id` (which replaced the
/// deprecated `object_id` in Home Assistant 2025.10) made from the station id, and an
/// `origin` block naming aqcast.
public struct HomeAssistantDiscovery: Sendable {
    public var settings: HomeAssistantSettings
    /// Hours the daemon forecasts: a sensor past them would have no value.
    public var horizonHours: Int
    public var forecastTopic: @Sendable (String) -> String
    public var stateTopic: @Sendable (String) -> String
    public var accuracyTopic: @Sendable (String) -> String
    public var statusTopic: String
    public var version: String

    /// Where Home Assistant says it (re)started.
    public var homeAssistantStatusTopic: String { settings.discoveryPrefix + "/status" }

    /// The node id for `station`: `aqcast_` and the id when it is only letters, digits, `_` and `-`
    /// (lower case: what discovery topics and entity ids allow), else the id lowered with the rest
    /// as `_` and a hash of the id. A safe id that ends as a hashed node does (`_` and 16 hex
    /// digits) is hashed too: otherwise the id `node_7_<hash of Node.7>` would get the node of
    /// `Node.7`, and its retained configs would replace that station's device.
    public static func node(_ station: String) -> String {
        if station.unicodeScalars.allSatisfy(isSafe), !endsLikeHashed(station) { return "aqcast_" + station }
        let slug = String(String.UnicodeScalarView(station.lowercased().unicodeScalars.map { isSafe($0) ? $0 : "_" }))
        var hash = FNV1a()
        hash.add(station.utf8)
        return "aqcast_" + slug + "_" + hash.hex
    }

    /// Whether `id` ends with `_` and 16 lower-case hex digits, as a hashed node does.
    private static func endsLikeHashed(_ id: String) -> Bool {
        let tail = Array(id.utf8.suffix(17))
        return tail.count == 17 && tail[0] == UInt8(ascii: "_")
            && tail.dropFirst().allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    private static func isSafe(_ s: Unicode.Scalar) -> Bool {
        (s >= "a" && s <= "z") || (s >= "0" && s <= "9") || s == "_" || s == "-"
    }

    /// The horizons that get a sensor: the chosen ones the daemon forecasts.
    var horizons: [Int] { settings.horizons.filter { (1...horizonHours).contains($0) } }

    /// The config topics of `station`'s entities.
    public func topics(for station: String) -> [String] {
        let node = Self.node(station)
        return (horizons.map { "pm25_h\($0)" } + ["state", "gain_7d"]).map {
            "\(settings.discoveryPrefix)/sensor/\(node)/\($0)/config"
        }
    }

    /// Every config message for `station`: topic and JSON payload.
    public func configs(for station: String) -> [(topic: String, payload: [UInt8])] {
        let node = Self.node(station)
        let device = JSONText.object([
            ("identifiers", [.string(node)]), ("name", .string("\(station) air quality")), ("manufacturer", "aqcast"),
            ("model", "PM2.5 forecast"), ("sw_version", .string(version)),
        ])
        let origin = JSONText.object([("name", "aqcast"), ("sw_version", .string(version))])
        /// A sensor reading `topic`: its state by `value`, its attributes by `attributes`.
        func sensor(_ object: String, name: String, topic: String, value: String, attributes: String)
            -> [(String, JSONText)]
        {
            [
                ("name", .string(name)), ("unique_id", .string("\(node)_\(object)")),
                ("default_entity_id", .string("sensor.\(node)_\(object)")), ("state_topic", .string(topic)),
                ("value_template", .string(value)), ("json_attributes_topic", .string(topic)),
                ("json_attributes_template", .string(attributes)), ("availability_topic", .string(statusTopic)),
                ("payload_available", "online"), ("payload_not_available", "offline"), ("device", device),
                ("origin", origin),
            ]
        }
        var out: [(String, [(String, JSONText)])] = []
        for h in horizons {
            let hour = "value_json.hours[\(h - 1)]"
            var c = sensor(
                "pm25_h\(h)", name: "PM2.5 in \(h) h", topic: forecastTopic(station), value: "{{ \(hour).pm25 }}",
                attributes: "{{ {'valid_time': \(hour).time, 'lower': \(hour).lower, 'upper': \(hour).upper, "
                    + "'based_on_hour': value_json.based_on_hour, 'issued_at': value_json.issued_at, "
                    + "'weather': \(hour).weather, 'model': value_json.model} | tojson }}")
            c.append(("device_class", "pm25"))
            c.append(("unit_of_measurement", "µg/m³"))
            c.append(("state_class", "measurement"))
            c.append(("suggested_display_precision", .integer(1)))
            out.append(("pm25_h\(h)", c))
        }
        var state = sensor(
            "state", name: "Forecast state", topic: stateTopic(station), value: "{{ value_json.state }}",
            attributes:
                "{{ {'reason': value_json.reason | default(''), 'model_inputs': value_json.model_inputs | default('')} | tojson }}"
        )
        state.append(("device_class", "enum"))
        state.append(("options", ["forecasting", "waiting"]))
        state.append(("entity_category", "diagnostic"))
        out.append(("state", state))
        let week = "value_json.windows['7d']"
        var gain = sensor(
            "gain_7d", name: "Gain over persistence, 7 days", topic: accuracyTopic(station),
            value: "{{ \(week).overall_gain_percent | round(1) }}",
            attributes: "{{ {'forecasts': \(week).forecasts, 'first_origin': \(week).first_origin, "
                + "'newest_origin': \(week).newest_origin, "
                + "'gain_24h': value_json.windows['24h'].overall_gain_percent} | tojson }}")
        gain.append(("unit_of_measurement", "%"))
        gain.append(("state_class", "measurement"))
        gain.append(("suggested_display_precision", .integer(1)))
        gain.append(("entity_category", "diagnostic"))
        out.append(("gain_7d", gain))
        return out.map { object, config in
            ("\(settings.discoveryPrefix)/sensor/\(node)/\(object)/config", JSONText.object(config).bytes)
        }
    }
}
