import CSystemd
import Foundation

/// Tells systemd (or whoever listens on `NOTIFY_SOCKET`) how the service is doing: ready,
/// reloading, stopping, a status line, and watchdog keep-alives. Every call is a no-op when
/// `NOTIFY_SOCKET` is not set.
public struct ServiceNotifier: Sendable {
    public init() {}

    /// Whether anybody listens (the `NOTIFY_SOCKET` variable is set).
    public var isActive: Bool { ProcessInfo.processInfo.environment["NOTIFY_SOCKET"] != nil }

    /// Sends `state` (newline-separated `KEY=value` assignments); returns false when it failed.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        sd_notify(0, state) >= 0
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
