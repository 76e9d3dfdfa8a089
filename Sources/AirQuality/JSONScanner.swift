/// A strict, allocation-light JSON reader for small payloads (RFC 8259 grammar: no NaN, no
/// trailing commas, no comments). The daemon reads every reading with it; Foundation's decoder
/// cost more than the forecast itself.
enum JSONScanner {
    struct Invalid: Error {}

    static func parse(_ bytes: [UInt8]) -> JSONValue? {
        bytes.withUnsafeBufferPointer { buffer in
            var s = Scanner(bytes: buffer)
            do {
                s.skipSpace()
                let value = try s.value(depth: 0)
                s.skipSpace()
                return s.index == buffer.count ? value : nil
            } catch {
                return nil
            }
        }
    }

    struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipSpace() {
            while let c = peek, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { index += 1 }
        }

        mutating func expect(_ c: UInt8) throws(Invalid) {
            guard peek == c else { throw Invalid() }
            index += 1
        }

        mutating func literal(_ word: StaticString) throws(Invalid) {
            let n = word.utf8CodeUnitCount
            guard index + n <= bytes.count else { throw Invalid() }
            for i in 0..<n where bytes[index + i] != word.utf8Start[i] { throw Invalid() }
            index += n
        }

        mutating func value(depth: Int) throws(Invalid) -> JSONValue {
            guard depth < 64, let c = peek else { throw Invalid() }
            switch c {
            case UInt8(ascii: "{"):
                index += 1
                var fields: [String: JSONValue] = [:]
                skipSpace()
                if peek == UInt8(ascii: "}") {
                    index += 1
                    return .object(fields)
                }
                while true {
                    skipSpace()
                    let key = try string()
                    skipSpace()
                    try expect(UInt8(ascii: ":"))
                    skipSpace()
                    fields[key] = try value(depth: depth + 1)
                    skipSpace()
                    if peek == UInt8(ascii: ",") {
                        index += 1
                        continue
                    }
                    try expect(UInt8(ascii: "}"))
                    return .object(fields)
                }
            case UInt8(ascii: "["):
                index += 1
                var items: [JSONValue] = []
                skipSpace()
                if peek == UInt8(ascii: "]") {
                    index += 1
                    return .array(items)
                }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    if peek == UInt8(ascii: ",") {
                        index += 1
                        continue
                    }
                    try expect(UInt8(ascii: "]"))
                    return .array(items)
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            default:
                return .number(try number())
            }
        }

        mutating func number() throws(Invalid) -> Double {
            let start = index
            if peek == UInt8(ascii: "-") { index += 1 }
            func digits(_ s: inout Scanner) -> Int {
                let from = s.index
                while let c = s.peek, c >= 0x30, c <= 0x39 { s.index += 1 }
                return s.index - from
            }
            let first = peek
            let whole = digits(&self)
            guard whole > 0, !(first == UInt8(ascii: "0") && whole > 1) else { throw Invalid() }
            if peek == UInt8(ascii: ".") {
                index += 1
                guard digits(&self) > 0 else { throw Invalid() }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                index += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
                guard digits(&self) > 0 else { throw Invalid() }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            guard let v = Double(text) else { throw Invalid() }
            return v
        }

        mutating func string() throws(Invalid) -> String {
            try expect(UInt8(ascii: "\""))
            var out: [UInt8] = []
            while let c = peek {
                index += 1
                switch c {
                case UInt8(ascii: "\""):
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let e = peek else { throw Invalid() }
                    index += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800..<0xDC00).contains(scalar) {
                            try expect(UInt8(ascii: "\\"))
                            try expect(UInt8(ascii: "u"))
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw Invalid() }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw Invalid() }
                        out.append(contentsOf: Array(String(Character(u)).utf8))
                    default:
                        throw Invalid()
                    }
                default:
                    guard c >= 0x20 else { throw Invalid() }  // control characters must be escaped
                    out.append(c)
                }
            }
            throw Invalid()
        }

        mutating func hex4() throws(Invalid) -> UInt32 {
            guard index + 4 <= bytes.count else { throw Invalid() }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[index]
                index += 1
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw Invalid()
                }
                v = v << 4 | d
            }
            return v
        }
    }
}
