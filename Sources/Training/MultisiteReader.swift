import AirQuality

/// One hourly row of the Beijing multi-site layout, as read.
public struct MultisiteRecord: Sendable, Equatable {
    public var station: String
    /// Unix seconds of the row's hour (the file's local time less its UTC offset).
    public var time: Int64
    public var pm25: Double?
    public var temperature: Double?
    public var pressure: Double?
    public var dewPoint: Double?
    /// One of the sixteen compass points, `nil` where the file says `NA`.
    public var windDirection: String?
    /// The hour's wind speed, m/s (not cumulated).
    public var windSpeed: Double?
}

/// Reads the layout of UCI's "Beijing Multi-Site Air Quality" files
/// (`No,year,month,day,hour,PM2.5,PM10,SO2,NO2,CO,O3,TEMP,PRES,DEWP,RAIN,wd,WSPM,station`).
///
/// Columns are found by their header names; fields may be quoted; `NA` (or an empty field) is
/// a missing value in any column. The hours are local time, `utcOffsetHours` ahead of UTC
/// (Beijing, +8, for the published files).
public enum MultisiteReader {
    static let required = ["year", "month", "day", "hour", "PM2.5", "TEMP", "PRES", "DEWP", "wd", "WSPM", "station"]

    /// True when `header` (the file's first line) is this layout's.
    public static func recognises(header: Substring) -> Bool {
        let names = Set(fields(header).map { String($0) })
        return required.allSatisfy(names.contains)
    }

    public static func parse(_ text: String, file: String, utcOffsetHours: Int = 8) throws(DataFileError)
        -> [MultisiteRecord]
    {
        let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map { $0.trimmingSuffix("\r") }
            .filter { !$0.isEmpty }
        guard let headerLine = lines.first else {
            throw DataFileError(file: file, line: 1, reason: "the file is empty; expected a header line")
        }
        let header = fields(headerLine).map { String($0) }
        let index = try DataFileError.columns(required, in: header, file: file)
        var records: [MultisiteRecord] = []
        records.reserveCapacity(lines.count - 1)
        for (offset, raw) in lines.dropFirst().enumerated() {
            let lineNumber = offset + 2
            let row = fields(raw)
            guard row.count == header.count else {
                throw DataFileError(
                    file: file, line: lineNumber, reason: "expected \(header.count) fields, found \(row.count)")
            }
            func field(_ name: String) -> Substring { row[index[name]!] }
            func optionalNumber(_ name: String) throws(DataFileError) -> Double? {
                let text = field(name)
                if text == "NA" || text.isEmpty { return nil }
                guard let value = Double(text), value.isFinite else {
                    throw DataFileError(file: file, line: lineNumber, column: name, reason: "'\(text)' is not a number")
                }
                return value
            }
            func integer(_ name: String, _ range: ClosedRange<Int>) throws(DataFileError) -> Int {
                let text = field(name)
                guard let value = Int(text), range.contains(value) else {
                    throw DataFileError(
                        file: file, line: lineNumber, column: name,
                        reason: "'\(text)' is not a whole number in \(range.lowerBound)...\(range.upperBound)")
                }
                return value
            }
            let year = try integer("year", 1900...2200)
            let month = try integer("month", 1...12)
            let day = try integer("day", 1...31)
            let hour = try integer("hour", 0...23)
            guard day <= daysInMonth(year: Int64(year), month: Int64(month)) else {
                throw DataFileError(
                    file: file, line: lineNumber, column: "day", reason: "\(year)-\(month) has no day \(day)")
            }
            let pm25 = try optionalNumber("PM2.5")
            if let pm25, pm25 < 0 {
                throw DataFileError(file: file, line: lineNumber, column: "PM2.5", reason: "\(pm25) is negative")
            }
            let wind = field("wd")
            var direction: String?
            if wind != "NA" && !wind.isEmpty {
                guard WindDirection(compass: String(wind)) != nil else {
                    throw DataFileError(
                        file: file, line: lineNumber, column: "wd",
                        reason: "unknown wind direction '\(wind)' (expected a compass point N, NNE, ..., NNW)")
                }
                direction = String(wind)
            }
            let days = daysFromCivil(year: Int64(year), month: Int64(month), day: Int64(day))
            records.append(
                MultisiteRecord(
                    station: String(field("station")),
                    time: days * 86400 + Int64(hour - utcOffsetHours) * 3600, pm25: pm25,
                    temperature: try optionalNumber("TEMP"), pressure: try optionalNumber("PRES"),
                    dewPoint: try optionalNumber("DEWP"), windDirection: direction,
                    windSpeed: try optionalNumber("WSPM")))
        }
        return records
    }

    /// A line's comma-separated fields, each without the double quotes around it.
    static func fields(_ line: Substring) -> [Substring] {
        line.split(separator: ",", omittingEmptySubsequences: false).map { f in
            let t = f.drop(while: { $0 == " " })
            if t.count >= 2, t.first == "\"", t.last == "\"" { return t.dropFirst().dropLast() }
            return t
        }
    }
}

extension Reading {
    /// One station's rows as readings, hour by hour. Rows without PM2.5 are left out (a sensor
    /// that missed the hour); a missing weather value is filled in from the station's nearest
    /// observations (linear between them, the nearest at either end; the wind direction carried
    /// forward), as a station would send its weather sensor's last word; a wind below
    /// ``WindDirection/calmBelow`` counts as calm, as for live readings. Rows whose weather
    /// column is missing throughout are left out.
    public static func fromMultisite(_ records: [MultisiteRecord], station: String) -> [Reading] {
        let rows = records.sorted { $0.time < $1.time }
        guard let dew = filled(rows.map(\.dewPoint)), let temperature = filled(rows.map(\.temperature)),
            let pressure = filled(rows.map(\.pressure)), let speed = filled(rows.map(\.windSpeed))
        else { return [] }
        var direction: String? = rows.lazy.compactMap(\.windDirection).first
        var out: [Reading] = []
        out.reserveCapacity(rows.count)
        for (i, r) in rows.enumerated() {
            if let d = r.windDirection { direction = d }
            guard let pm = r.pm25, let d = direction, var wind = WindDirection(compass: d) else { continue }
            if speed[i] < WindDirection.calmBelow { wind = .calm }
            out.append(
                Reading(
                    station: station, time: r.time, pm25: pm, dewPoint: dew[i], temperature: temperature[i],
                    pressure: pressure[i], windDirection: wind, windSpeed: speed[i]))
        }
        return out
    }

    /// Missing values filled linearly between neighbours (the nearest at the ends); nil when
    /// nothing is there to fill from.
    static func filled(_ values: [Double?]) -> [Double]? {
        guard let first = values.firstIndex(where: { $0 != nil }) else { return nil }
        var out = [Double](repeating: values[first]!, count: values.count)
        var previous = first
        for i in first..<values.count {
            guard let v = values[i] else { continue }
            let span = i - previous
            if span > 1 {
                for k in (previous + 1)..<i {
                    out[k] = out[previous] + (v - out[previous]) * Double(k - previous) / Double(span)
                }
            }
            out[i] = v
            previous = i
        }
        for k in (previous + 1)..<max(previous + 1, values.count) { out[k] = out[previous] }
        return out
    }
}
