import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with an empty signal mask and default signal handlers (a test
/// runner's threads block SIGTERM, and a plain spawn would pass that on), output to files.
final class ChildProcess {
    let pid: pid_t
    let outputPath: String

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        outputPath = NSTemporaryDirectory() + "aqcast-child-\(UUID().uuidString).log"
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
        pid = child
    }

    func signal(_ s: Int32) { kill(pid, s) }

    /// Waits up to `seconds` for the process to end; its exit status, or nil if still running.
    func wait(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        while Date() < deadline {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f) }
            usleep(20_000)
        }
        return nil
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    deinit {
        if waitpid(pid, nil, WNOHANG) == 0 {
            kill(pid, SIGKILL)
            waitpid(pid, nil, 0)
        }
    }
}

/// A free TCP port on loopback (bound, read, released).
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A mosquitto broker of the test's own on a free loopback port, persistence in a temp folder.
final class Broker {
    let port: Int
    let directory: String
    private(set) var process: ChildProcess

    /// `listener` lines go after the listener (e.g. TLS files); `anonymous` false needs a password file.
    init(listener: String = "", anonymous: Bool = true, directory: String? = nil) throws {
        port = freePort()
        self.directory = directory ?? NSTemporaryDirectory() + "aqcast-broker-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        let conf = """
            listener \(port) 127.0.0.1
            \(listener)
            allow_anonymous \(anonymous)
            persistence true
            persistence_location \(self.directory)/
            max_queued_messages 100000
            user root
            """
        try conf.write(toFile: self.directory + "/mosquitto.conf", atomically: true, encoding: .utf8)
        process = try Broker.launch(self.directory)
        try waitUntilListening()
    }

    static func launch(_ directory: String) throws -> ChildProcess {
        try ChildProcess("/usr/sbin/mosquitto", ["-c", directory + "/mosquitto.conf"])
    }

    func waitUntilListening() throws {
        for _ in 0..<100 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_addr.s_addr = inet_addr("127.0.0.1")
            a.sin_port = UInt16(port).bigEndian
            let ok = withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            close(fd)
            if ok == 0 { return }
            usleep(50_000)
        }
        throw POSIXError(.ECONNREFUSED)
    }

    /// Stops the broker (saving its persistent state) and starts it again on the same port.
    func restart(downFor seconds: Double) throws {
        process.signal(SIGTERM)
        _ = process.wait(seconds: 5)
        usleep(useconds_t(seconds * 1_000_000))
        process = try Broker.launch(directory)
        try waitUntilListening()
    }

    deinit {
        process.signal(SIGTERM)
        _ = process.wait(seconds: 5)
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A bound datagram socket that receives what the daemon sends to `NOTIFY_SOCKET`.
final class NotifySocket: @unchecked Sendable {
    let path: String
    let fd: Int32
    /// Received and not yet taken by ``next(seconds:)``, guarded by `condition`. The socket is
    /// drained as messages come, as systemd does: the kernel queues only 10 unread datagrams,
    /// and a daemon's eleventh would wait (its notifier must not stall it either way).
    private var received: [String] = []
    private let condition = NSCondition()
    private var closed = false

    init() throws {
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
    func next(seconds: Double) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        return condition.withLock {
            while received.isEmpty {
                guard condition.wait(until: deadline) else { return nil }
            }
            return received.removeFirst()
        }
    }

    /// Messages until one satisfies `until` (included) or time runs out.
    func collect(seconds: Double, until: (String) -> Bool) -> [String] {
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
final class FakeJournal: @unchecked Sendable {
    static let shared = try? FakeJournal()
    let fd: Int32
    private let lock = NSLock()
    private var entries: [[String: String]] = []

    /// A socket of the test's own, named to every daemon the tests start through
    /// `AQCAST_JOURNAL_SOCKET` (children inherit the test's environment); the system's journal
    /// socket is never touched.
    init() throws {
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

    static func parse(_ data: [UInt8]) -> [String: String] {
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

    func all() -> [[String: String]] { lock.withLock { entries } }

    /// Waits until an entry matches, and returns it.
    func wait(seconds: Double, for match: ([String: String]) -> Bool) -> [String: String]? {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if let e = all().first(where: match) { return e }
            usleep(20_000)
        } while Date() < deadline
        return nil
    }
}

func bindDatagram(_ path: String) throws -> Int32 {
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

func receiveDatagram(_ fd: Int32, seconds: Double) -> [UInt8]? {
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    guard poll(&p, 1, Int32(max(0, seconds) * 1000)) > 0 else { return nil }
    var buffer = [UInt8](repeating: 0, count: 1 << 17)
    let n = recv(fd, &buffer, buffer.count, 0)
    return n > 0 ? Array(buffer[0..<n]) : nil
}
