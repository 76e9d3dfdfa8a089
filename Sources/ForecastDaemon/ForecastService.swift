import AirQuality
import Foundation
import Logging
import MQTTClient
import ReadingLog
import ServiceLifecycle
import Synchronization
import SystemdSupport
import UnixSignals

/// The daemon's MQTT service: readings in, forecasts out, refusals to the journal, READY=1 once
/// started (whatever the broker does) and the connection's state in STATUS=. SIGHUP reloads the configuration file and the model (a bad one is
/// refused and the old one kept); graceful shutdown (SIGTERM) marks the status topic offline,
/// waits for the broker to take that, and disconnects. In the group between the reading log
/// (``ReadingLogService``, which stops after it) and systemd's status and watchdog
/// (``SystemdHealthService``, which stops before it).
public final class ForecastService: Service, Sendable {
    public typealias Loader = @Sendable () throws -> (DaemonConfiguration, ModelFile, String)

    private let loader: Loader
    let logger: Logger
    let notifier: ServiceNotifier
    let engine: ForecastEngine
    /// What changes while the service runs (``Mutable``), behind one lock.
    let mutable: Mutex<Mutable>
    /// The MQTT connection, once ``run()`` has made it.
    var connection: MQTTConnection? { mutable.withLock { $0.connection } }
    let pattern: TopicPattern?
    let weatherPattern: TopicPattern?
    /// The `[input.NAME]` subscriptions, tried in order after the reading topic.
    private let inputs: [InputConfiguration]
    /// The forecast topic around `{station}` (split once; this runs for every forecast).
    let forecastTopic: (prefix: String, suffix: String)
    let stateTopic: (prefix: String, suffix: String)
    let accuracyTopic: (prefix: String, suffix: String)
    /// Home Assistant discovery, when `[homeassistant] enabled`.
    let discovery: HomeAssistantDiscovery?
    /// When Home Assistant's `online` is answered: in the background, at most once a minute.
    let announcer = DiscoveryAnnouncer()
    /// What Prometheus is told (``DaemonMetrics``; kept nowhere without `[metrics] listen`).
    let metrics: DaemonMetrics
    /// The models for fewer inputs, as the model-info metric names them, with their windows.
    private let fewerInputModels: [(identity: String, file: String, inputs: String, steps: Int)]
    private let version: String
    /// Sets every logger's level (`[log] level`, on reload).
    private let setLogLevel: @Sendable (String) -> Void
    /// The reading log's service: its writer takes every accepted reading.
    let readingLog: ReadingLogService
    var logWriter: ReadingLogWriter { readingLog.writer }
    /// The message being handled, noted so that one which kills the process is refused after
    /// the restart instead of killing it again.
    private let inFlight: InFlightMessage?
    #if DEBUG
        /// Fault injection for the tests only (debug builds): a payload holding these bytes
        /// makes the process die with SIGFPE while handling it, as ICU once did.
        private let crashOn = ProcessInfo.processInfo.environment["AQCAST_FAULT_CRASH_ON"].map { Array($0.utf8) }
    #endif

