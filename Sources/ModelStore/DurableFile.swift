import AirQuality
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Why a durable write failed: which file, which step, and the system's word for it.
public struct DurableFileError: Error, CustomStringConvertible, Equatable {
    public var path: String
    /// What was being done: `create`, `write`, `fsync`, `rename into place`, `open`.
    public var step: String
    public var code: Int32

    public var description: String { "cannot \(step) \(path): \(String(cString: strerror(code)))" }
}

/// Writes that survive a crash or a power cut: model files and the models' changelog.
public enum DurableFile {
    /// Temporary file beside `path`, written, fsynced, renamed over `path`, folder fsynced: a
    /// crash leaves either the old file or the new one, never a torn one.
    public static func write(_ data: Data, to path: String) throws(DurableFileError) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DurableFileError(path: temporary, step: "create", code: errno) }
        do throws(DurableFileError) {
            try writeAll(fd, data, path: temporary)
            guard fsync(fd) == 0 else { throw DurableFileError(path: temporary, step: "fsync", code: errno) }
            close(fd)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw DurableFileError(path: path, step: "rename into place", code: code)
        }
        let folder = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }

    /// Appends `data` to `path` (created if missing) and fsyncs it.
    public static func append(_ data: Data, to path: String) throws(DurableFileError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DurableFileError(path: path, step: "open", code: errno) }
        defer { close(fd) }
        try writeAll(fd, data, path: path)
        fsync(fd)
    }

    static func writeAll(_ fd: Int32, _ data: Data, path: String) throws(DurableFileError) {
        let failed: Int32? = data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return nil
        }
        if let failed { throw DurableFileError(path: path, step: "write", code: failed) }
    }
}

extension ModelFile {
    /// Writes the file atomically (a temporary file renamed over the target).
    public func write(path: String) throws {
        try DurableFile.write(encoded(), to: path)
    }
}
