import AQCastTestSupport
import AirQuality
import Foundation
import MQTTClient
import ReadingLog
import Synchronization
import Testing

/// A broker that speaks only MQTT 3.1.1 (as mosquitto 1.x does), made for the test: a v5
/// CONNECT is answered with "unacceptable protocol version" and the connection closed; a 3.1.1
/// CONNECT is accepted and whatever follows is read and ignored.
final class MQTT311OnlyBroker: @unchecked Sendable {
    let port = freePort()
    let listener: Int32
    private let lock = NSLock()
    private var levels: [UInt8] = []
    var protocolLevels: [UInt8] { lock.withLock { levels } }

    init() throws {
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        let bound = withLoopbackAddress(port: port) { bind(listener, $0, $1) }
        guard bound == 0, listen(listener, 4) == 0 else { throw POSIXError(.EADDRINUSE) }
        let fd = listener
        Thread { [self] in
            while true {
                let c = accept(fd, nil, nil)
                if c < 0 { return }
                Thread { self.serve(c) }.start()
            }
        }.start()
    }

    private func serve(_ c: Int32) {
        defer { close(c) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(c, &buffer, buffer.count, 0)
        // CONNECT: 0x10, remaining length (1 to 4 bytes, 7 bits each), 0x00 0x04 "MQTT", level.
        guard n >= 2, buffer[0] == 0x10 else { return }
        var i = 1
        while i < n, buffer[i] & 0x80 != 0 { i += 1 }
        guard n > i + 7 else { return }
        let level = buffer[i + 7]
        lock.withLock { levels.append(level) }
        if level != 4 {
            _ = send(c, [UInt8]([0x20, 0x02, 0x00, 0x01]), 4, 0)
            return
        }
        _ = send(c, [UInt8]([0x20, 0x02, 0x00, 0x00]), 4, 0)
        while recv(c, &buffer, buffer.count, 0) > 0 {}
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }
}

@Suite struct ProtocolFallbackTests {
    @Test func aBrokerWithoutMQTT5IsUsedWithMQTT311() throws {
        #expect(FakeJournal.shared != nil)
        let broker = try MQTT311OnlyBroker()
        let notify = try NotifySocket()
        let daemon = try ChildProcess(
            Shipped.binary, ["run", "--broker", "127.0.0.1:\(broker.port)", "--state-dir", temporaryDirectory()],
            environment: ["NOTIFY_SOCKET": notify.path])
        let ready = notify.collect(seconds: 10) { $0.contains("STATUS=connected to") }
        #expect(ready.last?.contains("STATUS=connected to") == true, "\(ready) levels \(broker.protocolLevels)")
        #expect(broker.protocolLevels.prefix(2) == [5, 4], "CONNECT protocol levels: \(broker.protocolLevels)")
        let note = FakeJournal.shared?.wait(seconds: 2) {
            ($0["MESSAGE"] ?? "").hasPrefix("the broker does not speak MQTT v5")
                && $0["BROKER"] == "127.0.0.1:\(broker.port)"
        }
        #expect(note?["MESSAGE"]?.hasSuffix("; using MQTT 3.1.1") == true, "\(note ?? [:])")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 10) == 0)
    }
}
