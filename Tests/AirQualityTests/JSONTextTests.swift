import Foundation
import Testing

@testable import AirQuality

@Suite struct JSONTextTests {
    @Test func valuesAreWrittenInOrderWithTheOneEscaper() throws {
        let text = JSONText.object([
            ("b", "quote \" backslash \\ newline \n µg/m³ 😀"), ("a", .number(0.1)), ("n", .number(.nan)),
            ("i", .integer(-3)), ("t", .bool(true)), ("z", .null), ("l", ["x", .number(1e-7), .array([])]),
        ])
        let bytes = text.bytes
        #expect(bytes.allSatisfy { $0 < 0x80 }, "plain ASCII whatever came in")
        let s = String(decoding: bytes, as: UTF8.self)
        #expect(s.hasPrefix(#"{"b":"quote \" backslash \\ newline \n \u00b5g/m\u00b3 \ud83d\ude00","a":0.1,"n":null,"#))
        let back = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(back["b"] as? String == "quote \" backslash \\ newline \n µg/m³ 😀")
        #expect(back["a"] as? Double == 0.1 && back["i"] as? Int == -3 && back["n"] is NSNull)
        #expect((back["l"] as? [Any])?.count == 3)
    }
}