    /// `loader` reads the configuration and the model; it runs at start and on every SIGHUP.
    /// `readingLog` must have been opened with the same configuration: its history rebuilds
    /// the station windows.
    /// `fewerInputs`: the models (and their names) for stations that do not send every input.
    /// `version` is what Home Assistant's device and origin blocks and the model-info metric say.
    /// `metrics`: where the counts and timings go.
    public init(
        loader: @escaping Loader, readingLog: ReadingLogService, logger: Logger,
        notifier: ServiceNotifier = ServiceNotifier(), fewerInputs: [(ModelFile, String)] = [],
        version: String = "dev", metrics: DaemonMetrics = DaemonMetrics(),
        logLevel: @escaping @Sendable (String) -> Void = { _ in }
    ) throws {
        setLogLevel = logLevel
        let (configuration, model, name) = try loader()
        // The broker settings (the password file above all) are checked here, so that one that
        // cannot be used stops start-up as a configuration error (exit 78), not at run time.
        _ = try Self.mqttSettings(configuration)
        let pattern = TopicPattern(configuration.readingTopic)
        guard pattern != nil || configuration.readingTopic.isEmpty else {
            throw ConfigurationError(file: "configuration", key: "topics.readings", reason: "not a usable filter")
        }
        self.loader = loader
        self.logger = logger
        self.notifier = notifier
        self.pattern = pattern
        inputs = configuration.inputs
        weatherPattern = configuration.weatherTopic.isEmpty ? nil : TopicPattern(configuration.weatherTopic)
        func split(_ topic: String) -> (String, String) {
            let marker = topic.range(of: "{station}")!
            return (String(topic[..<marker.lowerBound]), String(topic[marker.upperBound...]))
        }
        forecastTopic = split(configuration.forecastTopic)
        stateTopic = split(configuration.stationStateTopic)
        accuracyTopic = split(configuration.accuracyTopic)
        if configuration.homeAssistant.enabled {
            let (forecasts, states) = (forecastTopic, stateTopic)
            let accuracy = accuracyTopic
            discovery = HomeAssistantDiscovery(
                settings: configuration.homeAssistant, horizonHours: configuration.forecast.horizonHours,
                forecastTopic: { forecasts.prefix + $0 + forecasts.suffix },
                stateTopic: { states.prefix + $0 + states.suffix },
                accuracyTopic: { accuracy.prefix + $0 + accuracy.suffix }, statusTopic: configuration.statusTopic,
                version: version)
        } else {
            discovery = nil
        }
        self.readingLog = readingLog
        self.metrics = metrics
        self.version = version
        fewerInputModels = fewerInputs.map {
            ($0.0.identity(name: $0.1), $0.1, $0.0.inputEncoding.inputsName, $0.0.steps)
        }
        readingLog.writer.observeCommits { [metrics] in metrics.committed(took: $0) }
        let history = readingLog.history
        do {
            inFlight = try InFlightMessage(path: configuration.stateDirectory + "/in-flight")
        } catch {
            inFlight = nil
            Self.warnWithoutPoisonProtection(
                "\(error)", path: configuration.stateDirectory + "/in-flight", logger: logger)
        }
        if inFlight?.suspect != nil {
            logger.warning(
                "the previous run died while handling a message; it will be refused if the broker hands it over again")
        }
        engine = ForecastEngine(
            model: model, modelName: name, settings: configuration.forecast, fewerInputs: fewerInputs
        ) {
            [writer = readingLog.writer] reading in
            writer.enqueue(.init(reading: reading, arrived: Date().timeIntervalSince1970))
        }
        var restored: [StationForecast] = []
        if !history.isEmpty {
            restored = engine.restore(
                history, bias: readingLog.biasCorrections, now: Date().timeIntervalSince1970)
            logger.info(
                "station windows rebuilt from the reading log",
                metadata: ["readings": "\(history.count)", "forecasts": "\(restored.count)"])
        }
        // Restored stations are not new.
        _ = engine.takeNewStations()
        mutable = Mutex(Mutable(configuration: configuration, restored: restored))
        logger.info(
            "model loaded",
            metadata: ["model": "\(model.identity(name: name))", "horizon": "\(configuration.forecast.horizonHours)"])
        for (file, name) in fewerInputs {
            logger.info(
                "model for fewer inputs loaded",
                metadata: ["model": "\(file.identity(name: name))", "inputs": "\(file.inputEncoding.inputsName)"])
        }
        showModels(model, name: name)
    }

    /// The models in use, for the model-info metric: `model` and the fewer-input models whose
    /// windows are as long (the ones the engine keeps).
    private func showModels(_ model: ModelFile, name: String) {
        if let note = model.uncheckedWeightsNote {
            logger.warning("model file \(name): \(note)", metadata: ["model": "\(name)", "reason": "no_checksum"])
        }
        let fallbacks = fewerInputModels.filter { $0.steps == model.steps }.map { ($0.identity, $0.file, $0.inputs) }
        metrics.models(
            [(model.identity(name: name), name, model.inputEncoding.inputsName)] + fallbacks, version: version)
    }

    /// Sets the metrics that are read rather than counted (before each scrape).
    public func refreshMetrics() {
        let queue = logWriter.queue
        metrics.refresh(states: engine.stationStates(), pending: queue.pending, dropped: queue.dropped)
    }

    /// The service that scores the published forecasts and publishes their accuracy.
    public func accuracyService() -> AccuracyService {
        let config = mutable.withLock { $0.configuration }
        let (prefix, suffix) = accuracyTopic
        let writer = logWriter
        return AccuracyService(
            interval: Double(config.accuracyIntervalSeconds), horizon: config.forecast.horizonHours,
            log: { writer.log },
            publish: { [weak self] topic, payload in
                try? self?.connection?.publish(topic: topic, payload: payload, qos: 1, retain: true)
            },
            stationTopic: { prefix + $0 + suffix }, networkTopic: config.networkAccuracyTopic, metrics: metrics,
            logger: logger)
    }

    /// The service that fetches the configured areas' weather forecasts into this engine.
    public func weatherForecastService() -> WeatherForecastService {
        WeatherForecastService(
            areas: mutable.withLock { $0.configuration.weatherForecasts }, engine: engine, logger: logger)
    }

