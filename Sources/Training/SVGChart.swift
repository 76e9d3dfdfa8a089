import AirQuality
import Foundation

/// A small line chart rendered as inline SVG, for the self-contained HTML report. Ticks fall on
/// round values (1, 2 or 5 times a power of ten; whole numbers where `x` counts whole things),
/// or where `xTicks` puts them (dates); the legend is a row of its own above the plot, so it
/// never covers a line.
struct SVGChart {
    struct Series {
        var name: String
        var color: String
        var points: [(x: Double, y: Double)]
        var marker: Bool = false
        var dashed: Bool = false
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series]
    var width = 760.0
    var height = 300.0
    var logY = false
    /// Where the x ticks go and what they say; round values of `x` when nil.
    var xTicks: ((ClosedRange<Double>) -> [(x: Double, label: String)])? = nil

    private let left = 70.0, right = 20.0, top = 46.0, bottom = 45.0

    func render() -> String {
        let all = series.flatMap(\.points).filter { $0.y.isFinite && (!logY || $0.y > 0) }
        guard !all.isEmpty else { return "<p>(no data for \(escapeHTML(title)))</p>" }
        let ty: (Double) -> Double = logY ? { log10($0) } : { $0 }
        var (x0, x1) = (all.map(\.x).min()!, all.map(\.x).max()!)
        var (y0, y1) = (all.map { ty($0.y) }.min()!, all.map { ty($0.y) }.max()!)
        if x1 == x0 { x1 = x0 + 1 }
        if y1 == y0 { y1 = y0 + 1 }
        let pad = (y1 - y0) * 0.05
        y0 -= pad
        y1 += pad
        if !logY && y0 < 0 && all.allSatisfy({ $0.y >= 0 }) { y0 = 0 }
        let pw = width - left - right
        let ph = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * pw }
        func pv(_ v: Double) -> Double { top + ph - (v - y0) / (y1 - y0) * ph }  // v on the drawn scale
        func py(_ y: Double) -> Double { pv(ty(y)) }
        func f(_ v: Double) -> String { formatFixed(v, 1) }

        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" "
        svg += "viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        svg +=
            "<text x=\"\(f(width / 2))\" y=\"16\" text-anchor=\"middle\" font-size=\"13\">\(escapeHTML(title))</text>\n"
        svg +=
            "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"#999\"/>\n"
        let yTicks: [(v: Double, label: String)] =
            logY
            ? (0...5).map { i in
                let v = y0 + (y1 - y0) * Double(i) / 5
                return (v, formatSignificant(pow(10, v)))
            }
            : Self.roundTicks(y0...y1, wholeNumbers: false).map { ($0.value, $0.label) }
        for t in yTicks {
            let y = pv(t.v)
            svg += "<line x1=\"\(f(left))\" x2=\"\(f(left + pw))\" y1=\"\(f(y))\" y2=\"\(f(y))\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(f(left - 5))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(t.label)</text>\n"
        }
        let wholeX = all.allSatisfy { $0.x == $0.x.rounded() }
        let ticks = xTicks?(x0...x1) ?? Self.roundTicks(x0...x1, wholeNumbers: wholeX).map { ($0.value, $0.label) }
        for t in ticks where t.x >= x0 && t.x <= x1 {
            let x = px(t.x)
            svg +=
                "<line x1=\"\(f(x))\" x2=\"\(f(x))\" y1=\"\(f(top + ph))\" y2=\"\(f(top + ph + 4))\" stroke=\"#999\"/>"
            svg +=
                "<text x=\"\(f(x))\" y=\"\(f(top + ph + 15))\" text-anchor=\"middle\">\(escapeHTML(t.label))</text>\n"
        }
        svg +=
            "<text x=\"\(f(left + pw / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\">\(escapeHTML(xLabel))</text>\n"
        svg += "<text transform=\"translate(14 \(f(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">"
        svg += "\(escapeHTML(yLabel))</text>\n"
        var legendX = left
        for s in series {
            let pts = s.points.filter { $0.y.isFinite && (!logY || $0.y > 0) }
            let path = pts.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.5\" "
            svg += (s.dashed ? "stroke-dasharray=\"5 3\" " : "") + "points=\"\(path)\"/>\n"
            if s.marker {
                for p in pts {
                    svg += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"2\" fill=\"\(s.color)\"/>"
                }
                svg += "\n"
            }
            // The legend: one row between the title and the plot.
            let ly = top - 10
            svg += "<line x1=\"\(f(legendX))\" x2=\"\(f(legendX + 20))\" y1=\"\(f(ly - 4))\" y2=\"\(f(ly - 4))\" "
            svg += "stroke=\"\(s.color)\" stroke-width=\"2\"" + (s.dashed ? " stroke-dasharray=\"5 3\"" : "") + "/>"
            svg += "<text x=\"\(f(legendX + 25))\" y=\"\(f(ly))\">\(escapeHTML(s.name))</text>\n"
            legendX += 25 + 6.5 * Double(s.name.count) + 18
        }
        return svg + "</svg>"
    }

    /// Round values in `range` about five apart: a step of 1, 2 or 5 times a power of ten; for
    /// `wholeNumbers` at least 1, and every one of them when there are at most ten.
    static func roundTicks(_ range: ClosedRange<Double>, wholeNumbers: Bool) -> [(value: Double, label: String)] {
        let span = range.upperBound - range.lowerBound
        guard span > 0, span.isFinite else { return [(range.lowerBound, formatSignificant(range.lowerBound))] }
        let raw = span / 5
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        var step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw * 0.999 } ?? 10 * magnitude
        if wholeNumbers { step = span <= 10 ? 1 : max(1, step.rounded()) }
        var out: [(Double, String)] = []
        var k = (range.lowerBound / step).rounded(.up)
        while k * step <= range.upperBound + step * 1e-9, out.count < 50 {
            let v = k * step
            out.append((v, step >= 1 ? formatFixed(v, 0) : formatSignificant(v)))
            k += 1
        }
        return out
    }
}

func escapeHTML(_ s: String) -> String {
    var out = ""
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.append(c)
        }
    }
    return out
}

/// A short label: three significant digits, no exponent for the ranges these charts use.
func formatSignificant(_ v: Double) -> String {
    let a = abs(v)
    if a == 0 { return "0" }
    if a >= 100 { return formatFixed(v, 0) }
    if a >= 1 { return formatFixed(v, 1) }
    var digits = 2
    var t = a
    while t < 0.1 && digits < 9 {
        t *= 10
        digits += 1
    }
    return formatFixed(v, digits)
}
