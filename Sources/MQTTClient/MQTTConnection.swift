import CMosquitto
import Foundation

/// One client connection through libmosquitto, with its own network thread.
///
/// The network thread (started by ``start()``, our own rather than libmosquitto's) connects,
/// reconnects with exponential backoff after a drop or a failed attempt, and calls `onMessage`
/// and `onEvent` — on that thread, one call at a time, in arrival order. A slow `onMessage` slows reading from the socket, which is the back-pressure
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
    /// Wakes the network thread from a wait between attempts when the connection stops.
    private let wake = NSCondition()
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)
    /// Whether the network thread had ended when ``stop()`` returned.
    private var threadEnded = true
    /// Guarded by `lock`: attempts failed in a row, and the wait after the last refusal.
    private var consecutiveFailures = 0
    private var nextRefusalDelay = 0
    private var version = MQTTSettings.ProtocolVersion.v5
    /// Whether the broker sent a CONNACK on the current connection.
    private var acknowledged = false
    /// The reason when a CONNACK refused v5 under `auto` (guarded by `lock`).
    private var refusedV5: String?
    /// Held around each use of the handle from other threads while it may be set up anew.
    private let handleLock = NSLock()
    /// Publishes the broker acknowledged (guarded by `lock`).
    private var acknowledgedPublishCount = 0

    /// How many publishes the broker has acknowledged (PUBACK for QoS 1, written for QoS 0).
    public var acknowledgedPublishes: Int { lock.withLock { acknowledgedPublishCount } }
    /// Publishes handed to libmosquitto, sent or queued (guarded by `lock`).
    private var requestedPublishCount = 0

    /// Publishes handed over that the broker has not acknowledged yet: what libmosquitto holds.
    public var unacknowledgedPublishes: Int {
        lock.withLock { max(0, requestedPublishCount - acknowledgedPublishCount) }
    }

    /// Whether the broker has acknowledged every publish handed over so far.
    public var everyPublishAcknowledged: Bool {
        lock.withLock { acknowledgedPublishCount >= requestedPublishCount }
    }
    /// Subscriptions the broker acknowledged (guarded by `lock`).
    private var acknowledgedSubscriptionCount = 0

    /// How many SUBACKs the broker has sent, over every connection: a subscriber that has one
    /// per filter since its last connect gets every message published from then on.
    public var acknowledgedSubscriptions: Int { lock.withLock { acknowledgedSubscriptionCount } }

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
        version = settings.protocolVersion == .v311 ? .v311 : .v5
        try configure()
    }

    deinit {
        stop()
        // A network thread still stuck in a connection attempt would use the handle after it
        // is freed; such a handle is left behind (the process is ending anyway).
        if threadEnded { mosquitto_destroy(handle) }
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
        let v = version == .v311 ? MQTT_PROTOCOL_V311 : MQTT_PROTOCOL_V5
        try check(mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, v), "protocol version")
        try check(mosquitto_max_inflight_messages_set(handle, UInt32(s.maximumInflight)), "maximum in flight")
        // Small messages both ways: without TCP_NODELAY, Nagle's algorithm and delayed ACKs
        // hold a forecast back for tens of milliseconds.
        try check(mosquitto_int_option(handle, MOSQ_OPT_TCP_NODELAY, 1), "TCP_NODELAY")
        try check(mosquitto_int_option(handle, MOSQ_OPT_RECEIVE_MAXIMUM, Int32(s.maximumInflight)), "receive maximum")
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
                    mosquitto_will_set(
                        handle, will.topic, Int32($0.count), $0.baseAddress, Int32(will.qos), will.retain)
                }, "last will")
        }
        mosquitto_connect_v5_callback_set(handle) { _, user, rc, flags, _ in
            guard let user else { return }
            Unmanaged<MQTTConnection>.fromOpaque(user).takeUnretainedValue().connected(rc: rc, flags: flags)
        }
        mosquitto_disconnect_v5_callback_set(handle) { _, user, rc, _ in
            guard let user else { return }
            let me = Unmanaged<MQTTConnection>.fromOpaque(user).takeUnretainedValue()
            me.onEvent(.disconnected(code: Int(rc), reason: MQTTConnection.disconnectReason(rc)))
        }
        // Only TLS failures need libmosquitto's own words; with a log callback set it formats
        // every debug line (several a message), so plain connections go without.
        if s.tls != nil {
            mosquitto_log_callback_set(handle) { _, user, level, text in
                guard let user, let text, level & MOSQ_LOG_ERR != 0 else { return }
                Unmanaged<MQTTConnection>.fromOpaque(user).takeUnretainedValue().onEvent(
                    .failure(reason: String(cString: text)))
            }
        }
        mosquitto_publish_v5_callback_set(handle) { _, user, _, _, _ in
            guard let user else { return }
            let me = Unmanaged<MQTTConnection>.fromOpaque(user).takeUnretainedValue()
            me.lock.withLock { me.acknowledgedPublishCount += 1 }
        }
        mosquitto_subscribe_v5_callback_set(handle) { _, user, _, _, _, _ in
            guard let user else { return }
            let me = Unmanaged<MQTTConnection>.fromOpaque(user).takeUnretainedValue()
            me.lock.withLock { me.acknowledgedSubscriptionCount += 1 }
        }
        mosquitto_message_v5_callback_set(handle) { _, user, message, _ in
            guard let user, let m = message?.pointee else { return }
            let me = Unmanaged<MQTTConnection>.fromOpaque(user).takeUnretainedValue()
            let payload =
                m.payloadlen > 0
                ? Array(UnsafeRawBufferPointer(start: m.payload, count: Int(m.payloadlen)))
                : []
            me.onMessage(
                MQTTMessage(
                    topic: String(cString: m.topic), payload: payload, qos: Int(m.qos),
                    retained: m.retain))
        }
    }

    /// A libmosquitto code in words. Its own table lacks some (a keepalive timeout reads
    /// "Unknown error."), so those are said here, and any other unknown one by its number.
    /// Why the connection ended: a libmosquitto error, or the reason code of the broker's MQTT
    /// v5 DISCONNECT (128 and up; OASIS MQTT 5.0, section 3.14.2.1), in words.
    static func disconnectReason(_ rc: Int32) -> String {
        switch rc {
        case 0: "disconnected on request"
        case 142:
            "the broker gave this client's session to another client that connected with the same client id "
                + "(MQTT v5 reason 142, session taken over): another daemon or program uses this client id"
        case 128...255: "the broker disconnected us: \(String(cString: mosquitto_reason_string(rc))) (reason \(rc))"
        default: reason(rc)
        }
    }

    static func reason(_ rc: Int32) -> String {
        if rc == MOSQ_ERR_ERRNO.rawValue { return String(cString: strerror(errno)) }
        if rc == MOSQ_ERR_KEEPALIVE.rawValue {
            return "the broker did not answer within the keepalive time (it is stalled or the network is)"
        }
        let text = String(cString: mosquitto_strerror(rc))
        return text == "Unknown error." ? "libmosquitto error \(rc)" : text
    }

    /// Runs on the network thread after each CONNACK.
    private func connected(rc: Int32, flags: Int32) {
        guard rc == 0 else {
            let current = lock.withLock { version }
            let text =
                current == .v5
                ? String(cString: mosquitto_reason_string(rc)) : String(cString: mosquitto_connack_string(rc))
            // A broker that speaks only 3.1.1 answers a v5 CONNECT with "unacceptable protocol
            // version" (1 in 3.1.1 terms, 132 in v5 terms).
            let unsupported =
                rc == Int32(MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION.rawValue)
                || rc == Int32(CONNACK_REFUSED_PROTOCOL_VERSION.rawValue)
            if current == .v5, settings.protocolVersion == .auto, unsupported {
                lock.withLock { refusedV5 = text }
                return
            }
            // A refusal is still an answer in the version asked: it must not read as the
            // protocol error that makes `auto` fall back to 3.1.1.
            lock.withLock { acknowledged = true }
            refused(code: Int(rc), reason: text)
            return
        }
        lock.lock()
        let current = filters
        nextRefusalDelay = 0
        consecutiveFailures = 0
        acknowledged = true
        lock.unlock()
        for (filter, qos) in current { _ = mosquitto_subscribe(handle, nil, filter, Int32(qos)) }
        onEvent(.connected(sessionPresent: flags & 1 == 1))
    }

    /// A refusal (wrong password, client not allowed) does not go away by retrying at once, and
    /// libmosquitto's own backoff restarts after every TCP connection that succeeds, so a refused
    /// client would knock once a second forever. Instead the network thread waits here, from 5
    /// seconds (or the minimum reconnect delay if longer) doubling up to the maximum, and wakes
    /// at once when the connection is stopped.
    private func refused(code: Int, reason: String) {
        let delay = lock.withLock {
            let (minimum, maximum) = settings.reconnectDelaySeconds
            let d = nextRefusalDelay == 0 ? max(5, minimum) : min(nextRefusalDelay * 2, max(maximum, 5))
            nextRefusalDelay = d
            return d
        }
        onEvent(.refused(code: code, reason: reason, retryInSeconds: delay))
        _ = pause(seconds: Double(delay))
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

    /// Starts the network thread and the first connection attempt. Failures to connect (broker
    /// down, a name that does not resolve yet, a TLS handshake that fails) are reported as
    /// events and retried with backoff, so this only throws for settings libmosquitto refuses.
    public func start() throws(MQTTError) {
        lock.lock()
        defer { lock.unlock() }
        guard !started else { return }
        wake.withLock { stopping = false }
        try check(mosquitto_threaded_set(handle, true), "thread mode")
        let thread = Thread { [self] in
            serve()
            finished.signal()
        }
        thread.name = "mqtt"
        thread.start()
        started = true
    }

    /// One connection attempt. MQTT v5 goes through `connect_bind_v5` every time, so the session
    /// expiry interval is sent on reconnections too (libmosquitto's own reconnect leaves it out,
    /// and the broker would then drop the session); 3.1.1 needs no property and connects
    /// without blocking.
    private func attempt(first: Bool) -> Int32 {
        let v = lock.withLock { version }
        let s = settings
        if v == .v311 {
            return first
                ? mosquitto_connect_async(handle, s.host, Int32(s.port), Int32(s.keepAliveSeconds))
                : mosquitto_reconnect_async(handle)
        }
        var properties: OpaquePointer?
        defer { mosquitto_property_free_all(&properties) }
        _ = mosquitto_property_add_int32(
            &properties, Int32(MQTT_PROP_SESSION_EXPIRY_INTERVAL.rawValue), s.sessionExpirySeconds)
        return mosquitto_connect_bind_v5(handle, s.host, Int32(s.port), Int32(s.keepAliveSeconds), nil, properties)
    }

    /// The network thread: connects, runs the connection until it fails, then waits (doubling
    /// a quarter of a second first, then from the minimum reconnect delay doubling to the maximum; a CONNACK resets it) and connects again,
    /// until ``stop()``. This is libmosquitto's `loop_forever` with two differences that matter
    /// for a daemon: that loop gives up for good after a TLS, DNS or protocol error, this one
    /// retries; and it keeps a v5 session across reconnections.
    private func serve() {
        var first = true
        while true {
            let failures = lock.withLock { consecutiveFailures }
            if failures > 0 {
                let (minimum, maximum) = settings.reconnectDelaySeconds
                if pause(seconds: Self.retryDelay(failures: failures, minimum: minimum, maximum: maximum)) { return }
            }
            if isStopping { return }
            let rc = attempt(first: first)
            first = false
            if rc != MOSQ_ERR_SUCCESS.rawValue {
                let n = lock.withLock {
                    consecutiveFailures += 1
                    return consecutiveFailures
                }
                // The first failure in a row is reported; the retries say nothing new.
                if n == 1 { onEvent(.disconnected(code: Int(rc), reason: Self.reason(rc))) }
                continue
            }
            lock.withLock { acknowledged = false }
            var loop: Int32
            repeat {
                loop = mosquitto_loop(handle, 1000, 1)
            } while loop == MOSQ_ERR_SUCCESS.rawValue && !(isStopping && !mosquitto_want_write(handle))
            if isStopping { return }
            // Under `auto`, v5 refused: by a CONNACK saying so, or by a 3.1.1 refusal that
            // libmosquitto, expecting v5, takes for a protocol error before any CONNACK.
            let fallBack: String? = lock.withLock {
                defer { refusedV5 = nil }
                guard version == .v5, settings.protocolVersion == .auto else { return nil }
                let reason =
                    refusedV5
                    ?? (loop == MOSQ_ERR_PROTOCOL.rawValue && !acknowledged
                        ? "protocol error in answer to an MQTT v5 CONNECT" : nil)
                if reason != nil { version = .v311 }
                return reason
            }
            if let fallBack {
                onEvent(.fellBackToMQTT311(reason: fallBack))
                setUpFor311()
                first = true
                continue
            }
            lock.withLock { consecutiveFailures += 1 }
        }
    }

    /// libmosquitto keeps a v5 CONNECT's properties for later connections, and refuses to send
    /// them under 3.1.1; the client is set up anew for 3.1.1 (on the network thread, while not
    /// connected; `publish` waits on `handleLock` meanwhile). The next attempt is a first connect.
    private func setUpFor311() {
        handleLock.withLock {
            mosquitto_reinitialise(
                handle, settings.clientID, settings.cleanSession, Unmanaged.passUnretained(self).toOpaque())
            _ = mosquitto_threaded_set(handle, true)
            do { try configure() } catch { onEvent(.failure(reason: "\(error)")) }
        }
    }

    private var isStopping: Bool { wake.withLock { stopping } }

    /// The wait before the next attempt after `failures` in a row (a drop counts as one): the
    /// first retry comes after a quarter of a second, so a broker that restarts at once (and
    /// keeps nothing published meanwhile) is back before much is lost; then the minimum delay,
    /// doubling up to the maximum.
    static func retryDelay(failures: Int, minimum: Int, maximum: Int) -> Double {
        failures <= 1 ? min(0.25, Double(maximum)) : Double(min(maximum, minimum << min(failures - 2, 16)))
    }

    /// Sleeps up to `seconds`, waking at once when the connection stops; true if it stops.
    private func pause(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        wake.lock()
        defer { wake.unlock() }
        while !stopping, wake.wait(until: deadline) {}
        return stopping
    }

    /// Publishes a message; with QoS 1 libmosquitto keeps it until the broker acknowledges it,
    /// across reconnects (also when published while disconnected).
    public func publish(topic: String, payload: [UInt8], qos: Int = 1, retain: Bool = false) throws(MQTTError) {
        let rc = handleLock.withLock {
            payload.withUnsafeBytes {
                mosquitto_publish(handle, nil, topic, Int32($0.count), $0.baseAddress, Int32(qos), retain)
            }
        }
        // While disconnected libmosquitto still queues a QoS 1 message and sends it after the
        // reconnect; it only reports that it could not send it yet.
        if rc == MOSQ_ERR_SUCCESS.rawValue || (rc == MOSQ_ERR_NO_CONN.rawValue && qos > 0) {
            lock.withLock { requestedPublishCount += 1 }
            return
        }
        try check(rc, "publish to \(topic)")
    }

    /// Disconnects cleanly (no last will) and stops the network thread once the DISCONNECT
    /// is written.
    public func stop() {
        lock.lock()
        let wasStarted = started
        started = false
        lock.unlock()
        guard wasStarted else { return }
        mosquitto_disconnect(handle)
        wake.withLock {
            stopping = true
            wake.broadcast()
        }
        // A v5 connection attempt blocks in connect(2) (and any attempt in the name lookup): to
        // an unreachable host that can take minutes, longer than systemd waits for a stop.
        threadEnded = finished.wait(timeout: .now() + .seconds(5)) == .success
    }
}
