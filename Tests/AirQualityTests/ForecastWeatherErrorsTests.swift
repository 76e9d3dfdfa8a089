import DeepRNN
import Testing

@testable import AirQuality

@Suite struct ForecastWeatherErrorsTests {
    /// Eight hours of one raw row: PM2.5, dew point, temperature, pressure, wind code, speed.
    func hours(code: Double = WindDirection.northWest.code, speed: Double = 4) -> [Double] {
        Array([Double]([50, -5, 3, 1015, code, speed]).repeated(8))
    }

    @Test func errorsGrowAsARandomWalkToTheirSpreadAtEightHours() {
        let errors = ForecastWeatherErrors()
        var rng = SeededGenerator(seed: 11)
        var squared = [Double](repeating: 0, count: 8)
        var speedRatios: [Double] = []
        let n = 20_000
        for _ in 0..<n {
            var raw = hours()
            errors.forecast(&raw, rows: 8, using: &rng)
            for k in 0..<8 {
                let d = raw[k * 6 + 2] - 3
                squared[k] += d * d
                #expect(raw[k * 6] == 50, "PM2.5 is left alone")
                #expect(raw[k * 6 + 5] >= 0)
            }
            speedRatios.append(raw[7 * 6 + 5] / 4 - 1)
        }
        let spread = squared.map { ($0 / Double(n)).squareRoot() }
        #expect(abs(spread[7] - 1.5) < 0.05, "\(spread)")
        #expect(abs(spread[1] - 1.5 * (2.0 / 8).squareRoot()) < 0.03, "\(spread)")
        let speedSpread = (speedRatios.map { $0 * $0 }.reduce(0, +) / Double(n)).squareRoot()
        #expect(abs(speedSpread - 0.3) < 0.02, "\(speedSpread)")
    }

    @Test func directionsTurnIntoNeighbouringQuadrantsAndCalmStaysCalm() {
        #expect(
            ForecastWeatherErrors.rotated(code: WindDirection.northEast.code, by: 30) == WindDirection.northEast.code)
        #expect(
            ForecastWeatherErrors.rotated(code: WindDirection.northEast.code, by: 50) == WindDirection.southEast.code)
        #expect(
            ForecastWeatherErrors.rotated(code: WindDirection.northEast.code, by: -50) == WindDirection.northWest.code)
        #expect(
            ForecastWeatherErrors.rotated(code: WindDirection.southWest.code, by: 450) == WindDirection.northWest.code)
        #expect(ForecastWeatherErrors.rotated(code: WindDirection.calm.code, by: 90) == WindDirection.calm.code)
        var rng = SeededGenerator(seed: 3)
        var raw = hours(code: WindDirection.calm.code)
        ForecastWeatherErrors().scaled(by: 3).forecast(&raw, rows: 8, using: &rng)
        #expect(stride(from: 4, to: raw.count, by: 6).allSatisfy { raw[$0] == WindDirection.calm.code })
    }
}

extension Array {
    fileprivate func repeated(_ n: Int) -> [Element] { (0..<n).flatMap { _ in self } }
}
