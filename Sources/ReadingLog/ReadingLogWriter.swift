import Foundation

/// Collects entries from the MQTT thread without touching the disk there, and writes them in
/// one transaction every `interval` on a thread of its own: at most one interval of readings is
/// at risk in a crash. A failing write (disk full, read-only, missing file) keeps the entries
/// for the next try, reports once per `reportEvery`, and recovers by itself.
public final class ReadingLogWriter: @unchecked Sendable {
    // @unchecked: `pending`, `running`, `lastReport` and the counters are guarded by `condition`.
    public let log: ReadingLog
    public let interval: Duration
    private let report: @Sendable (String) -> Void
    private let condition = NSCondition()
    private var pending: [ReadingLog.Entry] = []
    private var pendingRejected: [ReadingLog.Rejected] = []
    private var running = false
    private var thread: Thread?
    private var lastReport = Date.distantPast
    private let reportEvery: TimeInterval
    /// Entries kept in memory at most while writes fail (beyond, the oldest are dropped and counted).
    public let maximumPending: Int
    public private(set) var written = 0
    public private(set) var dropped = 0

    public init(
        log: ReadingLog, interval: Duration = .milliseconds(200), maximumPending: Int = 1_000_000,
        reportEvery: TimeInterval = 60, report: @escaping @Sendable (String) -> Void
    ) {
        self.log = log
        self.interval = interval
        self.maximumPending = maximumPending
        self.reportEvery = reportEvery
        self.report = report
    }

    /// Queues an entry; never blocks on the disk.
    public func enqueue(_ entry: ReadingLog.Entry) {
        condition.lock()
        pending.append(entry)
        if pending.count > maximumPending {
            pending.removeFirst(pending.count - maximumPending)
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

    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !running else { return }
        running = true
        let t = Thread { [self] in loop() }
        t.name = "reading log"
        thread = t
        t.start()
    }

    /// Writes what is pending and stops the thread.
    public func stop() {
        condition.lock()
        running = false
        condition.signal()
        condition.unlock()
        while thread?.isFinished == false { usleep(1000) }
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
        condition.unlock()
        // Refusals are a diagnostic aid: written when possible, dropped when the disk fails.
        try? log.appendRejected(refused)
        guard !batch.isEmpty else { return true }
        do {
            try log.append(batch)
            condition.lock()
            written += batch.count
            condition.unlock()
            return true
        } catch {
            condition.lock()
            pending.insert(contentsOf: batch, at: 0)
            let due = Date().timeIntervalSince(lastReport) >= reportEvery
            if due { lastReport = Date() }
            let count = pending.count
            condition.unlock()
            if due { report("cannot write the reading log \(log.path): \(error); \(count) readings kept in memory, retrying") }
            return false
        }
    }

    private func loop() {
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        while true {
            condition.lock()
            if !running {
                condition.unlock()
                return
            }
            _ = condition.wait(until: Date().addingTimeInterval(seconds))
            condition.unlock()
            flush()
        }
    }
}
