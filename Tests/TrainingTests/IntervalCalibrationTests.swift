import DeepRNN
import Foundation
import Testing

@testable import Training

@Suite struct IntervalCalibrationTests {
    static let edges = [35.0, 75, 150, 250]
    static func band(_ v: Double) -> Int { edges.firstIndex { v < $0 } ?? edges.count }

    /// Made-up forecasts that regress to the mean, as real ones do: log truth spread around a
    /// level of 60 µg/m³, the forecast pulled half-way back to that level plus its own noise.
    static let samples: [IntervalCalibration.Sample] = {
        var rng = SeededGenerator(seed: 7)
        let centre = log(60.0)
        return (0..<40_000).map { _ in
            let truth = centre + 1.0 * rng.nextGaussian()
            let forecast = centre + 0.6 * (truth - centre) + 0.35 * rng.nextGaussian()
            return .init(
                residual: truth - forecast, forecastBand: band(exp(forecast)), truthBand: band(exp(truth)))
        }
    }()

    static func coverage(_ bounds: [(lower: Double, upper: Double)]) -> [Double] {
        var covered = [Int](repeating: 0, count: edges.count + 1)
        var count = covered
        for s in samples {
            count[s.truthBand] += 1
            let (l, u) = bounds[s.forecastBand]
            if s.residual >= l && s.residual <= u { covered[s.truthBand] += 1 }
        }
        return zip(covered, count).map { Double($0) / Double($1) }
    }

    /// The 5% and 95% quantiles of each forecast band's residuals.
    static var perForecastBand: [(lower: Double, upper: Double)] {
        (0...edges.count).map { b in
            let r = samples.filter { $0.forecastBand == b }.map(\.residual).sorted()
            return (
                IntervalCalibration.quantile(sorted: r, 0.05), IntervalCalibration.quantile(sorted: r, 0.95)
            )
        }
    }

    @Test func quantilesPerForecastBandMissTheTruthsExtremes() {
        // The case the calibration is for: without it the highest truths are covered far
        // less than 90% and the middling ones more.
        let c = Self.coverage(Self.perForecastBand)
        #expect(c.last! < 0.8)
        #expect(c[1] > 0.93 && c[2] > 0.93)
    }

    @Test func calibratedBoundsHoldNinetyPercentInEveryBandOfTheTruth() throws {
        let bounds = try #require(
            IntervalCalibration.bounds(
                Self.samples, bands: Self.edges.count + 1, minimumSamples: 300, fallback: (-1, 1)))
        let c = Self.coverage(bounds)
        for (b, share) in c.enumerated() { #expect(abs(share - 0.9) < 0.02, "truth band \(b): \(share)") }
        for (l, u) in bounds { #expect(l < 0 && u > 0) }
        // Deterministic: the same samples give the same bounds.
        let again = try #require(
            IntervalCalibration.bounds(
                Self.samples, bands: Self.edges.count + 1, minimumSamples: 300, fallback: (-1, 1)))
        #expect(zip(bounds, again).allSatisfy { $0.lower == $1.lower && $0.upper == $1.upper })
    }

    @Test func aBandWithTooFewSamplesKeepsTheFallbackAndNoSamplesGiveNothing() throws {
        let few = Self.samples.filter { $0.forecastBand != 4 } + Self.samples.filter { $0.forecastBand == 4 }.prefix(10)
        let bounds = try #require(
            IntervalCalibration.bounds(few, bands: Self.edges.count + 1, minimumSamples: 300, fallback: (-0.7, 0.8)))
        #expect(bounds[4].lower == -0.7 && bounds[4].upper == 0.8)
        #expect(IntervalCalibration.bounds([], bands: 5, fallback: (-1, 1)) == nil)
        let hostile = [IntervalCalibration.Sample(residual: .nan, forecastBand: 9, truthBand: -1)]
        #expect(IntervalCalibration.bounds(hostile, bands: 5, fallback: (-1, 1)) == nil)
    }
}
