import AirQuality
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Defence against a poison message: one that makes the process die while handling it.
///
/// A QoS 1 message is acknowledged only after it was handled, so a message that kills the
/// process is handed over again at the next start, and again, and systemd's restarts become a
/// loop that stops every forecast. Before each message is handled, its hash goes into a small
/// memory-mapped file in the state directory, and it is marked done afterwards. The stores cost
/// a few nanoseconds and need no system call: the kernel keeps a shared mapping's page when the
/// process dies, however it dies. A start that finds a message still marked as being handled
/// refuses that message (once) when it comes again, so it is acknowledged and the queue behind
/// it flows.
///
/// Not a defence against a power cut (the page may not reach the disk), which is not what kills
/// a process over and over.
final class InFlightMessage: @unchecked Sendable {
    // @unchecked: used only from the MQTT network thread, which handles one message at a time.
    private let record: UnsafeMutablePointer<UInt64>
    private static let size = 4096
    private static let idle: UInt64 = 0x6171_6361_7374_0000  // "aqcast" and 0: nothing in hand
    private static let handling: UInt64 = 0x6171_6361_7374_0001
    /// The hash of the message a previous process died handling, until it is seen again.
    private(set) var suspect: UInt64?

    /// Opens (or creates) the record at `path`; nil when the file cannot be mapped, and the
    /// daemon then runs without this defence.
    init?(path: String) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        if info.st_size != Self.size, ftruncate(fd, off_t(Self.size)) != 0 { return nil }
        guard let mapped = mmap(nil, Self.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), mapped != MAP_FAILED
        else { return nil }
        record = mapped.bindMemory(to: UInt64.self, capacity: 2)
        if record[0] == Self.handling { suspect = record[1] }
        record[0] = Self.idle
    }

    deinit { munmap(record, Self.size) }

    /// Marks the message as being handled. Returns true, and marks nothing, when it is the
    /// message a previous process died handling: the caller refuses it.
    func begin(topic: String, payload: [UInt8]) -> Bool {
        let hash = Self.hash(topic: topic, payload: payload)
        if let suspect, suspect == hash {
            self.suspect = nil
            return true
        }
        record[1] = hash
        record[0] = Self.handling
        return false
    }

    /// The message is handled (accepted or refused): a death from here on is not its fault.
    func end() { record[0] = Self.idle }

    /// FNV-1a over the topic, a zero byte and the payload.
    static func hash(topic: String, payload: [UInt8]) -> UInt64 {
        var h = FNV1a()
        h.add(topic.utf8)
        h.add([0])
        h.add(payload)
        return h.value
    }
}
