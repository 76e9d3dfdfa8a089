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
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public let identifier: String
    public let label: String

    public init(label: String, identifier: String = "aqcast") {
        self.label = label
        self.identifier = identifier
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
            let extras = merged.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let line = "<\(Self.priority(event.level))>\(identifier): \(event.message)\(extras.isEmpty ? "" : " " + extras)\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    /// The journal's socket; `sd_journal_sendv` drops entries silently when it is missing.
    public static let socketPath = "/run/systemd/journal/socket"
    static var journalAvailable: Bool { access(socketPath, W_OK) == 0 }

    /// Sends one entry with `sd_journal_sendv`; returns its result (negative errno on failure).
    static func send(_ fields: [(String, String)]) -> Int32 {
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
