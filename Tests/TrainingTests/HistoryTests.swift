import Foundation
import Testing

@testable import AirQuality
@testable import Training

@Suite struct MultisiteReaderTests {
    let records = try! MultisiteReader.parse(Repository.fixture("multisite.csv"), file: "multisite.csv")

    @Test func readsTheLayoutWithBeijingHoursAsUTC() {
        #expect(records.count == 5)
        // 2013-03-01 00:00 in Beijing (UTC+8) is 2013-02-28T16:00Z.
        #expect(isoHour(records[0].time / 3600) == "2013-02-28T16:00:00Z")
        #expect(
            records[0]
                == MultisiteRecord(
                    station: "Aotizhongxin", time: records[0].time, pm25: 4, temperature: -0.7, pressure: 1023,
                    dewPoint: -18.8,
                    windDirection: "NNW", windSpeed: 4.4))
        #expect(records[2].pm25 == nil && records[2].temperature == nil && records[2].windDirection == nil)
        #expect(records[3].pressure == nil && records[3].windDirection == nil)
    }

    @Test func readingsLeaveOutHoursWithoutPMAndFillTheWeather() {
        let readings = Reading.fromMultisite(records, station: "aoti")
        #expect(readings.map(\.pm25) == [4, 8, 6, 3])
        // Row 4 (hour 3) lost its pressure: halfway between 1023.5 and 1025.5. Its direction is
        // carried from hour 1 (N, as hour 2 has none): the NE quadrant.
        #expect(readings[2].pressure == 1024.5 && readings[2].windDirection == .northEast)
        // NNW (337.5 degrees) is in the NW quadrant; a wind of 0.3 m/s is calm, whatever its direction.
        #expect(readings[0].windDirection == .northWest && readings[3].windDirection == .calm)
        #expect(readings.map(\.station) == ["aoti", "aoti", "aoti", "aoti"])
    }

    @Test func saysWhereAFileIsWrong() {
        let text = Repository.fixture("multisite.csv").replacingOccurrences(of: "\"SSW\"", with: "\"UP\"")
        #expect(
            throws: DataFileError(
                file: "f.csv", line: 6, column: "wd",
                reason: "unknown wind direction 'UP' (expected a compass point N, NNE, ..., NNW)")
        ) {
            try MultisiteReader.parse(text, file: "f.csv")
        }
        let badDay = Repository.fixture("multisite.csv").replacingOccurrences(of: "2013,3,1,4", with: "2013,2,29,4")
        #expect(throws: DataFileError(file: "f.csv", line: 6, column: "day", reason: "2013-2 has no day 29")) {
            try MultisiteReader.parse(badDay, file: "f.csv")
        }
    }
}

@Suite struct BacktestTests {
    /// Two months of a real station of the multi-site network (shipped in data/multisite).
    static let readings: [Reading] = {
        let path = Repository.root.appendingPathComponent(
            "data/multisite/PRSA_Data_Dongsi_20130301-20160229.csv"
        ).path
        let all = try! HistoryFile.readings(path: path).readings
        return all.filter { isoHour($0.hour) >= "2015-12-01" && isoHour($0.hour) < "2016-02-01" }
    }()
    let model = try! ModelFile.load(path: Repository.modelPath)

    /// Every scored hour is a forecast the daemon's engine makes from the same readings, the
    /// truth is the hour's reading, persistence is the origin hour's, and the table's figures
    /// are those of the records.
    @Test func scoresTheEnginesForecastsAgainstWhatCameTrue() {
        var options = Backtest.Options()
        options.from = hourContaining(try! RFC3339.parse("2016-01-01T00:00:00Z".utf8).get())
        var records: [Backtest.Record] = []
        let report = Backtest.run(model: model, modelName: "m", readings: Self.readings, options: options) {
            records.append($0)
        }
        let byHour = Dictionary(Self.readings.map { ($0.hour, $0.pm25) }, uniquingKeysWith: { a, _ in a })
        let engine = ForecastEngine(model: model, modelName: "m", settings: .init())
        var published: [Int64: StationForecast] = [:]
        for r in Self.readings.sorted(by: { $0.time < $1.time }) {
            if case .accepted(_, _, let f?, _, _) = engine.ingest(r, now: Double(r.time) + 1) {
                published[f.basedOnHour] = f
            }
        }
        #expect(records.count > 5000)
        for r in records {
            #expect(r.originHour >= options.from)
            #expect(r.truth == byHour[r.originHour + Int64(r.horizon)])
            #expect(r.persistence == byHour[r.originHour])
            #expect(r.forecast == published[r.originHour]?.hours[r.horizon - 1].pm25)
        }
        for h in 1...8 {
            let mine = records.filter { $0.horizon == h }
            let rmse =
                (mine.map { ($0.forecast - $0.truth) * ($0.forecast - $0.truth) }.reduce(0, +) / Double(mine.count))
                .squareRoot()
            let s = report.pooled.byHorizon[h - 1]
            #expect(s.count == mine.count)
            #expect(abs(s.rmse - rmse) < 1e-9)
            #expect(abs(s.bias - mine.map { $0.forecast - $0.truth }.reduce(0, +) / Double(mine.count)) < 1e-9)
            let inside = mine.filter { $0.truth >= $0.lower && $0.truth <= $0.upper }.count
            #expect(s.covered == inside && s.bandCount.reduce(0, +) == mine.count)
            // The interval score from the records: width plus 20 times the miss (5-95%).
            let score =
                mine.map { r in
                    (r.upper - r.lower) + 20 * (max(0, r.lower - r.truth) + max(0, r.truth - r.upper))
                }.reduce(0, +) / Double(mine.count)
            #expect(abs(s.intervalScore() - score) < 1e-9 * score)
            #expect(s.intervalScore() > (s.intervalWidth / Double(mine.count)))
            // By the forecast's own band: the records counted again, each under its forecast.
            for b in 0..<PM25Bands.count {
                let band = mine.filter { PM25Bands.index(of: $0.forecast) == b }
                #expect(s.forecastBandCount[b] == band.count)
                #expect(s.forecastBandCovered[b] == band.filter { $0.truth >= $0.lower && $0.truth <= $0.upper }.count)
            }
        }
        #expect(report.table().contains("Dongsi"))
        #expect(report.table().contains("interval coverage % by forecast PM2.5 band"))
    }

