import AirQuality
import Foundation
import Testing

@testable import Training

/// The report's axes as a reader sees them: round ticks, whole hours and epochs, dates.
@Suite struct ReportChartTests {
    @Test func hoursAheadAndEpochsGetWholeTicks() {
        #expect(
            SVGChart.roundTicks(1...8, wholeNumbers: true).map(\.label) == ["1", "2", "3", "4", "5", "6", "7", "8"])
        #expect(SVGChart.roundTicks(1...80, wholeNumbers: true).map(\.label) == ["20", "40", "60", "80"])
        #expect(SVGChart.roundTicks(16.1...72.9, wholeNumbers: false).map(\.label) == ["20", "40", "60"])
        #expect(
            SVGChart.roundTicks(0.049...0.069, wholeNumbers: false).map(\.label) == [
                "0.050", "0.055", "0.060", "0.065",
            ])
    }

    @Test func predictionChartsAreLabelledWithDates() {
        // 2014-02-14T18 to 2014-02-18T21 in Unix hours: the four midnights between them.
        let start = Double(hourContaining(1_392_400_800))
        let ticks = HTMLReport.dayTicks(start...(start + 99))
        #expect(ticks.map(\.label) == ["2014-02-15", "2014-02-16", "2014-02-17", "2014-02-18"])
        #expect(ticks.allSatisfy { Int($0.x) % 24 == 0 })
    }

    @Test func theLegendSitsAboveThePlot() throws {
        let chart = SVGChart(
            title: "t", xLabel: "x", yLabel: "y",
            series: [.init(name: "true", color: "#000", points: [(0, 1), (1, 2)])])
        let svg = chart.render()
        // The legend's label is drawn above the plot's frame (the first rect), not inside it.
        func y(of element: Substring) throws -> Double {
            let start = try #require(element.range(of: " y=\"")).upperBound
            return try #require(Double(element[start...].prefix { $0 != "\"" }))
        }
        let frame = try #require(svg.range(of: "<rect ")).upperBound
        let top = try y(of: svg[frame...].prefix { $0 != ">" })
        let label = try #require(svg.range(of: ">true</text>"))
        let element = try #require(svg[..<label.lowerBound].range(of: "<text ", options: .backwards))
        let value = try y(of: svg[element.upperBound..<label.lowerBound])
        #expect(value < top, "legend label at y = \(value), the plot from y = \(top)")
    }
}
