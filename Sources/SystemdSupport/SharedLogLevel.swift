import Logging
import Synchronization

/// One log level that many handlers follow: swift-log copies a handler into every `Logger`, so
/// a level set on one copy reaches no other; a reload of the configuration sets this one.
public final class SharedLogLevel: Sendable {
    private let level: Mutex<Logger.Level>

    public init(_ level: Logger.Level) { self.level = Mutex(level) }

    public var value: Logger.Level {
        get { level.withLock { $0 } }
        set { level.withLock { $0 = newValue } }
    }
}
