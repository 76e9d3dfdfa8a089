/// How to reach and talk to the broker.
public struct MQTTSettings: Sendable, Equatable {
    public enum ProtocolVersion: String, Sendable, Equatable {
        case v5 = "5"
        case v311 = "3.1.1"
        /// MQTT v5 first; 3.1.1 from then on if the broker refuses v5.
        case auto = "auto"
    }

    /// A message the broker publishes for this client if the connection drops (the "last will").
    public struct Will: Sendable, Equatable {
        public var topic: String
        public var payload: [UInt8]
        public var qos: Int
        public var retain: Bool

        public init(topic: String, payload: [UInt8], qos: Int = 1, retain: Bool = true) {
            self.topic = topic
            self.payload = payload
            self.qos = qos
            self.retain = retain
        }
    }

    public struct TLS: Sendable, Equatable {
        public var caFile: String
        public var certificateFile: String?
        public var keyFile: String?

        public init(caFile: String, certificateFile: String? = nil, keyFile: String? = nil) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }
    }

    public var host: String
    public var port: Int
    /// Fixed across restarts, so the broker keeps this client's session and queued messages.
    public var clientID: String
    /// `false` asks the broker to keep the session (subscriptions, queued QoS 1 messages).
    public var cleanSession: Bool
    public var keepAliveSeconds: Int
    public var username: String?
    public var password: String?
    public var tls: TLS?
    public var will: Will?
    public var protocolVersion: ProtocolVersion
    /// Reconnect waits start here and double up to the maximum.
    public var reconnectDelaySeconds: (minimum: Int, maximum: Int)
    /// QoS 1 messages in flight at once in each direction (packet ids are 16-bit).
    public var maximumInflight: Int
    /// Under MQTT v5, how long the broker keeps the session (subscriptions, queued messages)
    /// after a disconnection; sent with every connection, reconnections included.
    public var sessionExpirySeconds: UInt32

    public init(
        host: String = "127.0.0.1", port: Int = 1883, clientID: String = "aqcast", cleanSession: Bool = false,
        keepAliveSeconds: Int = 30, username: String? = nil, password: String? = nil, tls: TLS? = nil,
        will: Will? = nil, protocolVersion: ProtocolVersion = .v5,
        reconnectDelaySeconds: (minimum: Int, maximum: Int) = (1, 60), maximumInflight: Int = 1000,
        sessionExpirySeconds: UInt32 = 7 * 24 * 3600
    ) {
        self.sessionExpirySeconds = sessionExpirySeconds
        self.host = host
        self.port = port
        self.clientID = clientID
        self.cleanSession = cleanSession
        self.keepAliveSeconds = keepAliveSeconds
        self.username = username
        self.password = password
        self.tls = tls
        self.will = will
        self.protocolVersion = protocolVersion
        self.reconnectDelaySeconds = reconnectDelaySeconds
        self.maximumInflight = maximumInflight
    }

    public static func == (a: MQTTSettings, b: MQTTSettings) -> Bool {
        a.host == b.host && a.port == b.port && a.clientID == b.clientID && a.cleanSession == b.cleanSession
            && a.keepAliveSeconds == b.keepAliveSeconds && a.username == b.username && a.password == b.password
            && a.tls == b.tls && a.will == b.will && a.protocolVersion == b.protocolVersion
            && a.reconnectDelaySeconds == b.reconnectDelaySeconds && a.maximumInflight == b.maximumInflight
            && a.sessionExpirySeconds == b.sessionExpirySeconds
    }
}

/// A message as received.
public struct MQTTMessage: Sendable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: Int
    /// Set when the broker delivered a retained message (e.g. one left by an earlier run).
    public var retained: Bool

    public init(topic: String, payload: [UInt8], qos: Int, retained: Bool) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retained = retained
    }
}

/// Changes of the connection, as the network thread sees them.
public enum MQTTEvent: Sendable, Equatable {
    case connected(sessionPresent: Bool)
    /// The broker answered the connection attempt with a refusal (bad credentials, ...); the
    /// next attempt waits `retryInSeconds`, doubling with each refusal in a row.
    case refused(code: Int, reason: String, retryInSeconds: Int)
    /// The broker refused MQTT v5; the connection goes on with 3.1.1 (protocol `auto`).
    case fellBackToMQTT311(reason: String)
    /// libmosquitto reported an error of its own, e.g. a TLS handshake that failed
    /// ("OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed").
    case failure(reason: String)
    /// The connection dropped; libmosquitto reconnects on its own unless we are stopping.
    case disconnected(code: Int, reason: String)
}

/// A libmosquitto call that failed: which call, its code and libmosquitto's words for it.
public struct MQTTError: Error, CustomStringConvertible {
    public var operation: String
    public var code: Int32
    public var reason: String

    public var description: String { "\(operation) failed: \(reason) (code \(code))" }
}
