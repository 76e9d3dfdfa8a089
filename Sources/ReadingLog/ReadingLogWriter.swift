import AirQuality
import DequeModule
import Foundation
import GRDB

/// Collects entries from the MQTT thread without touching the disk there, and writes them in
/// one transaction every `interval` on a thread of its own: at most one interval of readings is
/// at risk in a crash. A failing write (disk full, read-only) keeps the entries for the next
/// try, reports once per `reportEvery`, and recovers by itself (and says so). The writer also owns the log
/// file: it opens it when it could not be opened before (a missing or unwritable state
/// directory), opens a new one when the file was deleted or replaced under it (writes to an
/// unlinked file would vanish), and sets a corrupt file aside (`readings.sqlite.corrupt-<time>`)
/// and starts a new one.
public final class ReadingLogWriter: @unchecked Sendable {
    // @unchecked: `pending`, `running`, `finished`, `lastReport` and the counters are guarded by
    // `condition`;
    // `current` and `opened` by `fileLock`.
    public let path: String
    private let fileLock = NSLock()
    private var current: ReadingLog?
    private var opened: (device: UInt64, inode: UInt64)?
    public let interval: Duration
    private let report: @Sendable (String) -> Void
    private let recovered: @Sendable (String) -> Void
    private let condition = NSCondition()
    // Deques: past ``maximumPending`` the oldest reading goes at every new one, and a failed
    // write puts its batch back in front, each without moving what is queued.
    private var pending: Deque<ReadingLog.Entry> = []
    private var pendingRejected: [ReadingLog.Rejected] = []
    private var pendingForecasts: Deque<ReadingLog.LoggedForecast> = []
    private var pendingBias: Deque<ReadingLog.LoggedBiasError> = []
    private var running = false
    /// Set by the thread as it leaves its loop, so that ``stop()`` waits on the condition.
    private var finished = false
    private var thread: Thread?
    private var lastReport = Date.distantPast
    /// Whether the last write failed, so that the next one that works is said.
    private var failing = false
    private let reportEvery: TimeInterval
    /// Entries kept in memory at most while writes fail (beyond, the oldest are dropped and counted).
    public let maximumPending: Int
    public private(set) var written = 0
    public private(set) var dropped = 0
    /// Told how long each commit that worked took.
    private var commitObserver: (@Sendable (Duration) -> Void)?

    /// `log` is the file already opened at `path`, if it could be.
    public init(
        path: String, log: ReadingLog? = nil, interval: Duration = .milliseconds(200), maximumPending: Int = 1_000_000,
        reportEvery: TimeInterval = 60, recovered: (@Sendable (String) -> Void)? = nil,
        report: @escaping @Sendable (String) -> Void
    ) {
        self.recovered = recovered ?? report
        self.path = path
        current = log
        opened = log == nil ? nil : Self.identity(path)
        self.interval = interval
        self.maximumPending = maximumPending
        self.reportEvery = reportEvery
        self.report = report
    }

    /// Has `observer` told how long each commit that works takes (on the writer's thread).
    public func observeCommits(_ observer: @escaping @Sendable (Duration) -> Void) {
        condition.lock()
        commitObserver = observer
        condition.unlock()
    }

    /// The readings waiting to be committed, and those dropped since start (past
    /// ``maximumPending`` while writes failed).
    public var queue: (pending: Int, dropped: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (pending.count, dropped)
    }

    /// Queues an entry; never blocks on the disk.
    public func enqueue(_ entry: ReadingLog.Entry) {
        condition.lock()
        pending.append(entry)
        while pending.count > maximumPending {
            pending.removeFirst()
            dropped += 1
        }
        condition.unlock()
    }

    /// Queues a refused payload's record (bounded like the readings).
    public func enqueueRejected(_ entry: ReadingLog.Rejected) {
        condition.lock()
        if pendingRejected.count < 10_000 { pendingRejected.append(entry) }
        condition.unlock()
    }

    /// Queues a published forecast's hours (bounded like the readings; written with them).
    public func enqueueForecast(_ forecast: StationForecast) {
        condition.lock()
        if pendingForecasts.count < maximumPending { pendingForecasts += ReadingLog.LoggedForecast.hours(of: forecast) }
        condition.unlock()
    }

