import CSystemd
import Foundation
import Synchronization

/// Tells systemd (or whoever listens on `NOTIFY_SOCKET`) how the service is doing: ready,
/// reloading, stopping, a status line, and watchdog keep-alives. Every call is a no-op when
/// `NOTIFY_SOCKET` is not set.
///
/// `sd_notify` blocks while the listener's queue is full (the kernel queues 10 datagrams
/// unread, `net.unix.max_dgram_qlen`), so it is called on a serial queue of its own, never on
/// the caller's thread: a listener that stops reading cannot stall the daemon (its shutdown
/// ran on a thread blocked that way). Past ``maximumPending`` unsent messages, status lines and
/// watchdog pings are dropped; READY, RELOADING and STOPPING never are.
public struct ServiceNotifier: Sendable {
    public init() {}

    private static let queue = DispatchQueue(label: "aqcast.notify")
    private static let pending = Mutex(0)
    public static let maximumPending = 64

    /// Whether anybody listens (the `NOTIFY_SOCKET` variable is set).
    public var isActive: Bool { ProcessInfo.processInfo.environment["NOTIFY_SOCKET"] != nil }

    /// Queues `state` (newline-separated `KEY=value` assignments); returns false when it was
    /// dropped.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        let droppable = state.hasPrefix("STATUS=") || state.hasPrefix("WATCHDOG=")
        let accepted = Self.pending.withLock { n in
            guard !droppable || n < Self.maximumPending else { return false }
            n += 1
            return true
        }
        guard accepted else { return false }
        Self.queue.async {
            _ = sd_notify(0, state)
            Self.pending.withLock { $0 -= 1 }
        }
        return true
    }

    /// Waits until every queued message was handed to the socket (or `seconds` passed): before
    /// the process exits, so STOPPING=1 is not lost.
    public func flush(seconds: Double = 1) {
        let done = DispatchSemaphore(value: 0)
        Self.queue.async { done.signal() }  // runs after everything queued so far
        _ = done.wait(timeout: .now() + seconds)
    }

    public func ready(status: String) { notify("READY=1\nSTATUS=\(status)") }
    public func reloading() { notify("RELOADING=1") }
    public func stopping() { notify("STOPPING=1") }
    public func status(_ text: String) { notify("STATUS=\(text)") }
    public func watchdog() { notify("WATCHDOG=1") }

    /// Half the watchdog period systemd asked for (`WATCHDOG_USEC`), or nil when there is none.
    public var watchdogInterval: Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(usec / 2))
    }
}
