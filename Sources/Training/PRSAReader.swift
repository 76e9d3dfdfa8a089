import AirQuality

/// A malformed data file: says which file, line and column, and what was wrong there.
public struct DataFileError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int
    public var column: String?
    public var reason: String

    public init(file: String, line: Int, column: String? = nil, reason: String) {
        self.file = file
        self.line = line
        self.column = column
        self.reason = reason
    }

    /// Where each of `names` stands in a CSV `header`, or the error naming the first missing.
    static func columns(_ names: [String], in header: [String], file: String) throws(DataFileError) -> [String: Int] {
        var index: [String: Int] = [:]
        for name in names {
            guard let i = header.firstIndex(of: name) else {
                throw DataFileError(
                    file: file, line: 1, column: name,
                    reason: "missing column '\(name)' (header has: \(header.joined(separator: ",")))")
            }
            index[name] = i
        }
        return index
    }

    public var description: String {
        if let column { return "\(file) line \(line), column \(column): \(reason)" }
        return "\(file) line \(line): \(reason)"
    }
}

/// Reads the PRSA CSV format (`No,year,month,day,hour,pm2.5,DEWP,TEMP,PRES,cbwd,Iws,Is,Ir`).
///
/// Columns are found by their header names, so their order and extra columns do not matter;
/// line ends may be LF or CRLF. Every problem is reported with file, line and column.
public enum PRSAReader {
    static let required = ["year", "month", "day", "hour", "pm2.5", "DEWP", "TEMP", "PRES", "cbwd", "Iws"]

    public static func parse(_ text: String, file: String) throws(DataFileError) -> [PRSARecord] {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        while let last = lines.last, last.trimmingSuffix("\r").isEmpty { lines.removeLast() }
        guard let headerLine = lines.first else {
            throw DataFileError(file: file, line: 1, reason: "the file is empty; expected a PRSA header line")
        }
        let header = headerLine.trimmingSuffix("\r").split(separator: ",", omittingEmptySubsequences: false)
            .map { String($0).trimmingSpaces() }
        let index = try DataFileError.columns(required, in: header, file: file)
        var records: [PRSARecord] = []
        records.reserveCapacity(lines.count - 1)
        for (offset, raw) in lines.dropFirst().enumerated() {
            let lineNumber = offset + 2
            let fields = raw.trimmingSuffix("\r").split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == header.count else {
                throw DataFileError(
                    file: file, line: lineNumber,
                    reason: "expected \(header.count) fields, found \(fields.count)")
            }
            func field(_ name: String) -> Substring { fields[index[name]!] }
            func number(_ name: String) throws(DataFileError) -> Double {
                let text = field(name)
                guard let value = Double(text), value.isFinite else {
                    throw DataFileError(
                        file: file, line: lineNumber, column: name, reason: "'\(text)' is not a number")
                }
                return value
            }
            func integer(_ name: String, _ range: ClosedRange<Int>) throws(DataFileError) -> Int {
                let text = field(name)
                guard let value = Int(text) else {
                    throw DataFileError(
                        file: file, line: lineNumber, column: name, reason: "'\(text)' is not a whole number")
                }
                guard range.contains(value) else {
                    throw DataFileError(
                        file: file, line: lineNumber, column: name,
                        reason: "\(value) is outside \(range.lowerBound)...\(range.upperBound)")
                }
                return value
            }
            let pmText = field("pm2.5")
            let pm25: Double?
            if pmText == "NA" || pmText.isEmpty {
                pm25 = nil
            } else {
                let value = try number("pm2.5")
                guard value >= 0 else {
                    throw DataFileError(
                        file: file, line: lineNumber, column: "pm2.5", reason: "\(value) is negative")
                }
                pm25 = value
            }
            let windText = field("cbwd")
            guard let wind = WindDirection(rawValue: String(windText)) else {
                throw DataFileError(
                    file: file, line: lineNumber, column: "cbwd",
                    reason: "unknown wind code '\(windText)' (expected one of cv, NE, SE, NW, SW)")
            }
            records.append(
                PRSARecord(
                    year: try integer("year", 1900...2200), month: try integer("month", 1...12),
                    day: try integer("day", 1...31), hour: try integer("hour", 0...23), pm25: pm25,
                    dewPoint: try number("DEWP"), temperature: try number("TEMP"), pressure: try number("PRES"),
                    windDirection: wind, cumulatedWindSpeed: try number("Iws")))
        }
        return records
    }
}

extension Substring {
    func trimmingSuffix(_ suffix: Character) -> Substring {
        last == suffix ? dropLast() : self
    }
}

extension String {
    func trimmingSpaces() -> String {
        String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
