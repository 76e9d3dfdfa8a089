import Foundation

/// A strict reader of Prometheus' text exposition format (version 0.0.4), for the tests: any
/// line that is not a well-formed `# HELP`, `# TYPE` or sample line is an error, and so is a
/// family whose samples are not together after its TYPE line, a HELP or TYPE given twice, a
/// series given twice, a sample name its family's type does not allow, a value that is not a
/// float (NaN and ±Inf spelt as the format spells them), a histogram whose buckets are not
/// increasing and cumulative up to a `+Inf` bucket equal to its `_count`, or a missing final
/// newline.
struct PrometheusExposition {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Family {
        var name: String
        var type: String
        var help: String?
        var samples: [Sample] = []
    }

    struct Failure: Error, CustomStringConvertible {
        var line: Int
        var reason: String
        var description: String { "line \(line): \(reason)" }
    }

    var families: [String: Family] = [:]

    /// The value of the sample `name` whose labels include `labels`, when exactly one does.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = families.values.flatMap(\.samples).filter { s in
            s.name == name && labels.allSatisfy { s.labels[$0.key] == $0.value }
        }
        return matching.count == 1 ? matching[0].value : nil
    }

    init(_ text: String) throws {
        guard text.hasSuffix("\n") else { throw Failure(line: 0, reason: "the exposition does not end with a newline") }
        var current: String?
        var finished: Set<String> = []
        var seriesSeen: Set<String> = []
        for (i, line) in text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let n = i + 1
            func fail(_ reason: String) -> Failure { Failure(line: n, reason: "\(reason): \(line)") }
            if line.isEmpty { throw fail("an empty line") }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
                guard parts.count >= 3, parts[0] == "#", parts[1] == "HELP" || parts[1] == "TYPE" else {
                    throw fail("a comment that is neither HELP nor TYPE")
                }
                let name = String(parts[2])
                guard Self.isMetricName(name) else { throw fail("not a metric name") }
                if name != current {
                    if let current { finished.insert(current) }
                    guard !finished.contains(name) else { throw fail("the family \(name) is split") }
                    current = name
                }
                let rest = parts.count > 3 ? String(parts[3]) : ""
                if parts[1] == "HELP" {
                    guard families[name]?.help == nil else { throw fail("a second HELP") }
                    guard families[name]?.samples.isEmpty ?? true else { throw fail("HELP after samples") }
                    var f = families[name] ?? Family(name: name, type: "untyped")
                    f.help = try Self.unescapeHelp(rest).get(or: fail("a bad escape in HELP"))
                    families[name] = f
                } else {
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(rest) else {
                        throw fail("an unknown type")
                    }
                    guard families[name].map({ $0.type == "untyped" && $0.samples.isEmpty }) ?? true else {
                        throw fail("a second TYPE, or TYPE after samples")
                    }
                    var f = families[name] ?? Family(name: name, type: rest)
                    f.type = rest
                    families[name] = f
                }
                continue
            }
            let sample = try Self.sample(line).get(or: fail("not a sample line"))
            guard let family = current, var f = families[family] else { throw fail("a sample before any TYPE") }
            let allowed: [String] =
                switch f.type {
                case "histogram": [family + "_bucket", family + "_sum", family + "_count"]
                case "summary": [family, family + "_sum", family + "_count"]
                default: [family]
                }
            guard allowed.contains(sample.name) else { throw fail("a sample outside its family \(family)") }
            let key =
                sample.name + "{"
                + sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                .joined(separator: ",") + "}"
            guard seriesSeen.insert(key).inserted else { throw fail("the series \(key) given twice") }
            if f.type == "counter", sample.value < 0 || sample.value.isNaN { throw fail("a counter below 0") }
            f.samples.append(sample)
            families[family] = f
        }
        for f in families.values where f.type == "histogram" { try Self.checkHistogram(f) }
    }

    static func checkHistogram(_ f: Family) throws {
        var groups: [[String: String]: [(Double, Double)]] = [:]
        for s in f.samples where s.name == f.name + "_bucket" {
            guard let le = s.labels["le"], let bound = Double(le) ?? (le == "+Inf" ? .infinity : nil) else {
                throw Failure(line: 0, reason: "\(f.name): a bucket without a float le")
            }
            var rest = s.labels
            rest["le"] = nil
            groups[rest, default: []].append((bound, s.value))
        }
        for (labels, buckets) in groups {
            guard buckets.last?.0 == .infinity else {
                throw Failure(line: 0, reason: "\(f.name)\(labels): the last bucket is not +Inf")
            }
            for (a, b) in zip(buckets, buckets.dropFirst()) where !(a.0 < b.0 && a.1 <= b.1) {
                throw Failure(line: 0, reason: "\(f.name)\(labels): buckets not increasing and cumulative")
            }
            let count = f.samples.first { $0.name == f.name + "_count" && $0.labels == labels }?.value
            let sum = f.samples.first { $0.name == f.name + "_sum" && $0.labels == labels }
            guard count == buckets.last?.1, sum != nil else {
                throw Failure(line: 0, reason: "\(f.name)\(labels): _count is not the +Inf bucket, or no _sum")
            }
        }
    }

    static func isMetricName(_ s: String) -> Bool {
        guard let first = s.utf8.first, first == UInt8(ascii: "_") || first == UInt8(ascii: ":") || isLetter(first)
        else { return false }
        return s.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":") }
    }

    static func isLabelName(_ s: Substring) -> Bool {
        guard let first = s.utf8.first, first == UInt8(ascii: "_") || isLetter(first) else { return false }
        return s.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
    }

    static func isLetter(_ b: UInt8) -> Bool { (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) }
    static func isDigit(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) }

    static func unescapeHelp(_ s: String) -> String? {
        var out = ""
        var escaped = false
        for c in s {
            if escaped {
                switch c {
                case "\\": out.append("\\")
                case "n": out.append("\n")
                default: return nil
                }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                out.append(c)
            }
        }
        return escaped ? nil : out
    }

    /// `name{label="value",...} value [timestamp]`, with a single space between the parts.
    static func sample(_ line: Substring) -> Sample? {
        var rest = line[...]
        let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
        let name = String(rest[..<nameEnd])
        guard isMetricName(name) else { return nil }
        rest = rest[nameEnd...]
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                guard let eq = rest.firstIndex(of: "="), isLabelName(rest[..<eq]) else { return nil }
                let label = String(rest[..<eq])
                rest = rest[rest.index(after: eq)...]
                guard rest.first == "\"" else { return nil }
                rest = rest.dropFirst()
                var value = ""
                var closed = false
                while let c = rest.first {
                    rest = rest.dropFirst()
                    if c == "\"" {
                        closed = true
                        break
                    }
                    if c == "\\" {
                        guard let e = rest.first else { return nil }
                        rest = rest.dropFirst()
                        switch e {
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        case "n": value.append("\n")
                        default: return nil
                        }
                    } else {
                        value.append(c)
                    }
                }
                guard closed, labels.updateValue(value, forKey: label) == nil else { return nil }
                if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" { return nil }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { return nil }
        let fields = rest.dropFirst().split(separator: " ", omittingEmptySubsequences: false)
        guard (1...2).contains(fields.count), let value = float(fields[0]) else { return nil }
        if fields.count == 2, Int64(fields[1]) == nil { return nil }
        return Sample(name: name, labels: labels, value: value)
    }

    /// A float as the format writes it: decimal or exponent notation, `NaN`, `+Inf`, `-Inf`.
    static func float(_ s: Substring) -> Double? {
        switch s {
        case "NaN": return .nan
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        default:
            guard s.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }) else { return nil }
            return Double(s)
        }
    }
}

extension Optional {
    /// The value, or `error` thrown.
    fileprivate func get(or error: @autoclosure () -> some Error) throws -> Wrapped {
        guard let self else { throw error() }
        return self
    }
}
