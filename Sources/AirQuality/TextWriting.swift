// Small writers of JSON text straight into bytes, for the daemon's per-reading hot path.

/// Appends an integer's digits, zero-padded to at least `width` of them (no allocation).
public func appendInteger(_ v: Int64, width: Int = 1, to out: inout [UInt8]) {
    if v < 0 { out.append(UInt8(ascii: "-")) }
    let n = v.magnitude
    var count = 1
    var power: UInt64 = 10
    while count < 19, n >= power {
        count += 1
        power &*= 10
    }
    let start = out.count
    let total = max(width, count)
    for _ in 0..<total { out.append(UInt8(ascii: "0")) }
    var rest = n
    var i = start + total - 1
    while rest > 0 {
        out[i] = UInt8(ascii: "0") + UInt8(rest % 10)
        rest /= 10
        i -= 1
    }
}

/// Appends `v` rounded to one decimal, e.g. `147.2`.
public func appendTenths(_ v: Double, to out: inout [UInt8]) {
    guard v.isFinite else {
        out.append(contentsOf: "null".utf8)
        return
    }
    let tenths = Int64((abs(v) * 10).rounded())
    if v < 0 && tenths != 0 { out.append(UInt8(ascii: "-")) }
    appendInteger(tenths / 10, to: &out)
    out.append(UInt8(ascii: "."))
    out.append(UInt8(ascii: "0") + UInt8(tenths % 10))
}

/// Appends Unix seconds as `yyyy-mm-ddThh:mm:ssZ` (UTC).
public func appendISOTime(_ seconds: Int64, to out: inout [UInt8]) {
    let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
    let rest = seconds - days * 86400
    let (year, month, day) = civilFromDays(days)
    appendInteger(year, width: 4, to: &out)
    out.append(UInt8(ascii: "-"))
    appendInteger(month, width: 2, to: &out)
    out.append(UInt8(ascii: "-"))
    appendInteger(day, width: 2, to: &out)
    out.append(UInt8(ascii: "T"))
    appendInteger(rest / 3600, width: 2, to: &out)
    out.append(UInt8(ascii: ":"))
    appendInteger(rest % 3600 / 60, width: 2, to: &out)
    out.append(UInt8(ascii: ":"))
    appendInteger(rest % 60, width: 2, to: &out)
    out.append(UInt8(ascii: "Z"))
}

/// `yyyy-mm-ddThh:00:00Z` for whole hours since 1970 (proleptic Gregorian, UTC).
public func isoHour(_ hour: Int64) -> String {
    var out: [UInt8] = []
    appendISOTime(hour * 3600, to: &out)
    return String(decoding: out, as: UTF8.self)
}

/// Appends `text` as a JSON string, quotes included: the quote and the backslash escaped,
/// control characters as `\n`, `\r`, `\t` or `\u00XX`, and everything outside ASCII as
/// `\uXXXX` (surrogate pairs past U+FFFF), so the output is plain ASCII whatever came in.
public func appendJSONString(_ text: String, to out: inout [UInt8]) {
    func hex4(_ v: UInt32) {
        out.append(contentsOf: "\\u".utf8)
        for shift in stride(from: 12, through: 0, by: -4) {
            let d = UInt8((v >> UInt32(shift)) & 0xF)
            out.append(d < 10 ? UInt8(ascii: "0") + d : UInt8(ascii: "a") + d - 10)
        }
    }
    out.append(UInt8(ascii: "\""))
    for scalar in text.unicodeScalars {
        switch scalar.value {
        case 0x22: out.append(contentsOf: "\\\"".utf8)
        case 0x5C: out.append(contentsOf: "\\\\".utf8)
        case 0x0A: out.append(contentsOf: "\\n".utf8)
        case 0x0D: out.append(contentsOf: "\\r".utf8)
        case 0x09: out.append(contentsOf: "\\t".utf8)
        case 0x20..<0x7F: out.append(UInt8(scalar.value))
        case 0x10000...:
            let v = scalar.value - 0x10000
            hex4(0xD800 + (v >> 10))
            hex4(0xDC00 + (v & 0x3FF))
        default: hex4(scalar.value)
        }
    }
    out.append(UInt8(ascii: "\""))
}

/// `value` with `digits` decimals, without Foundation.
public func formatFixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite, abs(value) < 1e15 else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let negative = value < 0
    let scaled = (abs(value) * scale).rounded()
    let whole = Int(scaled / scale)
    var frac = String(Int(scaled - Double(whole) * scale))
    while frac.count < digits { frac = "0" + frac }
    let body = digits > 0 ? "\(whole).\(frac)" : "\(whole)"
    return negative && scaled != 0 ? "-" + body : body
}
