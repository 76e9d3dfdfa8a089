import AirQuality

/// Everything `aqcast run` can be told, with the shipped defaults. `config/aqcast.toml`
/// documents every key; ``ConfigurationFile`` reads it.
public struct DaemonConfiguration: Sendable, Equatable {
    public var brokerHost = "127.0.0.1"
    public var brokerPort = 1883
    /// Empty: this installation's own (``ClientIdentity``).
    public var clientID = ""
    public var keepAliveSeconds = 30
    public var protocolVersion = "auto"
    public var username = ""
    /// A file whose first line is the password (so systemd credentials can supply it).
    public var passwordFile = ""
    public var tlsCAFile = ""
    public var tlsCertificateFile = ""
    public var tlsKeyFile = ""

    /// MQTT filter for readings in our JSON; its one `+` level is the station id. Empty: none
    /// (the `[input.NAME]` sections bring them).
    public var readingTopic = "aq/+/reading"
    /// More subscriptions, each read by a payload profile (`[input.NAME]`).
    public var inputs: [InputConfiguration] = []
    /// Where forecasts go; `{station}` is replaced by the station id.
    public var forecastTopic = "aq/{station}/forecast"
    /// Where a station's state goes (retained, when it changes): forecasting, or waiting and why.
    public var stationStateTopic = "aq/{station}/state"
    /// Optional weather forecasts per station (`+` = station id); empty: none, weather is held.
    public var weatherTopic = ""
    /// Weather forecast services, one per area (`[weather_forecast.NAME]`); which stations each
    /// serves is in ``forecast`` (``ForecastEngine/Settings/forecastAreas``). Read at start.
    public var weatherForecasts: [WeatherForecastArea] = []
    /// Home Assistant MQTT discovery (`[homeassistant]`). Read at start.
    public var homeAssistant = HomeAssistantSettings()
    /// Where each station's live accuracy goes (retained); `{station}` is the station id.
    public var accuracyTopic = "aq/{station}/accuracy"
    /// Where the whole network's live accuracy goes (retained).
    public var networkAccuracyTopic = "aq/aqcast/accuracy"
    /// How often the published forecasts are scored and the accuracy published (seconds; 0:
    /// never). Read at start.
    public var accuracyIntervalSeconds = 300
    /// Where the Prometheus endpoint listens, `HOST:PORT` (`[::1]:PORT` for IPv6); empty: no
    /// endpoint. 10147 lies past the 9100-9999 range of Prometheus' default port allocations,
    /// which is full (docs/outputs.md, "Prometheus"). Read at start.
    public var metricsListen = "127.0.0.1:10147"
    /// Retained `online` while running, `offline` after a clean stop or as the last will.
    public var statusTopic = "aq/aqcast/status"

    /// The `[forecast]` section: the engine's settings, which a reload applies.
    public var forecast = ForecastEngine.Settings()

    /// Empty: the shipped default model.
    public var modelPath = ""
    /// Whether stations that do not send every input of the model are forecast by the shipped
    /// models for fewer inputs (PM2.5 with temperature and humidity; PM2.5 alone). Read at start.
    public var fewerInputModels = true
    public var stateDirectory = "/var/lib/aqcast"
    /// Days the log keeps a reading, counted from when it arrived (live or imported), pruned
    /// at start and daily.
    public var retentionDays = 730
    /// The reading log is committed this often: at most this much of the readings is at risk
    /// in a crash. Read at start.
    public var commitIntervalMilliseconds = 200
    public var logLevel = "info"
    /// The levels `log.level` and `--log-level` take.
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error"]

    public init() {}
}

extension DaemonConfiguration {
    /// `HOST:PORT` or `[IPv6]:PORT` split, with a port 1...65535; nil for anything else.
    public static func listenAddress(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = text[..<colon]
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count > 2 else { return nil }
            host = host.dropFirst().dropLast()
        } else if host.contains(":") {
            return nil
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "/" }) else { return nil }
        return (String(host), port)
    }

    /// Whether `host` (as ``listenAddress(_:)`` gives it) is only reachable from this machine:
    /// `localhost`, 127.0.0.0/8 or ::1.
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// Takes the settings a reload can change without reconnecting.
    mutating func apply(forecastSettingsFrom other: DaemonConfiguration) {
        forecast = other.forecast
        modelPath = other.modelPath
        logLevel = other.logLevel
        retentionDays = other.retentionDays
    }

    /// Whether becoming `other` takes a restart: anything but the forecast settings a reload
    /// applies (``apply(forecastSettingsFrom:)``) changed.
    public func needsRestart(toBecome other: DaemonConfiguration) -> Bool {
        var a = self
        a.apply(forecastSettingsFrom: other)
        return a != other
    }
}
