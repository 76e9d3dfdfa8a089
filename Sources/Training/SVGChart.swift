import AirQuality
import Foundation

/// A small line chart rendered as inline SVG, for the self-contained HTML report.
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

    private let left = 70.0, right = 20.0, top = 30.0, bottom = 45.0

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
        x0 = min(x0, x1)
        let pw = width - left - right
        let ph = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * pw }
        func py(_ y: Double) -> Double { top + ph - (ty(y) - y0) / (y1 - y0) * ph }
        func f(_ v: Double) -> String { formatFixed(v, 1) }

        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" "
        svg += "viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        svg +=
            "<text x=\"\(f(width / 2))\" y=\"16\" text-anchor=\"middle\" font-size=\"13\">\(escapeHTML(title))</text>\n"
        svg +=
            "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"#999\"/>\n"
        for i in 0...5 {
            let v = y0 + (y1 - y0) * Double(i) / 5
            let y = top + ph - Double(i) / 5 * ph
            let label = logY ? formatSignificant(pow(10, v)) : formatSignificant(v)
            svg += "<line x1=\"\(f(left))\" x2=\"\(f(left + pw))\" y1=\"\(f(y))\" y2=\"\(f(y))\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(f(left - 5))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(label)</text>\n"
            let xv = x0 + (x1 - x0) * Double(i) / 5
            let x = left + Double(i) / 5 * pw
            let xLabel = x1 - x0 >= 10 ? formatFixed(xv, 0) : formatSignificant(xv)
            svg += "<text x=\"\(f(x))\" y=\"\(f(top + ph + 15))\" text-anchor=\"middle\">\(xLabel)</text>\n"
        }
        svg +=
            "<text x=\"\(f(left + pw / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\">\(escapeHTML(xLabel))</text>\n"
        svg += "<text transform=\"translate(14 \(f(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">"
        svg += "\(escapeHTML(yLabel))</text>\n"
        for (n, s) in series.enumerated() {
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
            let ly = top + 12 + Double(n) * 14
            svg += "<line x1=\"\(f(left + 10))\" x2=\"\(f(left + 30))\" y1=\"\(f(ly - 4))\" y2=\"\(f(ly - 4))\" "
            svg += "stroke=\"\(s.color)\" stroke-width=\"2\"/><text x=\"\(f(left + 35))\" y=\"\(f(ly))\">"
            svg += "\(escapeHTML(s.name))</text>\n"
        }
        return svg + "</svg>"
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
