import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with an empty signal mask and default signal handlers (a test
/// runner's threads block SIGTERM, and a plain spawn would pass that on), output to a file.
public final class ChildProcess {
    public let pid: pid_t
    public let outputPath: String

    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
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

    public func signal(_ s: Int32) { kill(pid, s) }

    /// Waits up to `seconds` for the process to end; its exit status, or nil if still running.
    public func wait(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        while Date() < deadline {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f) }
            usleep(20_000)
        }
        return nil
    }

    public var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    deinit {
        if waitpid(pid, nil, WNOHANG) == 0 {
            kill(pid, SIGKILL)
            waitpid(pid, nil, 0)
        }
    }
}

/// A free TCP port on loopback (bound, read, released).
public func freePort() -> Int {
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

/// Calls `body` with the socket address of `port` on 127.0.0.1 and its length.
public func withLoopbackAddress<T>(port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
}

/// A mosquitto broker of a test's (or a benchmark's) own on a free loopback port, persistence in
/// a temp folder.
public final class Broker {
    public let port: Int
    public let directory: String
    public private(set) var process: ChildProcess

    /// The broker-wide lines the tests run with: a client that was away gets up to 100,000
    /// queued messages back.
    public static let testSettings = "max_queued_messages 100000"

    /// `listener` lines go after the listener (e.g. TLS files); `anonymous` false needs a password
    /// file; `settings` are the broker-wide lines.
    public init(
        listener: String = "", anonymous: Bool = true, directory: String? = nil, settings: String = testSettings
    ) throws {
        port = freePort()
        self.directory = directory ?? NSTemporaryDirectory() + "aqcast-broker-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        let conf = """
            listener \(port) 127.0.0.1
            \(listener)
            allow_anonymous \(anonymous)
            persistence true
            persistence_location \(self.directory)/
            \(settings)
            user root
            """
        try conf.write(toFile: self.directory + "/mosquitto.conf", atomically: true, encoding: .utf8)
        process = try Broker.launch(self.directory)
        try waitUntilListening()
    }

    /// Stops the broker now; it is also stopped when released.
    public func stop() {
        process.signal(SIGTERM)
        _ = process.wait(seconds: 5)
    }

    public static func launch(_ directory: String) throws -> ChildProcess {
        try ChildProcess("/usr/sbin/mosquitto", ["-c", directory + "/mosquitto.conf"])
    }

    public func waitUntilListening() throws {
        for _ in 0..<100 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            let ok = withLoopbackAddress(port: port) { connect(fd, $0, $1) }
            close(fd)
            if ok == 0 { return }
            usleep(50_000)
        }
        throw POSIXError(.ECONNREFUSED)
    }

    /// Stops the broker (saving its persistent state) and starts it again on the same port.
    public func restart(downFor seconds: Double) throws {
        stop()
        usleep(useconds_t(seconds * 1_000_000))
        process = try Broker.launch(directory)
        try waitUntilListening()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
