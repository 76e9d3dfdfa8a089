import Foundation
import Testing

@testable import AirQuality
@testable import Training

@Suite struct TrainingSeriesTests {
    /// Made-up readings of three stations in arrival order: hours missing (short gaps and long
    /// ones), several readings in one hour, one station that starts late.
    static let readings: [Reading] = {
        var rng = SystemRandomNumberGenerator()
        var out: [Reading] = []
        let directions: [WindDirection] = [.northWest, .southEast, .calm, .northEast, .southWest]
        for hour in Int64(400_000)..<400_400 {
            for (k, station) in ["north", "east", "river"].enumerated() {
                if station == "river", hour < 400_050 { continue }
                let skip = (hour + Int64(k) * 7) % 97
                if skip < 2 || (station == "east" && (400_200..<400_206).contains(hour)) { continue }
                let copies = hour % 13 == 0 ? 3 : 1
                for c in 0..<copies {
                    out.append(
                        Reading(
                            station: station, time: hour * 3600 + Int64(c) * 600,
                            pm25: Double.random(in: 2...400, using: &rng),
                            dewPoint: Double.random(in: -20...20, using: &rng),
                            temperature: Double.random(in: -10...35, using: &rng),
                            pressure: Double.random(in: 995...1035, using: &rng),
                            windDirection: directions[Int(hour + Int64(c)) % directions.count],
                            windSpeed: Double.random(in: 0...12, using: &rng)))
                }
            }
        }
        return out
    }()

    func reading(_ station: String, hour: Int64, minute: Int64 = 0, pm: Double, wind: WindDirection = .northWest)
        -> Reading
    {
        Reading(
            station: station, time: hour * 3600 + minute * 60, pm25: pm, dewPoint: -2, temperature: 5,
            pressure: 1015, windDirection: wind, windSpeed: 3)
    }

    /// Readings in one hour averaged (the hour's latest wind kept, as the daemon's window keeps it), a gap of up to
    /// `maximumGapHours` filled by straight lines with the wind carried forward, a longer one
    /// cutting the run, short runs dropped, stations kept apart.
    @Test func averagesFillsShortGapsAndCutsAtLongOnes() {
        let h: Int64 = 400_000
        var readings = [
            reading("a", hour: h, pm: 10, wind: .southEast), reading("a", hour: h, minute: 30, pm: 20),
            reading("a", hour: h + 1, pm: 30, wind: .calm),
            reading("a", hour: h + 4, pm: 60),  // hours 2 and 3 missing: filled
        ]
        readings += (0..<3).map { reading("a", hour: h + 10 + Int64($0), pm: 7) }  // after 5 missing hours: a new run
        readings += [reading("a", hour: h + 20, pm: 1)]  // a run of one row: dropped
        // Station b arrives first and interleaved: the series still keeps the stations apart.
        readings = (0..<3).map { reading("b", hour: h + 2 + Int64($0), pm: 99) } + readings
        let series = TrainingSeries(readings: readings, maximumGapHours: 3, minimumRows: 2)
        #expect(series.segments.map(\.station) == ["a", "a", "b"])
        #expect(series.segments.map(\.firstHour) == [h, h + 10, h + 2])
        let f = Feature.allCases.count
        let first = series.segments[0]
        #expect(first.rowCount == 5)
        #expect((0..<5).map { first.raw[$0 * f] } == [15, 30, 40, 50, 60])
        let w = Feature.windDirection.rawValue
        #expect(
            (0..<5).map { first.raw[$0 * f + w] }
                == [WindDirection.northWest.code, 0, 0, 0, WindDirection.northWest.code])
        #expect(series.segments[1].rowCount == 3 && series.segments[2].rowCount == 3)
    }

    /// What a model is retrained on is what the daemon forecasts from: the same readings (several
    /// in some hours, with the wind changing inside an hour, and gaps of 1-3 hours) give the
    /// daemon's window and the trainer's series the same 24 rows, to Float rounding.
    @Test func theTrainersRowsAreTheDaemonsWindow() throws {
        let station = Array(Self.readings.filter { $0.station == "north" }.prefix(200))
        let series = TrainingSeries(readings: station, maximumGapHours: 3, minimumRows: 24)
        let run = try #require(series.segments.first)
        var window = StationWindow(steps: 24, maximumGapHours: 3)
        var compared = 0
        for (i, r) in station.enumerated() {
            _ = window.add(r)
            let hour = r.hour
            // Once the hour's last reading is in, as the daemon forecasts at the next hour's.
            guard i + 1 == station.count || station[i + 1].hour != hour else { continue }
            guard hour >= run.firstHour + 23, hour <= run.lastHour,
                case .success(let rows) = window.window(endingAt: hour)
            else { continue }
            let f = Feature.allCases.count
            let start = Int(hour - 23 - run.firstHour) * f
            let expected = Array(run.raw[start..<(start + 24 * f)])
            for (a, b) in zip(rows, expected) {
                #expect(abs(a - b) <= 1e-4 * max(1, abs(b)), "hour \(hour): \(a) against \(b)")
            }
            compared += 1
        }
        #expect(compared > 100, "\(compared) windows compared")
    }

    /// The one-hour recipes' ``LogSeries`` is built by the same rules, split at its held-out hour.
    @Test func logSeriesSplitsTheBuildersRunsAtTheHeldOutHour() {
        let log = LogSeries(readings: Self.readings, holdoutHours: 100, maximumGapHours: 3, minimumRows: 32)
        #expect(log.splitHour == 400_300)
        let before = TrainingSeries(
            readings: Self.readings, hours: Int64.min..<400_300, maximumGapHours: 3, minimumRows: 32)
        #expect(log.training.map(\.firstHour) == before.segments.map(\.firstHour))
        #expect(log.training.map(\.series.features) == before.segments.map(\.raw))
        #expect(log.holdout.allSatisfy { $0.firstHour >= 400_300 } && !log.holdout.isEmpty)
    }

    @Test func anEarlierHourOfTheSameStationIsCountedAndLeftOut() {
        var builder = TrainingSeries.Builder(maximumGapHours: 3, minimumRows: 2)
        for r in Self.readings.filter({ $0.station == "north" }).prefix(40) { builder.add(r) }
        builder.add(Self.readings[0])
        #expect(builder.outOfOrder == 1)
        let series = builder.finish()
        #expect(series.segments.count == 1)
    }
}