    public func run() async throws {
        let config = mutable.withLock { $0.configuration }
        let settings = try Self.mqttSettings(config)
        let connection = try MQTTConnection(
            settings: settings,
            onMessage: { [weak self] message in self?.handle(message) },
            onEvent: { [weak self] event in self?.handle(event) })
        mutable.withLock { $0.connection = connection }
        if pattern != nil { try connection.subscribe(config.readingTopic, qos: 1) }
        if weatherPattern != nil { try connection.subscribe(config.weatherTopic, qos: 1) }
        for input in inputs { try connection.subscribe(input.topic.filter, qos: 1) }
        if let discovery { try connection.subscribe(discovery.homeAssistantStatusTopic, qos: 1) }
        let topics = ([config.readingTopic] + inputs.map(\.topic.filter)).filter { !$0.isEmpty }
        logger.info(
            "connecting to broker",
            metadata: [
                "broker": "\(config.brokerHost):\(config.brokerPort)", "topic": "\(topics.joined(separator: " "))",
            ])
        // Trapped before READY goes out: systemd may send SIGHUP as soon as it has READY, and
        // an untrapped SIGHUP ends the process.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        mutable.withLock { $0.brokerState = "connecting to broker \(config.brokerHost):\(config.brokerPort)" }
        // Ready once the model is loaded and the log opened, whatever the broker does: a broker
        // that is down or starting later must not fail the unit's start (Type=notify gives up
        // after its timeout); STATUS says what the connection is doing, and changes with it.
        // Sent before the connection starts, so that its first status comes after it.
        notifier.ready(status: statusLine())
        try connection.start()

        await withDiscardingTaskGroup { group in
            group.addTask { await self.reloadOnHangUp(hangups) }
            group.addTask { await self.summariseHeldBackRejections() }
            group.addTask { await self.closeQuietHours() }
            if discovery != nil { group.addTask { await self.announcer.run { await self.announceAll() } } }
            try? await gracefulShutdown()
            group.cancelAll()
        }

        logger.info("stopping: marking the status topic offline and disconnecting")
        try? connection.publish(topic: config.statusTopic, payload: Array("offline".utf8), qos: 1, retain: true)
        // Until the broker has taken it (and the forecasts before it), a second at most.
        let deadline = ContinuousClock.now.advanced(by: .seconds(1))
        while !connection.everyPublishAcknowledged, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        await offThePool { connection.stop() }
        let c = engine.snapshot()
        logger.info(
            "stopped",
            metadata: ["readings": "\(c.accepted)", "forecasts": "\(c.forecasts)", "rejected": "\(c.rejectedTotal)"])
    }

    // MARK: network thread

    /// Runs on the MQTT network thread for each message.
    private func handle(_ message: MQTTMessage) {
        let received = ContinuousClock.now
        if inFlight?.begin(topic: message.topic, payload: message.payload) == true {
            refuse(
                message,
                Rejection(
                    .poison,
                    "the previous run of the daemon died while handling this message; refused so that it cannot do so again"
                ))
            return
        }
        defer { inFlight?.end() }
        if let lost = inFlight?.lost {
            inFlight?.lost = nil
            Self.warnWithoutPoisonProtection(lost, logger: logger)
        }
        if let discovery, message.topic == discovery.homeAssistantStatusTopic {
            if message.payload == Array("online".utf8) { announcer.request() }
            return
        }
        #if DEBUG
            if let crashOn, message.payload.firstRange(of: crashOn) != nil { raise(SIGFPE) }
        #endif
        if let weatherPattern, let station = weatherPattern.station(in: message.topic) {
            let now = Date().timeIntervalSince1970
            switch engine.ingestWeather(station: station, payload: message.payload, now: now) {
            case .success(let held):
                logger.debug("weather forecast stored", metadata: ["station": "\(station)", "hours": "\(held)"])
            case .failure(let r):
                if shouldLogRejection(station: station, code: r.code, now: now) {
                    logger.warning(
                        "weather forecast rejected: \(r.reason)",
                        metadata: [
                            "station": "\(RejectionLogLimiter.printable(station))",
                            "topic": "\(RejectionLogLimiter.printable(message.topic))",
                            "reason": "\(r.code.rawValue)",
                        ])
                }
            }
            return
        }
        let now = Date().timeIntervalSince1970
        let outcome: ForecastEngine.Outcome
        var station: String
        let started = ContinuousClock.now
        if let pattern, let id = pattern.station(in: message.topic) {
            station = id
            outcome = engine.ingest(station: id, payload: message.payload, retained: message.retained, now: now)
        } else if let (input, id, quantity) = input(for: message.topic) {
            station = id
            outcome = engine.ingest(
                station: id, payload: message.payload, format: input.format, quantity: quantity,
                readingsPerHour: input.readingsPerHour, retained: message.retained, now: now)
        } else {
            // Through the journal's bound like every refusal (all such topics share one station's
            // share of it: they name no station).
            if shouldLogRejection(station: "", code: .badTopic, now: now) {
                logger.warning(
                    "message on an unexpected topic",
                    metadata: ["topic": "\(RejectionLogLimiter.printable(message.topic))", "reason": "bad_topic"])
            }
            return
        }
        let took = ContinuousClock.now - started
        if discovery != nil { withdraw(engine.takeExpired()) }
        switch outcome {
        case .rejected(let r):
            refuse(message, r, station: station, now: now)
        case .passedOver:
            // The minute's reading was counted; this one is neither counted nor logged.
            break
        case .accepted(let id, let hour, let forecast, let waiting, let state):
            // The payload's id for a profile that carries one (the topic names none then).
            station = id
            metrics.accepted()
            if let state {
                // A station's first state comes with the reading that made it: no lock otherwise.
                for (new, first) in engine.takeNewStations() { sayNewStation(new, state: first, now: now) }
                publish(state, station: station)
            }
            if let forecast {
                metrics.forecastHandled(took: took)
                publish(forecast)
                metrics.readingToForecast(took: ContinuousClock.now - received)
            } else if let waiting {
                logger.debug(
                    "no forecast yet: \(waiting)",
                    metadata: ["station": "\(RejectionLogLimiter.printable(station))", "hour": "\(isoHour(hour))"])
            }
        }
    }

