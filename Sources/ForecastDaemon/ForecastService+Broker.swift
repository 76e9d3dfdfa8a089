import Foundation
import MQTTClient

/// The broker connection: its settings from the daemon's configuration (the password from its
/// file or the systemd credential, TLS files, and the `offline` last will), and its events.
extension ForecastService {
    /// Runs on the MQTT network thread for connection changes.
    func handle(_ event: MQTTEvent) {
        let config = mutable.withLock { $0.configuration }
        let broker = "\(config.brokerHost):\(config.brokerPort)"
        switch event {
        case .connected(let sessionPresent):
            mutable.withLock {
                $0.brokerState = "connected to \(broker)"
                $0.flapping.connected(at: ContinuousClock.now)
            }
            logger.info(
                "connected to broker", metadata: ["broker": "\(broker)", "session_present": "\(sessionPresent)"])
            try? connection?.publish(topic: config.statusTopic, payload: Array("online".utf8), qos: 1, retain: true)
            let first = mutable.withLock { m in
                defer { m.connectedBefore = true }
                return !m.connectedBefore
            }
            metrics.broker(connected: true, again: !first)
            if first {
                let rebuilt = mutable.withLock { m in
                    defer { m.restored = [] }
                    return m.restored
                }
                for f in rebuilt { publish(f) }
            }
            notifier.status(statusLine())
        case .refused(let code, let reason, let retry):
            mutable.withLock { $0.brokerState = "broker \(broker) refused the connection: \(reason)" }
            metrics.broker(connected: false)
            logger.error(
                "broker refused the connection: \(reason); retrying in \(retry) s",
                metadata: ["broker": "\(broker)", "code": "\(code)", "reason": "\(reason)"])
            notifier.status(statusLine())
        case .fellBackToMQTT311(let reason):
            logger.notice(
                "the broker does not speak MQTT v5 (\(reason)); using MQTT 3.1.1", metadata: ["broker": "\(broker)"])
        case .failure(let reason):
            let hint: String
            if reason.contains("host name verification failed") {
                hint =
                    " (the broker's certificate is not issued for \(config.brokerHost); set host to a name it carries)"
            } else if reason.contains("certificate verify failed") {
                hint = " (the broker's certificate is not signed by tls_ca_file, has expired, or names another host)"
            } else {
                hint = ""
            }
            mutable.withLock { $0.brokerState = "cannot connect to \(broker): \(reason)\(hint)" }
            metrics.broker(connected: false)
            logger.error(
                "broker connection failed: \(reason)\(hint)", metadata: ["broker": "\(broker)", "reason": "\(reason)"])
            notifier.status(statusLine())
        case .disconnected(0, _):
            mutable.withLock { $0.brokerState = "disconnected from \(broker)" }
            metrics.broker(connected: false)
            logger.info("disconnected from broker", metadata: ["broker": "\(broker)"])
        case .disconnected(let code, let reason):
            mutable.withLock { $0.brokerState = "reconnecting to \(broker): \(reason)" }
            metrics.broker(connected: false)
            logger.warning(
                "broker connection lost, reconnecting: \(reason)",
                metadata: ["broker": "\(broker)", "code": "\(code)", "reason": "\(reason)"])
            if mutable.withLock({ $0.flapping.lost(at: ContinuousClock.now) }) {
                let id = (try? Self.mqttSettings(config).clientID) ?? config.clientID
                let text =
                    "the broker keeps closing the connection right after it is made, though it accepts every "
                    + "reconnect: most likely another client uses this daemon's client id \(id) and the two "
                    + "take the session from each other; give each its own client_id (or leave it empty)"
                logger.warning(
                    "\(text)",
                    metadata: ["broker": "\(broker)", "client_id": "\(id)", "reason": "session_flapping"])
            }
            notifier.status(statusLine())
        }
    }

    /// Whether this refusal gets a journal line (``RejectionLogLimiter``); says once a minute
    /// that lines are being held back, and what was held back when the minute is over.

    /// The systemd credential the unit passes (`LoadCredential=mqtt-password`), used when no
    /// password file is configured.
    static let passwordCredential = "mqtt-password"

    static func mqttSettings(
        _ c: DaemonConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment
    )
        throws -> MQTTSettings
    {
        var password: String?
        var passwordFile = c.passwordFile
        if passwordFile.isEmpty, let credentials = environment["CREDENTIALS_DIRECTORY"],
            FileManager.default.fileExists(atPath: credentials + "/" + passwordCredential)
        {
            passwordFile = credentials + "/" + passwordCredential
        }
        if !passwordFile.isEmpty {
            guard let data = FileManager.default.contents(atPath: passwordFile) else {
                throw ConfigurationError(file: passwordFile, key: "broker.password_file", reason: "cannot be read")
            }
            password = String(decoding: data, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        }
        var tls: MQTTSettings.TLS?
        if !c.tlsCAFile.isEmpty {
            tls = .init(
                caFile: c.tlsCAFile, certificateFile: c.tlsCertificateFile.isEmpty ? nil : c.tlsCertificateFile,
                keyFile: c.tlsKeyFile.isEmpty ? nil : c.tlsKeyFile)
        }
        return MQTTSettings(
            host: c.brokerHost, port: c.brokerPort,
            clientID: c.clientID.isEmpty ? ClientIdentity.resolve(stateDirectory: c.stateDirectory) : c.clientID,
            cleanSession: false,
            keepAliveSeconds: c.keepAliveSeconds, username: c.username.isEmpty ? nil : c.username, password: password,
            tls: tls, will: .init(topic: c.statusTopic, payload: Array("offline".utf8), qos: 1, retain: true),
            protocolVersion: MQTTSettings.ProtocolVersion(rawValue: c.protocolVersion) ?? .auto)
    }
}
