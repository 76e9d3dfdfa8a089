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
