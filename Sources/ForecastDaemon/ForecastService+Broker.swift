import Foundation
import MQTTClient

/// The broker connection's settings from the daemon's configuration: the password from its
/// file or the systemd credential, TLS files, and the `offline` last will.
extension ForecastService {
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
            host: c.brokerHost, port: c.brokerPort, clientID: c.clientID, cleanSession: false,
            keepAliveSeconds: c.keepAliveSeconds, username: c.username.isEmpty ? nil : c.username, password: password,
            tls: tls, will: .init(topic: c.statusTopic, payload: Array("offline".utf8), qos: 1, retain: true),
            protocolVersion: MQTTSettings.ProtocolVersion(rawValue: c.protocolVersion) ?? .auto)
    }
}
