import AirQuality
import Foundation

/// A history CSV in any layout, read by a column mapping: the column of the time, of the
/// station (or one station for the file), and of each quantity, in the units the file uses.
/// Each row is read as a `json` payload with those field names is, so the same conversions and
/// checks apply (a missing dew point derived from temperature and humidity; missing weather
/// left empty).
public struct MappedCSV: Sendable {
    public var format: PayloadFormat
    public var timeColumn: String
    public var stationColumn: String?

    /// `time=ts,station=id,pm25=PM2.5,temperature=t,humidity=rh`: `time` is required, the
    /// others are the quantities' names (``Quantity``) or `station`.
    public static func parse(columns spec: String) -> Result<MappedCSV, DataFileError> {
        var format = PayloadFormat(profile: .json)
        format.names = [:]
        var time: String?
        var station: String?
        for item in spec.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[1].isEmpty else {
                return .failure(DataFileError(file: "--columns", line: 0, reason: "'\(item)' is not name=column"))
            }
            switch parts[0] {
            case "time": time = parts[1]
            case "station": station = parts[1]
            default:
                guard let q = Quantity(rawValue: parts[0]) else {
                    let known = (["time", "station"] + Quantity.allCases.map(\.rawValue)).joined(separator: ", ")
                    return .failure(
                        DataFileError(
                            file: "--columns", line: 0, reason: "unknown name '\(parts[0])' (known: \(known))"))
                }
                format.names[q] = parts[1]
            }
        }
        guard let time else {
            return .failure(DataFileError(file: "--columns", line: 0, reason: "time=COLUMN is needed"))
        }
        guard format.names[.pm25] != nil else {
            return .failure(DataFileError(file: "--columns", line: 0, reason: "pm25=COLUMN is needed"))
        }
        format.timeField = time
        format.stationField = station
        return .success(MappedCSV(format: format, timeColumn: time, stationColumn: station))
    }

    /// The readings of `text`, in file order, and the rows left out with why (at most the
    /// first ten reasons are kept, with their line numbers).
    public func readings(_ text: String, file: String, station: String?) throws -> (
        readings: [Reading], skipped: Int, reasons: [String]
    ) {
        var lines = text.split(omittingEmptySubsequences: true) { $0 == "\n" || $0 == "\r\n" }.makeIterator()
        guard let headerLine = lines.next() else { throw DataFileError(file: file, line: 1, reason: "is empty") }
        let header = Self.fields(headerLine)
        for column in [timeColumn, stationColumn].compactMap({ $0 }) + format.names.values.sorted()
        where !header.contains(column) {
            throw DataFileError(
                file: file, line: 1, reason: "has no column '\(column)' (columns: \(header.joined(separator: ", ")))")
        }
        if stationColumn == nil, station == nil {
            throw DataFileError(file: file, line: 1, reason: "names no station: give --station or station=COLUMN")
        }
        var out: [Reading] = []
        var skipped = 0
        var reasons: [String] = []
        var n = 1
        while let line = lines.next() {
            n += 1
            let values = Self.fields(line)
            var row: [String: String] = [:]
            for (i, name) in header.enumerated() where i < values.count { row[name] = values[i] }
            func skip(_ why: String) {
                skipped += 1
                if reasons.count < 10 { reasons.append("line \(n): \(why)") }
            }
            switch format.decode(textFields: row, station: station ?? "") {
            case .failure(let r): skip(r.reason)
            case .success(let o):
                guard o.pm25 != nil, let time = o.time else {
                    skip("no PM2.5")
                    continue
                }
                out.append(ReadingAssembly.complete(o, time: time, own: nil, source: nil).reading)
            }
        }
        return (out, skipped, reasons)
    }

    /// One CSV line's fields: commas separate, double quotes enclose (`""` is a quote).
    static func fields(_ line: Substring) -> [String] {
        var out: [String] = []
        var field = ""
        var quoted = false
        var chars = line.makeIterator()
        while let c = chars.next() {
            if quoted {
                if c == "\"" {
                    var lookahead = chars
                    if lookahead.next() == "\"" {
                        field.append("\"")
                        chars = lookahead
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                out.append(field)
                field = ""
            } else {
                field.append(c)
            }
        }
        out.append(field)
        return out.map { $0.trimmingCharacters(in: .whitespaces) }
    }
}