    /// The input whose topic `topic` is, with the station and quantity it names.
    private func input(for topic: String) -> (InputConfiguration, String, Quantity?)? {
        for input in inputs {
            if let (station, quantity) = input.topic.match(topic, names: input.format.names) {
                return (input, station, quantity)
            }
        }
        return nil
    }

    // MARK: tasks

    /// The line systemd shows: the broker's state, stations, rates and refusals.
    public func statusLine() -> String {
        let c = engine.snapshot()
        let now = ContinuousClock.now
        let (state, rates) = mutable.withLock { m -> (String, (Double, Double)) in
            let seconds = max(
                1e-3,
                Double((now - m.previous.time).components.seconds)
                    + Double((now - m.previous.time).components.attoseconds) / 1e18)
            let r = (
                Double(c.accepted - m.previous.accepted) * 60 / seconds,
                Double(c.forecasts - m.previous.forecasts) * 60 / seconds
            )
            if seconds >= 10 { m.previous = (now, c.accepted, c.forecasts) }
            return (m.brokerState, r)
        }
        return "\(state); \(c.stations) stations; \(Int(rates.0)) readings/min; \(Int(rates.1)) forecasts/min; "
            + "\(c.rejectedTotal) rejected"
    }

    /// Each minute's refusals that the journal did not take, said once the minute is over.
    private func summariseHeldBackRejections() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(5))
            reportHeldBackRejections()
        }
    }

    /// Every 15 seconds, the hours of stations that went quiet after them: forecast from and
    /// published.
    private func closeQuietHours() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(15))
            for (station, forecast, state) in engine.closeQuietHours(now: Date().timeIntervalSince1970) {
                if let state { publish(state, station: station) }
                if let forecast { publish(forecast) }
            }
        }
    }

    private func reloadOnHangUp(_ hangups: UnixSignalsSequence) async {
        for await _ in hangups {
            if Task.isCancelled { return }
            reload()
        }
    }

    /// Re-reads configuration and model; keeps the old ones when either is bad.
    public func reload() {
        notifier.reloading()
        logger.info("reloading configuration and model")
        do {
            let (config, model, name) = try loader()
            let old = mutable.withLock { $0.configuration }
            if old.needsRestart(toBecome: config) {
                logger.warning(
                    "settings that need a restart changed (broker, topics, inputs, weather forecasts, accuracy, metrics, Home Assistant); they take effect at the next restart"
                )
            }
            engine.replace(model: model, modelName: name, settings: config.forecast)
            showModels(model, name: name)
            mutable.withLock { $0.configuration.apply(forecastSettingsFrom: config) }
            setLogLevel(config.logLevel)
            readingLog.keep(days: config.retentionDays)
            logger.info("reloaded", metadata: ["model": "\(model.identity(name: name))"])
        } catch {
            logger.error(
                "reload refused, keeping the running configuration and model: \(error)",
                metadata: ["reason": "\(error)"])
        }
        notifier.ready(status: statusLine())
    }
}