    /// Observed weather for the hours ahead reaches the forecasts: they differ from held ones.
    @Test func observedWeatherChangesTheForecasts() {
        var options = Backtest.Options()
        options.from = hourContaining(try! RFC3339.parse("2016-01-20T00:00:00Z".utf8).get())
        let held = Backtest.run(model: model, modelName: "m", readings: Self.readings, options: options)
        options.weather = .observed
        let observed = Backtest.run(model: model, modelName: "m", readings: Self.readings, options: options)
        #expect(held.pooled.byHorizon[0].count == observed.pooled.byHorizon[0].count)
        #expect(held.pooled.byHorizon[7].rmse != observed.pooled.byHorizon[7].rmse)
        // One hour ahead the weather is the origin's either way.
        #expect(held.pooled.byHorizon[0].rmse == observed.pooled.byHorizon[0].rmse)
    }

    /// Forecast weather is the observed weather with errors from a seed: the same seed gives the
    /// same forecasts, another seed others, and errors of nought give the observed weather's.
    @Test func forecastWeatherIsObservedWeatherWithSeededErrors() {
        var options = Backtest.Options()
        options.from = hourContaining(try! RFC3339.parse("2016-01-20T00:00:00Z".utf8).get())
        options.weather = .observed
        let observed = Backtest.run(model: model, modelName: "m", readings: Self.readings, options: options)
        options.weather = .forecast
        func run() -> [Double] {
            Backtest.run(model: model, modelName: "m", readings: Self.readings, options: options).pooled.byHorizon
                .map(\.squaredModel)
        }
        let first = run()
        #expect(run() == first)
        options.weatherSeed = 2
        let other = run()
        #expect(other != first)
        #expect(first[0] == other[0], "one hour ahead uses the origin's weather")
        options.weatherErrors = ForecastWeatherErrors().scaled(by: 0)
        #expect(run() == observed.pooled.byHorizon.map(\.squaredModel))
        #expect(first != observed.pooled.byHorizon.map(\.squaredModel))
    }
}

/// A CSV in a layout of its own, read by a column mapping: units converted, the dew point
/// derived, missing weather left empty, rows that cannot be read counted with their line.
@Suite struct MappedCSVTests {
    @Test func aNetworksOwnLayoutIsReadByItsColumns() throws {
        var mapping = try MappedCSV.parse(columns: "time=when,station=sensor,pm25=PM2.5,temperature=t_f,humidity=rh")
            .get()
        mapping.format.units.temperature = .fahrenheit
        mapping.format.timeZoneOffset = 3600
        let csv = """
            sensor,when,PM2.5,t_f,rh,note
            "garden,north",2024-05-01 10:00:00,12.5,50,60,"said ""hi"", twice"
            kitchen,2024-05-01T09:00:00Z,NA,50,60,
            kitchen,2024-05-01T09:00:00Z,8,50,,
            kitchen,yesterday,8,50,60,
            kitchen,1714554000,3000,50,60,
            """
        let (readings, skipped, reasons) = try mapping.readings(csv, file: "net.csv", station: nil)
        #expect(readings.count == 2 && skipped == 3)
        #expect(reasons.first == "line 3: no PM2.5")
        #expect(reasons[1].hasPrefix("line 5: field 'when' "))
        #expect(reasons[2].hasPrefix("line 6: field 'PM2.5' is 3000.0"))
        let garden = readings[0]
        #expect(garden.station == "garden,north" && garden.time == 1_714_554_000 && garden.pm25 == 12.5)
        #expect(
            abs(garden.temperature - 10) < 1e-9 && abs(garden.dewPoint - dewPoint(temperature: 10, humidity: 60)) < 1e-9
        )
        #expect(garden.pressure.isNaN && garden.windSpeed.isNaN)
        // Humidity missing: no dew point either, the temperature kept.
        #expect(readings[1].dewPoint.isNaN && abs(readings[1].temperature - 10) < 1e-9)
        #expect(throws: DataFileError.self) { try mapping.readings("a,b\n1,2\n", file: "x.csv", station: nil) }
        #expect(MappedCSV.parse(columns: "pm25=x").failureReason == "time=COLUMN is needed")
        #expect(MappedCSV.parse(columns: "time=t,pm=x").failureReason?.hasPrefix("unknown name 'pm'") == true)
    }
}

extension Result where Failure == DataFileError {
    var failureReason: String? {
        if case .failure(let e) = self { return e.reason }
        return nil
    }
}
