/// A number written as text by a sensor (a single-value state, a CSV field): decimal digits
/// with an optional sign, point and exponent, as JSON writes numbers (RFC 8259, section 6) but
/// for a leading `+` and a bare leading or trailing point, which sensors write. Swift's
/// `Double(String)` also reads hexadecimal (`0x10` is 16), `inf` and `nan`, and stops at a NUL
/// byte (`12\0garbage` is 12): none of those is a reading.
public func decimalValue(_ text: some StringProtocol) -> Double? {
    var digits = 0
    var i = text.utf8.startIndex
    let bytes = text.utf8
    func at(_ b: UInt8) -> Bool { i < bytes.endIndex && bytes[i] == b }
    func digitRun() -> Int {
        var n = 0
        while i < bytes.endIndex, bytes[i] >= 0x30, bytes[i] <= 0x39 {
            n += 1
            i = bytes.index(after: i)
        }
        return n
    }
    if at(UInt8(ascii: "+")) || at(UInt8(ascii: "-")) { i = bytes.index(after: i) }
    digits += digitRun()
    if at(UInt8(ascii: ".")) {
        i = bytes.index(after: i)
        digits += digitRun()
    }
    guard digits > 0 else { return nil }
    if at(UInt8(ascii: "e")) || at(UInt8(ascii: "E")) {
        i = bytes.index(after: i)
        if at(UInt8(ascii: "+")) || at(UInt8(ascii: "-")) { i = bytes.index(after: i) }
        guard digitRun() > 0 else { return nil }
    }
    guard i == bytes.endIndex, let v = Double(String(text)), v.isFinite else { return nil }
    return v
}
