import AirQuality
import Foundation
import Logging
import ReadingLog
import ServiceLifecycle
import Synchronization

/// The reading log's life in the daemon: opened (and pruned) at start, its writer thread run
/// while the daemon runs, pruned once a day, and everything pending written when it stops. It
/// is the first service of the group, so it stops last: after the MQTT service has stopped
/// handing it readings.
public final class ReadingLogService: Service, Sendable {
    /// The writer the MQTT service hands every accepted reading to.
    public let writer: ReadingLogWriter
    /// The newest hours of every station the log held at start, to rebuild the windows from.
    public let history: [Reading]
    /// Each station's bias correction as the log left it, to resume from.
    public let biasCorrections: [String: BiasCorrection]
    private let retentionDays: Mutex<Int>
    private let logger: Logger

    /// Opens the log in `configuration`'s state directory and reads the last `hours` of it.
    /// A log that cannot be opened is said in the journal; the writer then keeps readings in
    /// memory and opens the log when it can.
    public init(configuration: DaemonConfiguration, hours: Int, logger: Logger) {
        let path = ReadingLog.path(inStateDirectory: configuration.stateDirectory)
        var history: [Reading] = []
        var corrections: [String: BiasCorrection] = [:]
        var opened: ReadingLog?
        do {
            try FileManager.default.createDirectory(
                atPath: configuration.stateDirectory, withIntermediateDirectories: true)
            let log = try ReadingLog(path: path)
            opened = log
            history = try log.recent(hours: hours)
            let today = Self.today
            try log.pruneBias(beforeDay: today - Self.biasKeptDays)
            corrections = try log.biasCorrections(days: configuration.forecast.biasCorrectionDays, today: today)
            let pruned = try log.prune(keepingDays: configuration.retentionDays, now: Date().timeIntervalSince1970)
            if pruned > 0 {
                logger.info(
                    "reading log pruned",
                    metadata: ["readings": "\(pruned)", "retention_days": "\(configuration.retentionDays)"])
            }
            let logged = try log.count()
            logger.info("reading log opened", metadata: ["path": "\(log.path)", "readings": "\(logged)"])
        } catch {
            logger.error(
                "reading log unavailable, forecasting without it and keeping readings in memory until it can be written: \(error)",
                metadata: ["path": "\(path)", "reason": "reading_log"])
        }
        writer = ReadingLogWriter(
            path: path, log: opened, interval: .milliseconds(configuration.commitIntervalMilliseconds),
            recovered: { [logger] news in logger.notice("\(news)", metadata: ["path": "\(path)"]) },
            report: { [logger] problem in logger.error("\(problem)", metadata: ["reason": "reading_log"]) })
        self.history = history
        biasCorrections = corrections
        retentionDays = Mutex(configuration.retentionDays)
        self.logger = logger
    }

    /// Days of bias errors kept: the longest `bias_correction_days` allowed.
    static let biasKeptDays: Int64 = 365

    static var today: Int64 { BiasCorrection.day(of: hourContaining(Int64(Date().timeIntervalSince1970))) }

    /// A reload's new `storage.retention_days`, used from the next daily prune.
    public func keep(days: Int) { retentionDays.withLock { $0 = days } }

    public func run() async throws {
        writer.start()
        await withDiscardingTaskGroup { group in
            group.addTask { await self.pruneDaily() }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        // Joining the writer thread and the last write block: off the cooperative pool.
        await offThePool { [writer] in writer.stop() }
    }

    private func pruneDaily() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(86400))
            if Task.isCancelled { return }
            let days = retentionDays.withLock { $0 }
            guard let log = writer.log else { continue }
            do {
                let pruned = try log.prune(keepingDays: days, now: Date().timeIntervalSince1970)
                try log.pruneBias(beforeDay: Self.today - Self.biasKeptDays)
                logger.info("reading log pruned", metadata: ["readings": "\(pruned)", "retention_days": "\(days)"])
            } catch {
                logger.error("cannot prune the reading log: \(error)", metadata: ["reason": "reading_log"])
            }
        }
    }
}

/// Runs blocking work (joining a thread, a last write) on a thread of its own, so that the
/// async caller does not hold one of the cooperative pool's few threads meanwhile.
func offThePool(_ work: @escaping @Sendable () -> Void) async {
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        let thread = Thread {
            work()
            done.resume()
        }
        thread.name = "aqcast stop"
        thread.start()
    }
}
