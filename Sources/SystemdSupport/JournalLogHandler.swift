import CSystemd
import Foundation
import Logging

/// A swift-log handler that writes structured entries to the systemd journal.
///
/// Each entry carries `MESSAGE`, `PRIORITY`, `SYSLOG_IDENTIFIER`, the code location, and every
/// metadata key as a field of its own: `station` becomes `STATION=`, `topic` `TOPIC=` (upper
/// case; anything but letters and digits becomes `_`). When the journal cannot be reached
/// (no journald, as in a plain shell or container) the entry goes to standard error as one line.
public struct JournalLogHandler: LogHandler {
    /// The level: one set on this logger (as a library's logger is quietened), else the shared
    /// ``level`` (which a reload changes for every logger), else `info`. Setting it touches only
    /// this logger: swift-log copies the handler into each `Logger`, and a level set on one copy
    /// must not silence the others (the metrics server's `warning` once hid every info line).
    public var logLevel: Logger.Level {
        get { ownLevel ?? level?.value ?? .info }
        set { ownLevel = newValue }
    }
    private var ownLevel: Logger.Level?
    /// The level every handler made with it follows, when set.
    public let level: SharedLogLevel?
    public var metadata: Logger.Metadata = [:]
    public let identifier: String
    public let label: String

    public init(label: String, identifier: String = "aqcast", level: SharedLogLevel? = nil) {
        self.label = label
        self.identifier = identifier
        self.level = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The journal priority (syslog level) for a swift-log level.
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// A metadata key as a journal field name: upper case letters, digits and `_`, not starting
    /// with `_` or a digit (those are reserved or invalid).
    public static func fieldName(_ key: String) -> String {
        var name = String(key.uppercased().map { ($0.isASCII && ($0.isLetter || $0.isNumber)) ? $0 : "_" })
        while name.first == "_" || (name.first?.isNumber ?? false) { name.removeFirst() }
        return name.isEmpty ? "FIELD" : String(name.prefix(64))
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("MESSAGE", event.message.description),
            ("PRIORITY", String(Self.priority(event.level))),
            ("SYSLOG_IDENTIFIER", identifier),
            ("CODE_FILE", event.file),
            ("CODE_LINE", String(event.line)),
            ("CODE_FUNC", event.function),
            ("LOGGER", label),
        ]
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            fields.append((Self.fieldName(key), "\(value)"))
        }
        if !Self.journalAvailable || Self.send(fields) < 0 {
            let line = Self.standardErrorLine(
                priority: Self.priority(event.level), identifier: identifier, message: event.message.description,
                metadata: merged.sorted(by: { $0.key < $1.key }).map { ($0.key, "\($0.value)") })
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    /// One line for standard error, `<priority>identifier: message key=value ...`, with every
    /// control character of the message and the metadata escaped (`\n`, `\x1b`) and a backslash
    /// doubled: text that came from outside cannot start a line of its own or forge an entry.
    public static func standardErrorLine(
        priority: Int, identifier: String, message: String, metadata: [(String, String)]
    ) -> String {
        let extras = metadata.map { " \(escaped($0.0))=\(escaped($0.1))" }.joined()
        return "<\(priority)>\(identifier): \(escaped(message))\(extras)\n"
    }

    static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0..<0x20, 0x7F..<0xA0:
                let hex = String(scalar.value, radix: 16)
                out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The journal's socket; `sd_journal_sendv` drops entries silently when it is missing.
    public static let systemSocketPath = "/run/systemd/journal/socket"
    /// `AQCAST_JOURNAL_SOCKET` names another socket, so tests (and a journald of one's own)
    /// receive the entries without touching the system's; libsystemd knows only its own path,
    /// so entries for another one are framed here in the journal's native protocol.
    public static let socketPath = ProcessInfo.processInfo.environment["AQCAST_JOURNAL_SOCKET"] ?? systemSocketPath
    static var journalAvailable: Bool { access(socketPath, W_OK) == 0 }

    static func send(_ fields: [(String, String)]) -> Int32 {
        socketPath == systemSocketPath ? sendThroughLibsystemd(fields) : sendDatagram(fields, to: socketPath)
    }

    /// One entry as the native protocol frames it: `KEY=value` lines, and a value holding a
    /// newline as `KEY`, a newline, its length as 64-bit little-endian, the bytes, a newline.
    static func nativeEntry(_ fields: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (key, value) in fields {
            out += Array(key.utf8)
            let bytes = Array(value.utf8)
            if bytes.contains(0x0A) {
                out.append(0x0A)
                for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: UInt64(bytes.count) >> (8 * UInt64(k)))) }
            } else {
                out.append(0x3D)
            }
            out += bytes
            out.append(0x0A)
        }
        return out
    }

    /// Sends one entry as a datagram to the socket at `path`, waiting at most a second for
    /// room; 0, or a negative errno.
    static func sendDatagram(_ fields: [(String, String)], to path: String) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let name = Array(path.utf8)
        guard name.count < MemoryLayout.size(ofValue: address.sun_path) else { return -ENAMETOOLONG }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in name.enumerated() { raw[i] = b }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return -errno }
        defer { close(fd) }
        // A burst waits for the reader (the kernel queues only a few datagrams unread), but
        // not for long: a reader that stopped costs an entry a second (it goes to standard
        // error), not a stalled daemon.
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let entry = nativeEntry(fields)
        let sent = entry.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(
                        fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0,
                        socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
        return sent < 0 ? -errno : 0
    }

    /// Sends one entry with `sd_journal_sendv`; returns its result (negative errno on failure).
    static func sendThroughLibsystemd(_ fields: [(String, String)]) -> Int32 {
        let lines = fields.map { Array("\($0.0)=\($0.1)".utf8) }
        let buffers = lines.map { bytes -> UnsafeMutableRawBufferPointer in
            let b = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, bytes.count), alignment: 1)
            b.copyBytes(from: bytes)
            return b
        }
        defer { for b in buffers { b.deallocate() } }
        var vectors = zip(buffers.indices, lines).map { i, bytes in
            iovec(iov_base: buffers[i].baseAddress, iov_len: bytes.count)
        }
        return sd_journal_sendv(&vectors, Int32(vectors.count))
    }
}
