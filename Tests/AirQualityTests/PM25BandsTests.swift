import Testing

@testable import AirQuality

@Suite struct PM25BandsTests {
    @Test func aValueFallsInTheFirstBandWhoseUpperEdgeIsAboveIt() {
        let cases: [(Double, Int)] = [
            (0, 0), (34.9, 0), (35, 1), (74.99, 1), (75, 2), (149, 2), (150, 3), (249.9, 3), (250, 4), (900, 4),
        ]
        for (value, band) in cases {
            #expect(PM25Bands.index(of: value) == band, "\(value)")
            #expect(PM25Bands.names[band].isEmpty == false)
        }
        #expect(PM25Bands.count == PM25Bands.names.count)
    }

    @Test func aNaNFallsInTheLastBandAndOtherEdgesAreHonoured() {
        #expect(PM25Bands.index(of: .nan) == PM25Bands.count - 1)
        #expect(PM25Bands.index(of: 12, edges: [10, 20]) == 1)
        #expect(PM25Bands.index(of: 25, edges: [10, 20]) == 2)
        #expect(PM25Bands.index(of: 5, edges: []) == 0)
    }
}
