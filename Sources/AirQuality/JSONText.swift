/// A JSON value to write with the daemon's one string escaper (``appendJSONString(_:to:)``),
/// for the payloads built from parts (discovery configs, accuracy figures); the forecast and the
/// state, written every hour for every station, are written straight into bytes instead.
/// Object members keep their order. A number that is not finite is written `null`.
public indirect enum JSONText: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByArrayLiteral {
    case string(String)
    case number(Double)
    case integer(Int)
    case bool(Bool)
    case null
    case array([JSONText])
    case object([(String, JSONText)])

    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONText...) { self = .array(elements) }

    /// `value`, or null.
    public static func optional(_ value: Double?) -> JSONText { value.map { .number($0) } ?? .null }

    public static func == (a: JSONText, b: JSONText) -> Bool { a.bytes == b.bytes }

    /// The value's JSON, as ASCII bytes.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        append(to: &out)
        return out
    }

    public func append(to out: inout [UInt8]) {
        switch self {
        case .string(let s): appendJSONString(s, to: &out)
        case .number(let x): out.append(contentsOf: (x.isFinite ? "\(x)" : "null").utf8)
        case .integer(let n): out.append(contentsOf: "\(n)".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .null: out.append(contentsOf: "null".utf8)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.append(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                appendJSONString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                value.append(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}
