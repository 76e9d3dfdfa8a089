import AirQuality
import Testing

@Suite struct BiasCorrectionTests {
    /// A model 10 µg/m³ high at 1 hour and 4 low at 2 hours, on a day of steady air.
    @Test func theCorrectionIsTheShrunkMeanErrorPerHourAhead() {
        var b = BiasCorrection(days: 30, model: "m")
        let start: Int64 = 400_000 * 24
        #expect(b.corrections(from: start, hours: 2) == [0, 0])
        var learnt = 0
        for hour in start..<(start + 24) {
            learnt += b.observe(hour: hour, truth: 50).count
            b.expect(from: hour, [60, 46])
        }
        // The truth of hours start+1 ..< start+24 met 23 forecasts 1 hour ahead and 22 two hours ahead.
        #expect(learnt == 23 + 22)
        let c = b.corrections(from: start + 23, hours: 3)
        #expect(abs(c[0] - (-10.0 * 23 / (23 + BiasCorrection.priorPairs))) < 1e-12)
        #expect(abs(c[1] - (4.0 * 22 / (22 + BiasCorrection.priorPairs))) < 1e-12)
        #expect(c[2] == 0)
    }

    @Test func errorsOlderThanTheWindowNoLongerCount() {
        var b = BiasCorrection(days: 2, model: "m")
        let day0: Int64 = 20_000
        b.expect(from: day0 * 24, [70])
        _ = b.observe(hour: day0 * 24 + 1, truth: 50)
        #expect(b.corrections(from: day0 * 24 + 1, hours: 1)[0] < 0)
        // On day0 + 1 the day of the error is still inside two days; on day0 + 2 it is not.
        #expect(b.corrections(from: (day0 + 1) * 24, hours: 1)[0] < 0)
        #expect(b.corrections(from: (day0 + 2) * 24, hours: 1) == [0])
    }

    @Test func loggedBucketsGiveTheSameCorrection() {
        var b = BiasCorrection(days: 30, model: "m")
        for hour: Int64 in 1000..<1100 {
            _ = b.observe(hour: hour, truth: Double(hour % 7) * 10)
            b.expect(from: hour, [40, 45, 50])
        }
        let logged = b.buckets.enumerated().flatMap { h, list in list.map { (horizon: h + 1, bucket: $0) } }
        let again = BiasCorrection(days: 30, model: "m", buckets: logged.reversed())
        #expect(again.corrections(from: 1099, hours: 3) == b.corrections(from: 1099, hours: 3))
        #expect(again.buckets == b.buckets)
    }

    /// A window shortened on a running correction: from then on it corrects as one that had
    /// the shorter window all along, and the forecasts it was waiting on still teach it.
    @Test func aShorterWindowKeepsWhatItHolds() {
        var long = BiasCorrection(days: 30, model: "m")
        var short = BiasCorrection(days: 3, model: "m")
        func feed(_ hours: Range<Int64>, _ b: inout BiasCorrection) {
            for hour in hours {
                _ = b.observe(hour: hour, truth: Double(hour % 11) * 5)
                b.expect(from: hour, [40, 45, Double(hour % 24)])
            }
        }
        let start: Int64 = 19_000 * 24
        feed(start..<(start + 24 * 8), &long)
        feed(start..<(start + 24 * 8), &short)
        var shortened = long.with(days: 3)
        #expect(shortened.days == 3 && shortened.model == "m")
        let at = start + 24 * 8 - 1
        #expect(shortened.corrections(from: at, hours: 3) == short.corrections(from: at, hours: 3))
        #expect(long.corrections(from: at, hours: 3) != short.corrections(from: at, hours: 3))
        // The next hour's truth meets the pending forecasts in both.
        #expect(shortened.observe(hour: at + 1, truth: 20).count == 3)
        #expect(short.observe(hour: at + 1, truth: 20).count == 3)
        feed((at + 1)..<(at + 1 + 24 * 5), &shortened)
        feed((at + 1)..<(at + 1 + 24 * 5), &short)
        let later = at + 24 * 5
        #expect(shortened.corrections(from: later, hours: 3) == short.corrections(from: later, hours: 3))
        #expect(shortened.buckets == short.buckets)
    }

    @Test func aHostileBucketIsIgnored() {
        let b = BiasCorrection(
            days: 30, model: "m",
            buckets: [
                (0, .init(day: 1, sum: 5, count: 1)), (49, .init(day: 1, sum: 5, count: 1)),
                (1, .init(day: 1, sum: .nan, count: 1)), (1, .init(day: 1, sum: 5, count: -3)),
            ])
        #expect(b.buckets.allSatisfy { $0.isEmpty })
        #expect(b.corrections(from: 24, hours: 8) == [Double](repeating: 0, count: 8))
    }
}
