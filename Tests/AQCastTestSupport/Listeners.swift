import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A bound datagram socket that receives what the daemon sends to `NOTIFY_SOCKET`.
public final class NotifySocket: @unchecked Sendable {
    public let path: String
    public let fd: Int32
    /// Received and not yet taken by ``next(seconds:)``, guarded by `condition`. The socket is
    /// drained as messages come, as systemd does: the kernel queues only 10 unread datagrams,
    /// and a daemon's eleventh would wait (its notifier must not stall it either way).
    private var received: [String] = []
    private let condition = NSCondition()
    private var closed = false

    public init() throws {
        path = NSTemporaryDirectory() + "aqcast-notify-\(UUID().uuidString.prefix(8))"
        fd = try bindDatagram(path)
        let thread = Thread { [weak self] in
            while let me = self, !me.condition.withLock({ me.closed }) {
                guard let data = receiveDatagram(me.fd, seconds: 0.2) else { continue }
                me.condition.withLock {
                    me.received.append(String(decoding: data, as: UTF8.self))
                    me.condition.broadcast()
                }
            }
        }
        thread.start()
    }

    /// The next message, or nil after `seconds`.
    public func next(seconds: Double) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        return condition.withLock {
            while received.isEmpty {
                guard condition.wait(until: deadline) else { return nil }
            }
            return received.removeFirst()
        }
    }

    /// Messages until one satisfies `until` (included) or time runs out.
    public func collect(seconds: Double, until: (String) -> Bool) -> [String] {
        var out: [String] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard let m = next(seconds: deadline.timeIntervalSinceNow) else { break }
            out.append(m)
            if until(m) { break }
        }
        return out
    }

    deinit {
        condition.withLock { closed = true }
        close(fd)
        unlink(path)
    }
}

/// The journal's native socket, bound by the test: `sd_journal_sendv` writes here, one entry a
/// datagram of `KEY=value` lines (or `KEY`, newline, little-endian 64-bit length, value).
public final class FakeJournal: @unchecked Sendable {
    public static let shared = try? FakeJournal()
    public let fd: Int32
    private let lock = NSLock()
    private var entries: [[String: String]] = []

    /// A socket of the test's own, named to every daemon the tests start through
    /// `AQCAST_JOURNAL_SOCKET` (children inherit the test's environment); the system's journal
    /// socket is never touched.
    public init() throws {
        let path = NSTemporaryDirectory() + "aqcast-journal-\(getpid()).socket"
        unlink(path)
        fd = try bindDatagram(path)
        setenv("AQCAST_JOURNAL_SOCKET", path, 1)
        let thread = Thread { [unowned self] in
            while true {
                guard let data = receiveDatagram(self.fd, seconds: 3600) else { continue }
                let entry = Self.parse(data)
                self.lock.withLock { self.entries.append(entry) }
            }
        }
        thread.start()
    }

    public static func parse(_ data: [UInt8]) -> [String: String] {
        var fields: [String: String] = [:]
        var i = 0
        while i < data.count {
            guard let end = data[i...].firstIndex(where: { $0 == 0x0A || $0 == 0x3D }) else { break }
            let key = String(decoding: data[i..<end], as: UTF8.self)
            if data[end] == 0x3D {
                let stop = data[(end + 1)...].firstIndex(of: 0x0A) ?? data.count
                fields[key] = String(decoding: data[(end + 1)..<stop], as: UTF8.self)
                i = stop + 1
            } else {
                var n = 0
                for k in 0..<8 { n |= Int(data[end + 1 + k]) << (8 * k) }
                let start = end + 9
                fields[key] = String(decoding: data[start..<(start + n)], as: UTF8.self)
                i = start + n + 1
            }
        }
        return fields
    }

    public func all() -> [[String: String]] { lock.withLock { entries } }

    /// Waits until an entry matches, and returns it.
    public func wait(seconds: Double, for match: ([String: String]) -> Bool) -> [String: String]? {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if let e = all().first(where: match) { return e }
            usleep(20_000)
        } while Date() < deadline
        return nil
    }
}

public func bindDatagram(_ path: String) throws -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (i, b) in bytes.enumerated() { raw[i] = b }
    }
    let rc = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EINVAL) }
    var size: Int32 = 8 << 20
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    return fd
}

public func receiveDatagram(_ fd: Int32, seconds: Double) -> [UInt8]? {
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    guard poll(&p, 1, Int32(max(0, seconds) * 1000)) > 0 else { return nil }
    var buffer = [UInt8](repeating: 0, count: 1 << 17)
    let n = recv(fd, &buffer, buffer.count, 0)
    return n > 0 ? Array(buffer[0..<n]) : nil
}
