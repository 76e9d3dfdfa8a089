import CMosquitto
import Foundation

/// One client connection through libmosquitto, with its own network thread.
///
/// The network thread (started by ``start()``) connects, reconnects with exponential backoff
/// after a drop, and calls `onMessage` and `onEvent` — on that thread, one call at a time, in
/// arrival order. A slow `onMessage` slows reading from the socket, which is the back-pressure
/// we want: the broker keeps QoS 1 messages it could not deliver. `publish` may be called
/// from any thread, including from inside `onMessage`.
public final class MQTTConnection: @unchecked Sendable {
    // @unchecked: the handle is only used through libmosquitto calls, which lock internally
    // (the library is built thread-safe); `filters` is guarded by `lock`.
    public let settings: MQTTSettings
    private let handle: OpaquePointer
    private let onMessage: @Sendable (MQTTMessage) -> Void
    private let onEvent: @Sendable (MQTTEvent) -> Void
    private let lock = NSLock()
    private var filters: [(String, Int)] = []
    private var started = false

    private static let libraryReady: Bool = {
        mosquitto_lib_init()
        return true
    }()

    public init(
        settings: MQTTSettings, onMessage: @escaping @Sendable (MQTTMessage) -> Void,
        onEvent: @escaping @Sendable (MQTTEvent) -> Void
    ) throws(MQTTError) {
        _ = Self.libraryReady
        self.settings = settings
        self.onMessage = onMessage
        self.onEvent = onEvent
        guard let h = mosquitto_new(settings.clientID, settings.cleanSession, nil) else {
            throw MQTTError(operation: "mosquitto_new", code: -1, reason: "cannot create a client (out of memory?)")
        }
        handle = h
        mosquitto_user_data_set(h, Unmanaged.passUnretained(self).toOpaque())
        try configure()
    }

    deinit {
        stop()
        mosquitto_destroy(handle)
    }

    private func check(_ rc: Int32, _ operation: String) throws(MQTTError) {
        guard rc != MOSQ_ERR_SUCCESS.rawValue else { return }
        let reason: String
        if rc == MOSQ_ERR_ERRNO.rawValue {
            reason = String(cString: strerror(errno))
        } else {
            reason = String(cString: mosquitto_strerror(rc))
        }
        throw MQTTError(operation: operation, code: rc, reason: reason)
    }

