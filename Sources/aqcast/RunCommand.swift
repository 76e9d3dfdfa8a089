import AirQuality
import ArgumentParser
import CommandSupport
import CoreMetrics
import ForecastDaemon
import Foundation
import Logging
import MetricsEndpoint
import Prometheus
import ServiceLifecycle
import SystemdSupport
import Training

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the forecasting daemon in the foreground (shipped defaults without --config).")

    @Option(
        help: """
            Configuration file; the service reads /etc/aqcast/aqcast.toml, which documents every key \
            (default: none, the shipped defaults).
            """)
    var config: String?

    @Option(help: "Broker address HOST:PORT, overriding the configuration.")
    var broker: String?

    @Option(help: "Model file, overriding the configuration (default: the shipped model).")
    var model: String?

    @Option(help: "State directory, overriding the configuration.")
    var stateDir: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String?

    @Option(help: "Prometheus endpoint HOST:PORT, overriding the configuration; \"\" turns it off.")
    var metricsListen: String?

    func validate() throws {
        if let broker, Self.parseBroker(broker) == nil {
            throw ValidationError("--broker must be HOST:PORT with a port 1...65535, got '\(broker)'")
        }
        if let metricsListen, !metricsListen.isEmpty, DaemonConfiguration.listenAddress(metricsListen) == nil {
            throw ValidationError(
                "--metrics-listen must be HOST:PORT, [IPv6]:PORT or \"\" for no endpoint, got '\(metricsListen)'")
        }
        if let logLevel, !DaemonConfiguration.logLevels.contains(logLevel) {
            throw ValidationError(
                "--log-level must be \(DaemonConfiguration.logLevels.joined(separator: ", ")), got '\(logLevel)'")
        }
    }

    static func parseBroker(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port), colon != text.startIndex
        else { return nil }
        return (String(text[..<colon]), port)
    }

    /// Configuration file, then flags; then the model it names.
    func load() throws -> (DaemonConfiguration, ModelFile, String) {
        var c = DaemonConfiguration()
        if let config { c = try ConfigurationFile.load(path: config) }
        if let broker, let (host, port) = Self.parseBroker(broker) {
            c.brokerHost = host
            c.brokerPort = port
        }
        if let model { c.modelPath = model }
        if let stateDir { c.stateDirectory = stateDir }
        if let logLevel { c.logLevel = logLevel }
        if let metricsListen { c.metricsListen = metricsListen }
        let path = try modelInUse(c)
        let file = try ModelFile.load(path: path)
        guard file.steps == PRSADataset.steps else {
            throw ModelFileError(
                path: path, reason: "windows of \(file.steps) hours; the daemon keeps \(PRSADataset.steps)")
        }
        return (c, file, URL(fileURLWithPath: path).lastPathComponent)
    }

    /// Exit status for a configuration or model that cannot be used (sysexits' EX_CONFIG): the
    /// unit does not restart on it, since a restart cannot fix it.
    static let configurationExitCode = ExitCode(78)

    func run() async throws {
        let initial: DaemonConfiguration
        let model: ModelFile
        do {
            (initial, model, _) = try load()
        } catch {
            printError("aqcast: cannot start: \(error)")
            throw Self.configurationExitCode
        }
        // One level for every logger, which a reload (SIGHUP) sets from `[log] level`.
        let level = SharedLogLevel(Logger.Level(rawValue: initial.logLevel) ?? .info)
        LoggingSystem.bootstrap { label in JournalLogHandler(label: label, level: level) }
        let logger = Logger(label: "aqcast")
        // One daemon per state directory (its broker session and its log): held until exit.
        let lock: StateDirectoryLock?
        do {
            try? FileManager.default.createDirectory(atPath: initial.stateDirectory, withIntermediateDirectories: true)
            lock = try StateDirectoryLock(stateDirectory: initial.stateDirectory)
        } catch .held(let path, let pid) {
            let failure = StateDirectoryLock.Failure.held(path: path, pid: pid)
            printError("aqcast: cannot start: \(failure)")
            throw Self.configurationExitCode
        } catch {
            lock = nil
            logger.warning(
                "\(error); a second daemon on this state directory would not be stopped",
                metadata: ["reason": "state_directory_lock"])
        }
        defer { withExtendedLifetime(lock) {} }
        // Chosen before the reading log is created: a state directory with a log and no client id
        // is one an earlier version used, and keeps that version's id.
        if initial.clientID.isEmpty { _ = ClientIdentity.resolve(stateDirectory: initial.stateDirectory) }
        let command = self
        let notifier = ServiceNotifier()
        // The metrics live in a Prometheus registry when there is an endpoint to serve them.
        let registry = PrometheusCollectorRegistry()
        let endpoint = DaemonConfiguration.listenAddress(initial.metricsListen)
        let metrics = DaemonMetrics(
            factory: endpoint == nil
                ? NOOPMetricsHandler.instance
                : MetricsServer.factory(registry: registry, buckets: DaemonMetrics.histogramBuckets))
        let readingLog = ReadingLogService(
            configuration: initial, hours: model.steps + initial.forecast.maximumGapHours + 1, logger: logger)
        let forecasts: ForecastService
        do {
            var fewerInputs: [(ModelFile, String)] = []
            if initial.fewerInputModels {
                for path in ShippedFile.fewerInputModels() {
                    let file = try ModelFile.load(path: path)
                    guard file.steps == model.steps else { continue }
                    fewerInputs.append((file, URL(fileURLWithPath: path).lastPathComponent))
                }
            }
            forecasts = try ForecastService(
                loader: { try command.load() }, readingLog: readingLog, logger: logger, notifier: notifier,
                fewerInputs: fewerInputs, version: AQCastVersion.number, metrics: metrics,
                logLevel: { name in if let l = Logger.Level(rawValue: name) { level.value = l } })
        } catch {
            logger.critical("cannot start: \(error)", metadata: ["reason": "\(error)"])
            throw Self.configurationExitCode
        }
        // Started in this order and stopped in the reverse one: systemd hears STOPPING=1 first,
        // then the MQTT service says offline and disconnects, then the reading log writes what
        // is pending. A stop that takes longer than 20 s is cut short (the unit allows 30 s).
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: readingLog), .init(service: forecasts),
            .init(service: SystemdHealthService(notifier: notifier, forecasts: forecasts)),
            .init(service: forecasts.weatherForecastService()),
            .init(service: forecasts.accuracyService()),
        ]
        if let (host, port) = endpoint {
            if !DaemonConfiguration.isLoopback(host) {
                let text =
                    "the metrics endpoint listens on \(host):\(port), reachable from the network: it has no "
                    + "authentication; keep it on 127.0.0.1 (the default) unless a firewall guards the port"
                logger.warning(
                    "\(text)",
                    metadata: ["listen": "\(host):\(port)", "reason": "metrics_exposed"])
            }
            services.append(
                .init(
                    service: MetricsServer(
                        host: host, port: port, registry: registry, help: DaemonMetrics.helpLines,
                        beforeScrape: { forecasts.refreshMetrics() }, logger: logger)))
        }
        var configuration = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(20)
        try await ServiceGroup(configuration: configuration).run()
        notifier.flush()
    }
}
