import AirQuality
import Foundation

/// A history CSV in either layout the project reads: the course's PRSA file (one station) or
/// the Beijing multi-site layout (a `station` column), told apart by the header.
public enum HistoryFile {
    public enum Layout: String, Sendable {
        case prsa, multisite
    }

    /// The readings of `path`, oldest first; `station` names a PRSA file's station (default: the
    /// file's name without its extension) and, for a multi-site file, replaces its own names.
    public static func readings(path: String, station: String? = nil) throws -> (layout: Layout, readings: [Reading]) {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw DataFileError(file: path, line: 0, reason: "cannot be read (missing or unreadable)")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let header = text.prefix { $0 != "\n" && $0 != "\r\n" }
        if MultisiteReader.recognises(header: Substring(header)) {
            let records = try MultisiteReader.parse(text, file: path)
            var byStation: [String: [MultisiteRecord]] = [:]
            for r in records { byStation[station ?? r.station, default: []].append(r) }
            let readings = byStation.keys.sorted().flatMap { Reading.fromMultisite(byStation[$0]!, station: $0) }
            return (.multisite, readings)
        }
        let name = station ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return (.prsa, Reading.fromPRSA(try PRSAReader.parse(text, file: path), station: name))
    }
}
