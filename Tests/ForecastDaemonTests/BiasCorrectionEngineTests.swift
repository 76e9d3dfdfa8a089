import AirQuality
import Foundation
import ReadingLog
import Testing

@testable import ForecastDaemon

/// The engine's running bias correction, against the same readings forecast without it.
@Suite struct BiasCorrectionEngineTests {
    static let start: Int64 = 1_400_000_000 / 3600

    /// Ten days of a clean station whose PM2.5 swings daily between 4 and 20 µg/m³.
    static let readings: [Reading] = (0..<(10 * 24)).map { i in
        let hour = start + Int64(i)
        let pm = 12 + 8 * sin(Double(i % 24) / 24 * 2 * .pi)
        return Reading(
            station: "clean", time: hour * 3600, pm25: pm, dewPoint: -8, temperature: 6, pressure: 1021,
            windDirection: .northWest, windSpeed: 3)
    }

    static func forecasts(_ engine: ForecastEngine) -> [StationForecast] {
        readings.compactMap {
            guard case .accepted(_, _, let f?, _, _) = engine.ingest($0, now: Double($0.time)) else { return nil }
            return f
        }
    }

    @Test func eachHourAheadIsCorrectedByTheStationsOwnShrunkMeanError() throws {
        let plain = Self.forecasts(shippedEngine { $0.biasCorrectionDays = 0 })
        let corrected = Self.forecasts(shippedEngine())
        try #require(plain.count == corrected.count && plain.count > 200)
        let truth = Dictionary(uniqueKeysWithValues: Self.readings.map { ($0.hour, $0.pm25) })
        // The correction at each origin, computed here from the uncorrected forecasts' errors
        // whose truth had come by then.
        var plainErrors: [(hour: Int64, error: [Double])] = []
        for (p, c) in zip(plain, corrected) {
            #expect(p.basedOnHour == c.basedOnHour)
            for h in p.hours.indices {
                var sum = 0.0
                var count = 0
                for q in plain where q.basedOnHour + Int64(h + 1) <= p.basedOnHour {
                    let at = q.basedOnHour + Int64(h + 1)
                    sum += q.hours[h].pm25 - Double(Float(truth[at]!))
                    count += 1
                }
                let expected = -sum / (Double(count) + BiasCorrection.priorPairs)
                #expect(abs(c.hours[h].correction - expected) < 1e-9, "origin \(p.basedOnHour) h\(h + 1)")
                #expect(abs(c.hours[h].pm25 - max(0, p.hours[h].pm25 + expected)) < 1e-9)
            }
            plainErrors.append((p.basedOnHour, p.hours.map { $0.pm25 }))
        }
        // Over the last five days the corrected forecasts' mean error is the smaller at every
        // hour ahead, given that the model's own is not negligible.
        func bias(_ list: [StationForecast], _ h: Int) -> Double {
            let last = list.filter {
                $0.basedOnHour >= Self.start + 5 * 24 && truth[$0.basedOnHour + Int64(h + 1)] != nil
            }
            return last.map { $0.hours[h].pm25 - truth[$0.basedOnHour + Int64(h + 1)]! }.reduce(0, +)
                / Double(last.count)
        }
        for h in 0..<8 {
            try #require(abs(bias(plain, h)) > 0.5, "h\(h + 1): the model has no bias here to correct")
            #expect(abs(bias(corrected, h)) < abs(bias(plain, h)) / 2, "h\(h + 1)")
        }
    }

    /// A daemon restarted on its log forecasts with the correction it had: the errors are
    /// logged by day and hour ahead, and read back at start.
    @Test func aRestartResumesTheCorrectionFromTheLog() throws {
        let running = shippedEngine()
        let made = Self.forecasts(running)
        let last = try #require(made.last)
        try #require(last.hours.allSatisfy { $0.correction != 0 })
        let log = try ReadingLog(path: temporaryDirectory() + "/readings.sqlite")
        try log.append(
            Self.readings.map { .init(reading: $0, arrived: Double($0.time)) },
            biasErrors: made.flatMap(ReadingLog.LoggedBiasError.errors(of:)))
        let today = BiasCorrection.day(of: last.basedOnHour)
        let restarted = shippedEngine().restore(
            try log.recent(hours: 30), bias: try log.biasCorrections(days: 30, today: today),
            now: Double(last.basedOnHour * 3600 + 3600))
        let again = try #require(restarted.first)
        #expect(again.basedOnHour == last.basedOnHour)
        #expect(again.hours == last.hours)
        // Without the logged errors the same restart forecasts uncorrected.
        let forgetful = shippedEngine().restore(try log.recent(hours: 30), now: Double(last.basedOnHour * 3600 + 3600))
        #expect(forgetful.first?.hours.allSatisfy { $0.correction == 0 } == true)
    }

    @Test func anotherModelsErrorsAreNotApplied() throws {
        let log = try ReadingLog(path: temporaryDirectory() + "/readings.sqlite")
        let made = Self.forecasts(shippedEngine())
        try log.append(
            Self.readings.map { .init(reading: $0, arrived: Double($0.time)) },
            biasErrors: made.flatMap(ReadingLog.LoggedBiasError.errors(of:)).map {
                var e = $0
                e.model = "another model"
                return e
            })
        let last = try #require(made.last)
        let corrections = try log.biasCorrections(days: 30, today: BiasCorrection.day(of: last.basedOnHour))
        #expect(corrections["clean"]?.model == "another model")
        let restored = shippedEngine().restore(
            try log.recent(hours: 30), bias: corrections, now: Double(last.basedOnHour * 3600 + 3600))
        #expect(restored.first?.hours.allSatisfy { $0.correction == 0 } == true)
    }
}