    private func configure() throws(MQTTError) {
        let s = settings
        let version = s.protocolVersion == .v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311
        try check(mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, version), "protocol version")
        try check(mosquitto_max_inflight_messages_set(handle, UInt32(s.maximumInflight)), "maximum in flight")
        // Small messages both ways: without TCP_NODELAY, Nagle's algorithm and delayed ACKs
        // hold a forecast back for tens of milliseconds.
        try check(mosquitto_int_option(handle, MOSQ_OPT_TCP_NODELAY, 1), "TCP_NODELAY")
        if s.protocolVersion == .v5 {
            try check(mosquitto_int_option(handle, MOSQ_OPT_RECEIVE_MAXIMUM, Int32(s.maximumInflight)), "receive maximum")
        }
        try check(
            mosquitto_reconnect_delay_set(
                handle, UInt32(s.reconnectDelaySeconds.minimum), UInt32(s.reconnectDelaySeconds.maximum), true),
            "reconnect delay")
        if s.username != nil || s.password != nil {
            try check(mosquitto_username_pw_set(handle, s.username, s.password), "username and password")
        }
        if let tls = s.tls {
            try check(mosquitto_tls_set(handle, tls.caFile, nil, tls.certificateFile, tls.keyFile, nil), "TLS files")
            try check(mosquitto_tls_insecure_set(handle, false), "TLS hostname verification")
        }
        if let will = s.will {
            try check(
                will.payload.withUnsafeBytes {
                    mosquitto_will_set(handle, will.topic, Int32($0.count), $0.baseAddress, Int32(will.qos), will.retain)
                }, "last will")
        }
        mosquitto_connect_v5_callback_set(handle) { _, user, rc, flags, _ in
            guard let user else { return }
            Unmanaged<MQTTConnection>.fromOpaque(user).takeUnretainedValue().connected(rc: rc, flags: flags)
        }
        mosquitto_disconnect_v5_callback_set(handle) { _, user, rc, _ in
            guard let user else { return }
            let me = Unmanaged<MQTTConnection>.fromOpaque(user).takeUnretainedValue()
            me.onEvent(.disconnected(code: Int(rc), reason: rc == 0 ? "disconnected on request" : MQTTConnection.reason(rc)))
        }
        mosquitto_message_v5_callback_set(handle) { _, user, message, _ in
            guard let user, let m = message?.pointee else { return }
            let me = Unmanaged<MQTTConnection>.fromOpaque(user).takeUnretainedValue()
            let payload = m.payloadlen > 0
                ? Array(UnsafeRawBufferPointer(start: m.payload, count: Int(m.payloadlen)))
                : []
            me.onMessage(MQTTMessage(topic: String(cString: m.topic), payload: payload, qos: Int(m.qos),
                                     retained: m.retain))
        }
    }

    static func reason(_ rc: Int32) -> String {
        rc == MOSQ_ERR_ERRNO.rawValue ? String(cString: strerror(errno)) : String(cString: mosquitto_strerror(rc))
    }

    /// Runs on the network thread after each CONNACK.
    private func connected(rc: Int32, flags: Int32) {
        guard rc == 0 else {
            let text = settings.protocolVersion == .v5
                ? String(cString: mosquitto_reason_string(rc)) : String(cString: mosquitto_connack_string(rc))
            onEvent(.refused(code: Int(rc), reason: text))
            return
        }
        lock.lock()
        let current = filters
        lock.unlock()
        for (filter, qos) in current { _ = mosquitto_subscribe(handle, nil, filter, Int32(qos)) }
        onEvent(.connected(sessionPresent: flags & 1 == 1))
    }

    /// Subscribes now if connected, and again after every reconnect.
    public func subscribe(_ filter: String, qos: Int = 1) throws(MQTTError) {
        lock.lock()
        filters.append((filter, qos))
        let isStarted = started
        lock.unlock()
        if isStarted {
            let rc = mosquitto_subscribe(handle, nil, filter, Int32(qos))
            if rc != MOSQ_ERR_NO_CONN.rawValue { try check(rc, "subscribe \(filter)") }
        }
    }

    /// Starts the network thread and the first connection attempt; failures to connect are
    /// reported as events and retried, so this only throws for a bad address or settings.
    public func start() throws(MQTTError) {
        lock.lock()
        defer { lock.unlock() }
        guard !started else { return }
        try check(mosquitto_loop_start(handle), "starting the network thread")
        let rc = mosquitto_connect_async(handle, settings.host, Int32(settings.port), Int32(settings.keepAliveSeconds))
        if rc == MOSQ_ERR_ERRNO.rawValue || rc == MOSQ_ERR_SUCCESS.rawValue {
            // A refused TCP connection (broker down) is retried by the network thread.
            if rc != MOSQ_ERR_SUCCESS.rawValue { onEvent(.disconnected(code: Int(rc), reason: Self.reason(rc))) }
        } else {
            mosquitto_loop_stop(handle, true)
            try check(rc, "connecting to \(settings.host):\(settings.port)")
        }
        started = true
    }

    /// Publishes a message; with QoS 1 libmosquitto keeps it until the broker acknowledges it,
    /// across reconnects (also when published while disconnected).
    public func publish(topic: String, payload: [UInt8], qos: Int = 1, retain: Bool = false) throws(MQTTError) {
        let rc = payload.withUnsafeBytes {
            mosquitto_publish(handle, nil, topic, Int32($0.count), $0.baseAddress, Int32(qos), retain)
        }
        // While disconnected libmosquitto still queues a QoS 1 message and sends it after the
        // reconnect; it only reports that it could not send it yet.
        if rc == MOSQ_ERR_NO_CONN.rawValue && qos > 0 { return }
        try check(rc, "publish to \(topic)")
    }

    /// Disconnects cleanly (no last will) and stops the network thread.
    public func stop() {
        lock.lock()
        let wasStarted = started
        started = false
        lock.unlock()
        guard wasStarted else { return }
        mosquitto_disconnect(handle)
        mosquitto_loop_stop(handle, false)
    }
}