    /// Queues the errors a forecast's station correction learnt (``StationForecast/biasErrors``),
    /// published or not.
    public func enqueueBiasErrors(of forecast: StationForecast) {
        guard !forecast.biasErrors.isEmpty else { return }
        condition.lock()
        if pendingBias.count < maximumPending { pendingBias += ReadingLog.LoggedBiasError.errors(of: forecast) }
        condition.unlock()
    }

    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !running else { return }
        running = true
        finished = false
        let t = Thread { [self] in loop() }
        t.name = "reading log"
        thread = t
        t.start()
    }

    /// Writes what is pending and stops the thread.
    public func stop() {
        condition.lock()
        running = false
        condition.broadcast()
        while thread != nil, !finished { condition.wait() }
        thread = nil
        condition.unlock()
        _ = flush()
    }

    /// Writes everything pending now; returns whether it succeeded.
    @discardableResult
    public func flush() -> Bool {
        condition.lock()
        let batch = pending
        pending.removeAll(keepingCapacity: true)
        let refused = pendingRejected
        pendingRejected.removeAll(keepingCapacity: true)
        let forecasts = pendingForecasts
        pendingForecasts.removeAll(keepingCapacity: true)
        let bias = pendingBias
        pendingBias.removeAll(keepingCapacity: true)
        condition.unlock()
        guard !batch.isEmpty || !refused.isEmpty || !forecasts.isEmpty || !bias.isEmpty else { return true }
        do {
            let log = try usableLog()
            // Refusals are a diagnostic aid: written when possible, dropped when the disk fails.
            try? log.appendRejected(refused)
            let started = ContinuousClock.now
            try log.append(Array(batch), forecasts: Array(forecasts), biasErrors: Array(bias))
            let took = ContinuousClock.now - started
            condition.lock()
            written += batch.count
            let recovered = failing
            failing = false
            let observer = commitObserver
            condition.unlock()
            if !batch.isEmpty || !forecasts.isEmpty { observer?(took) }
            if recovered {
                self.recovered(
                    "the reading log \(path) is written again: the \(batch.count) readings kept in memory are in it")
            }
            return true
        } catch {
            condition.lock()
            pending.prepend(contentsOf: batch)
            pendingForecasts.prepend(contentsOf: forecasts)
            pendingBias.prepend(contentsOf: bias)
            failing = true
            let due = Date().timeIntervalSince(lastReport) >= reportEvery
            if due { lastReport = Date() }
            let count = pending.count
            condition.unlock()
            if due {
                report("cannot write the reading log \(path): \(error); \(count) readings kept in memory, retrying")
            }
            return false
        }
    }

    /// The log as it is now, if it is open (for pruning and counting).
    public var log: ReadingLog? { fileLock.withLock { current } }

    /// The open log if its file is still the one at `path`; else the file opened anew.
    func usableLog() throws -> ReadingLog {
        try fileLock.withLock {
            let now = Self.identity(path)
            if let current, let opened, let now, opened == now { return current }
            if current != nil {
                report("the reading log \(path) was deleted or replaced; writing to a new one")
            }
            current = nil
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let log: ReadingLog
            do {
                log = try ReadingLog(path: path)
            } catch let error as DatabaseError
                where error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB
            {
                let aside = path + ".corrupt-\(Int(Date().timeIntervalSince1970))"
                for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
                    try FileManager.default.moveItem(atPath: path + suffix, toPath: aside + suffix)
                }
                report(
                    "the reading log \(path) is corrupt (\(error.message ?? "\(error)")); moved it to \(aside) and started a new one"
                )
                log = try ReadingLog(path: path)
            }
            current = log
            opened = Self.identity(path)
            return log
        }
    }

    static func identity(_ path: String) -> (device: UInt64, inode: UInt64)? {
        var s = stat()
        guard stat(path, &s) == 0 else { return nil }
        return (UInt64(s.st_dev), UInt64(s.st_ino))
    }

    private func loop() {
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        while true {
            condition.lock()
            if !running {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            _ = condition.wait(until: Date().addingTimeInterval(seconds))
            condition.unlock()
            flush()
        }
    }
}
