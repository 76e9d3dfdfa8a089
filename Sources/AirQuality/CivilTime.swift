// Civil dates and the timestamps readings carry, without Foundation's formatters: the reading
// path must not reach ICU (a fraction of 35 digits made `ISO8601DateFormatter` trap with SIGFPE).

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
public func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Hinnant's `civil_from_days`).
public func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
}

/// Days in a month of the proleptic Gregorian calendar.
public func daysInMonth(year: Int64, month: Int64) -> Int64 {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

/// A strict reader of RFC 3339 timestamps (the profile of ISO 8601 that sensors send):
/// `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)`.
///
/// ASCII digits only, every field at its fixed width, a real calendar date, hours 0-23,
/// minutes 0-59, seconds 0-60 (a leap second counts as the next minute's first), any number of
/// fraction digits (dropped: readings are kept to the second), an offset within ±18:00, and
/// nothing after it. `T` may be `t` or a space, `Z` may be `z` (RFC 3339 section 5.6 allows
/// both). Every refusal says what was wrong and where. Works on bytes with bounds-checked
/// reads and no arithmetic that can overflow, so no input can make it trap.
public enum RFC3339 {
    /// Unix seconds of `text`, or why it is not an RFC 3339 timestamp.
    public static func parse(_ text: some Collection<UInt8>) -> Result<Int64, TimestampError> {
        var cursor = Cursor(bytes: Array(text.prefix(maximumLength + 1)))
        if text.count > maximumLength {
            return .failure(TimestampError("is longer than \(maximumLength) characters"))
        }
        do throws(TimestampError) {
            let year = try cursor.digits(4, "year")
            try cursor.expect(UInt8(ascii: "-"), "'-' after the year")
            let month = try cursor.digits(2, "month")
            try cursor.expect(UInt8(ascii: "-"), "'-' after the month")
            let day = try cursor.digits(2, "day")
            guard (1...12).contains(month) else { throw TimestampError("has month \(month), not 1-12") }
            let lastDay = daysInMonth(year: year, month: month)
            guard (1...lastDay).contains(day) else {
                throw TimestampError("has day \(day), but month \(month) of \(year) has \(lastDay) days")
            }
            try cursor.expect(
                [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")], "'T' between the date and the time")
            let hour = try cursor.digits(2, "hour")
            try cursor.expect(UInt8(ascii: ":"), "':' after the hour")
            let minute = try cursor.digits(2, "minute")
            try cursor.expect(UInt8(ascii: ":"), "':' after the minutes")
            let second = try cursor.digits(2, "second")
            guard hour <= 23 else { throw TimestampError("has hour \(hour), not 0-23") }
            guard minute <= 59 else { throw TimestampError("has minute \(minute), not 0-59") }
            guard second <= 60 else { throw TimestampError("has second \(second), not 0-60") }
            if cursor.peek == UInt8(ascii: ".") {
                cursor.advance()
                var count = 0
                while let b = cursor.peek, isDigit(b) {
                    cursor.advance()
                    count += 1
                }
                guard count > 0 else { throw TimestampError("has a '.' with no fraction digits after it") }
            }
            let offsetSeconds = try cursor.offset()
            guard cursor.atEnd else {
                throw TimestampError("has text after the time zone at character \(cursor.position + 1)")
            }
            let days = daysFromCivil(year: year, month: month, day: day)
            return .success(days * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds)
        } catch {
            return .failure(error)
        }
    }

    /// Longer than any valid timestamp with a generous fraction: refused before reading it.
    public static let maximumLength = 64

    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    private struct Cursor {
        var bytes: [UInt8]
        var position = 0

        var atEnd: Bool { position >= bytes.count }
        var peek: UInt8? { position < bytes.count ? bytes[position] : nil }
        mutating func advance() { position += 1 }

        mutating func digits(_ count: Int, _ what: String) throws(TimestampError) -> Int64 {
            var value: Int64 = 0
            let start = position
            for n in 0..<count {
                guard let b = peek, RFC3339.isDigit(b) else {
                    throw TimestampError(
                        "needs \(count) ASCII digits for the \(what) at character \(start + 1), found \(n)")
                }
                value = value * 10 + Int64(b - UInt8(ascii: "0"))
                advance()
            }
            return value
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws(TimestampError) {
            try expect([byte], what)
        }

        mutating func expect(_ allowed: [UInt8], _ what: String) throws(TimestampError) {
            guard let b = peek, allowed.contains(b) else {
                throw TimestampError("needs \(what) at character \(position + 1)")
            }
            advance()
        }

        /// `Z`, or `+hh:mm` / `-hh:mm` within ±18:00, as seconds east of UTC.
        mutating func offset() throws(TimestampError) -> Int64 {
            guard let b = peek else {
                throw TimestampError("has no time zone: end it with Z (UTC) or an offset such as +08:00")
            }
            if b == UInt8(ascii: "Z") || b == UInt8(ascii: "z") {
                advance()
                return 0
            }
            guard b == UInt8(ascii: "+") || b == UInt8(ascii: "-") else {
                throw TimestampError(
                    "needs a time zone (Z or an offset such as +08:00) at character \(position + 1)")
            }
            advance()
            let hours = try digits(2, "offset hours")
            try expect(UInt8(ascii: ":"), "':' in the offset")
            let minutes = try digits(2, "offset minutes")
            guard minutes <= 59 else { throw TimestampError("has offset minutes \(minutes), not 0-59") }
            let total = hours * 3600 + minutes * 60
            guard total <= 18 * 3600 else { throw TimestampError("has an offset beyond ±18:00") }
            return b == UInt8(ascii: "-") ? -total : total
        }
    }
}

/// Why a timestamp was refused: the sentence completes "the time ...".
public struct TimestampError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
