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
/// a few nanoseconds: the kernel keeps a shared mapping's page when the process dies, however it
/// dies. A start that finds a message still marked as being handled refuses that message (once)
/// when it comes again, so it is acknowledged and the queue behind it flows.
///
/// A mapped page that has no block behind it kills the process with SIGBUS when touched (a
/// full file system, or a file truncated under the mapping). So the file's blocks are allocated
/// with `posix_fallocate`, which fails with ENOSPC on a full file system instead, and the file's
/// size is checked (one `fstat`) before each message: a file cut short while the daemon runs
/// switches the defence off (``lost`` says why) rather than killing the process.
///
/// Not a defence against a power cut (the page may not reach the disk), which is not what kills
/// a process over and over.
final class InFlightMessage: @unchecked Sendable {
    // @unchecked: used only from the MQTT network thread, which handles one message at a time.
    private var record: UnsafeMutablePointer<UInt64>?
    private let descriptor: Int32
    static let size = 4096
    private static let idle: UInt64 = 0x6171_6361_7374_0000  // "aqcast" and 0: nothing in hand
    private static let handling: UInt64 = 0x6171_6361_7374_0001
    /// The hash of the message a previous process died handling, until it is seen again.
    private(set) var suspect: UInt64?
    /// Why the defence was switched off while running (the file was cut short), once; the
    /// caller says it and clears it.
    var lost: String?

    /// Why a record could not be had at `path`.
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// Opens (or creates) the record at `path`, its blocks allocated; throws when the file
    /// cannot be had (a full or read-only file system), and the daemon then runs without this
    /// defence.
    init(path: String) throws(Unavailable) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Unavailable(description: "cannot open \(path): \(Self.errorText(errno))") }
        // posix_fallocate returns the error number (it does not set errno).
        let allocated = posix_fallocate(fd, 0, off_t(Self.size))
        guard allocated == 0 else {
            close(fd)
            throw Unavailable(
                description: "cannot allocate \(Self.size) bytes for \(path): \(Self.errorText(allocated))")
        }
        guard let mapped = mmap(nil, Self.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), mapped != MAP_FAILED
        else {
            let e = errno
            close(fd)
            throw Unavailable(description: "cannot map \(path): \(Self.errorText(e))")
        }
        descriptor = fd
        let record = mapped.bindMemory(to: UInt64.self, capacity: 2)
        self.record = record
        if record[0] == Self.handling { suspect = record[1] }
        record[0] = Self.idle
    }

    deinit {
        if let record { munmap(record, Self.size) }
        close(descriptor)
    }

    /// The mapping, when the file still holds the whole page; otherwise nil, the mapping
    /// dropped, and ``lost`` set.
    private func usableRecord() -> UnsafeMutablePointer<UInt64>? {
        guard let record else { return nil }
        var info = stat()
        if fstat(descriptor, &info) == 0, info.st_size >= Self.size { return record }
        munmap(record, Self.size)
        self.record = nil
        lost = "the in-flight record was cut short while the daemon ran"
        return nil
    }

    /// Marks the message as being handled. Returns true, and marks nothing, when it is the
    /// message a previous process died handling: the caller refuses it.
    func begin(topic: String, payload: [UInt8]) -> Bool {
        let hash = Self.hash(topic: topic, payload: payload)
        if let suspect, suspect == hash {
            self.suspect = nil
            return true
        }
        guard let record = usableRecord() else { return false }
        record[1] = hash
        record[0] = Self.handling
        return false
    }

    /// The message is handled (accepted or refused): a death from here on is not its fault.
    func end() { usableRecord()?[0] = Self.idle }

    /// FNV-1a over the topic, a zero byte and the payload.
    static func hash(topic: String, payload: [UInt8]) -> UInt64 {
        var h = FNV1a()
        h.add(topic.utf8)
        h.add([0])
        h.add(payload)
        return h.value
    }

    private static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }
}
