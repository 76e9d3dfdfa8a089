import ServiceLifecycle
import SystemdSupport

/// What systemd is told while the daemon runs: the status line every five seconds (what
/// `systemctl status` shows) and the watchdog when the unit asks for one. It is the last
/// service of the group, so it stops first: STOPPING=1 goes out before the others wind down.
/// READY=1 and RELOADING=1 belong to the MQTT service, which knows when they are true.
public final class SystemdHealthService: Service, Sendable {
    private let notifier: ServiceNotifier
    private let forecasts: ForecastService

    public init(notifier: ServiceNotifier, forecasts: ForecastService) {
        self.notifier = notifier
        self.forecasts = forecasts
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.reportStatus() }
            if let interval = notifier.watchdogInterval {
                group.addTask { await self.feedWatchdog(every: interval) }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        notifier.stopping()
    }

    private func reportStatus() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(5))
            if Task.isCancelled { return }
            notifier.status(forecasts.statusLine())
        }
    }

    private func feedWatchdog(every interval: Duration) async {
        while !Task.isCancelled {
            notifier.watchdog()
            try? await Task.sleep(for: interval)
        }
    }
}
