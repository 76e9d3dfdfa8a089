import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One daemon per state directory: an exclusive `flock` on `<state directory>/daemon.lock`,
/// held for the life of the process (the kernel lets go when it exits, however it exits).
///
/// Two daemons on one state directory share the broker session (the client id) and the reading
/// log: they took the session from each other 2.4 times a second, logged readings twice and left
/// hours unforecast. The second one now refuses to start, naming the first one's process id,
/// which the lock file holds.
public final class StateDirectoryLock: Sendable {
    private let descriptor: Int32

    /// Why the lock could not be had.
    public enum Failure: Error, CustomStringConvertible {
        /// Another process holds it: a daemon runs on this state directory.
        case held(path: String, pid: String)
        /// The file cannot be opened (a read-only or full state directory): the daemon runs
        /// without the lock, and says so.
        case unavailable(path: String, reason: String)

        public var description: String {
            switch self {
            case .held(let path, let pid):
                "another aqcast daemon\(pid.isEmpty ? "" : " (process \(pid))") is running on this state "
                    + "directory (\(path) is locked); stop it, or give this one a state directory of its own "
                    + "(--state-dir)"
            case .unavailable(let path, let reason): "cannot lock \(path): \(reason)"
            }
        }
    }

    /// Takes the lock of `stateDirectory`, or throws.
    public init(stateDirectory: String) throws(Failure) {
        let path = stateDirectory + "/daemon.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw .unavailable(path: path, reason: String(cString: strerror(errno)))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let reason = String(cString: strerror(errno))
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buffer, buffer.count, 0)
            close(fd)
            guard busy else { throw .unavailable(path: path, reason: reason) }
            let pid = String(decoding: buffer.prefix(max(0, n)).filter { $0 >= 0x30 && $0 <= 0x39 }, as: UTF8.self)
            throw .held(path: path, pid: pid)
        }
        // The holder's process id, for the message of a daemon that finds it locked.
        let text = Array("\(getpid())\n".utf8)
        if ftruncate(fd, 0) == 0 { _ = pwrite(fd, text, text.count, 0) }
        descriptor = fd
    }

    deinit { close(descriptor) }
}
