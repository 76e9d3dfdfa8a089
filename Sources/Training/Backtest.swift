import AirQuality
import DeepRNN

/// Scores a model on a history through the daemon's own path: every reading goes into a
/// ``ForecastEngine`` (the same windows, gap rules, held or supplied weather, recursion and
/// intervals as `aqcast run`), and every forecast it publishes is compared with what then came
/// true, beside persistence (every hour ahead equals the origin hour) on exactly the same pairs.
public enum Backtest {
    /// The share of the truth the published interval (5-95%) should leave outside it.
    public static let intervalMissShare =
        1 - (EvaluationSummary.quantileLevels.last! - EvaluationSummary.quantileLevels.first!)

    public enum Weather: String, Sendable, CaseIterable {
        /// Held at the last observed hour, as the daemon does without a weather topic.
        case held
        /// The history's own observed weather for the hours ahead, as a perfect weather forecast
        /// on the weather topic would give (an upper bound).
        case observed
        /// The observed weather with the errors of an ordinary forecast
        /// (``Options/weatherErrors``, drawn from ``Options/weatherSeed``), a fresh forecast
        /// from every origin hour, as a weather service on the weather topic would give.
        case forecast
    }

    public struct Options: Sendable {
        public var horizon = 8
        public var maximumGapHours = 3
        /// Forecasts from origin hours in `from..<to` (hours since 1970) are scored.
        public var from: Int64 = .min
        public var to: Int64 = .max
        public var weather: Weather = .held
        /// The errors and seed of `forecast` weather; each station draws from its own
        /// generator (the seed and the station's name), so a station's forecasts do not depend
        /// on which other stations are in the history.
        public var weatherErrors = ForecastWeatherErrors()
        public var weatherSeed: UInt64 = 1
        /// As the daemon's `readings_per_hour`: an hour is complete (and forecast from) when this
        /// many readings arrived for it or a later hour's reading did.
        public var readingsPerHour = 1
        /// As the daemon's `bias_correction_days` (0: off). The history's readings from this
        /// many days before `from` run through the engine unscored first, so the correction
        /// starts as warm as a daemon's that had been running.
        public var biasCorrectionDays = ForecastEngine.Settings().biasCorrectionDays

        public init() {}
    }

    /// One scored forecast hour.
    public struct Record: Sendable, Equatable {
        public var station: String
        public var originHour: Int64
        public var horizon: Int
        public var truth: Double
        public var forecast: Double
        public var lower: Double
        public var upper: Double
        public var persistence: Double
    }

    /// Runs `readings` (any order, any stations) through an engine with `model`; `record` is
    /// called with every scored forecast hour, in time order per station.
    public static func run(
        model: ModelFile, modelName: String, readings: [Reading], options: Options,
        record: (Record) -> Void = { _ in }
    ) -> BacktestReport {
        var byStation: [String: [Reading]] = [:]
        for r in readings { byStation[r.station, default: []].append(r) }
        var report = BacktestReport(horizon: options.horizon)
        var settings = ForecastEngine.Settings()
        settings.horizonHours = options.horizon
        settings.maximumGapHours = options.maximumGapHours
        settings.readingsPerHour = options.readingsPerHour
        settings.biasCorrectionDays = options.biasCorrectionDays
        let warmUp = Int64(model.steps + options.maximumGapHours + 1 + 24 * options.biasCorrectionDays)
        for station in byStation.keys.sorted() {
            let series = byStation[station]!.sorted { $0.time < $1.time }
            // The hour's mean PM2.5 (and weather) is the truth the forecasts are judged against.
            var hourly: [Int64: (sum: [Double], count: Int)] = [:]
            for r in series {
                let old = hourly[r.hour] ?? ([Double](repeating: 0, count: Feature.allCases.count), 0)
                hourly[r.hour] = (zip(old.sum, r.features).map { $0 + $1 }, old.count + 1)
            }
            func truth(_ hour: Int64) -> [Double]? { hourly[hour].map { h in h.sum.map { $0 / Double(h.count) } } }
            let engine = ForecastEngine(model: model, modelName: modelName, settings: settings)
            var scores = BacktestScores(horizon: options.horizon)
            var weatherGiven = Int64.min
            var errors = SeededGenerator(seed: options.weatherSeed ^ FNV1a.hash(station.utf8))
            for r in series {
                guard r.hour >= options.from - warmUp, r.hour < options.to else { continue }
                if options.weather != .held, r.hour > weatherGiven {
                    weatherGiven = r.hour
                    var ahead = (1...options.horizon).compactMap { k -> ReadingDecoder.WeatherHour? in
                        truth(r.hour + Int64(k)).map { .init(time: (r.hour + Int64(k)) * 3600, features: $0) }
                    }
                    if options.weather == .forecast {
                        // The errors walk on over the hours that are there; a missing hour is skipped.
                        var raw = ahead.flatMap(\.features)
                        options.weatherErrors.forecast(&raw, rows: ahead.count, using: &errors)
                        let f = Feature.allCases.count
                        for i in ahead.indices { ahead[i].features = Array(raw[(i * f)..<((i + 1) * f)]) }
                    }
                    engine.storeWeather(ahead, station: station, now: Double(r.time))
                }
                guard case .accepted(_, _, let forecast?, _, _) = engine.ingest(r, now: Double(r.time) + 1),
                    forecast.basedOnHour >= options.from, let origin = truth(forecast.basedOnHour)
                else { continue }
                let persistence = origin[Feature.pm25.rawValue]
                for h in forecast.hours {
                    guard let actual = truth(forecast.basedOnHour + Int64(h.horizon))?[Feature.pm25.rawValue] else {
                        continue
                    }
                    let scored = Record(
                        station: station, originHour: forecast.basedOnHour, horizon: h.horizon, truth: actual,
                        forecast: h.pm25, lower: h.lower, upper: h.upper, persistence: persistence)
                    scores.add(scored)
                    record(scored)
                }
            }
            report.stations.append((station, scores))
            report.pooled.merge(scores)
        }
        return report
    }
}

/// Sums for one set of scored forecasts, by horizon (and by PM2.5 band for the coverage).
public struct BacktestScores: Sendable {
    public struct Sums: Sendable {
        public var count = 0
        public var squaredModel = 0.0
        public var squaredPersistence = 0.0
        public var absoluteModel = 0.0
        public var absolutePersistence = 0.0
        /// Forecast minus truth, summed.
        public var errorModel = 0.0
        public var covered = 0
        /// Sums of the interval's width and of how far the truth fell outside it (µg/m³).
        public var intervalWidth = 0.0
        public var intervalMiss = 0.0
        public var bandCount = [Int](repeating: 0, count: PM25Bands.count)
        public var bandCovered = [Int](repeating: 0, count: PM25Bands.count)
        /// The same by the band of the forecast itself: what the interval promises the reader
        /// of a forecast at that level.
        public var forecastBandCount = [Int](repeating: 0, count: PM25Bands.count)
        public var forecastBandCovered = [Int](repeating: 0, count: PM25Bands.count)

        public var rmse: Double { (squaredModel / Double(max(count, 1))).squareRoot() }
        public var persistenceRMSE: Double { (squaredPersistence / Double(max(count, 1))).squareRoot() }
        public var mae: Double { absoluteModel / Double(max(count, 1)) }
        public var persistenceMAE: Double { absolutePersistence / Double(max(count, 1)) }
        public var bias: Double { errorModel / Double(max(count, 1)) }
        /// `100 (1 - RMSE / RMSE of persistence)`, in %.
        public var gain: Double { 100 * (1 - rmse / persistenceRMSE) }
        public var maeGain: Double { 100 * (1 - mae / persistenceMAE) }
        public var coverage: Double { Double(covered) / Double(max(count, 1)) }
        /// The mean interval score of the central interval that should miss a share `alpha`
        /// (0.1 for 5-95%): its width plus `2 / alpha` times the distance by which the truth
        /// fell outside it (Gneiting and Raftery 2007, section 6.2). Lower is better; it
        /// rewards narrow intervals that still hold the truth, so it judges two models'
        /// intervals where coverage alone cannot.
        public func intervalScore(alpha: Double = Backtest.intervalMissShare) -> Double {
            (intervalWidth + 2 / alpha * intervalMiss) / Double(max(count, 1))
        }
        public func bandCoverage(_ b: Int) -> Double? {
            bandCount[b] > 0 ? Double(bandCovered[b]) / Double(bandCount[b]) : nil
        }
        public func forecastBandCoverage(_ b: Int) -> Double? {
            forecastBandCount[b] > 0 ? Double(forecastBandCovered[b]) / Double(forecastBandCount[b]) : nil
        }
    }

    public var byHorizon: [Sums]

    public init(horizon: Int) { byHorizon = [Sums](repeating: Sums(), count: horizon) }

    public mutating func add(_ r: Backtest.Record) {
        let e = r.forecast - r.truth
        let p = r.persistence - r.truth
        let inside = r.truth >= r.lower && r.truth <= r.upper
        let b = PM25Bands.index(of: r.truth)
        let fb = PM25Bands.index(of: r.forecast)
        var s = byHorizon[r.horizon - 1]
        s.count += 1
        s.squaredModel += e * e
        s.squaredPersistence += p * p
        s.absoluteModel += abs(e)
        s.absolutePersistence += abs(p)
        s.errorModel += e
        s.intervalWidth += r.upper - r.lower
        s.intervalMiss += max(0, r.lower - r.truth) + max(0, r.truth - r.upper)
        s.bandCount[b] += 1
        s.forecastBandCount[fb] += 1
        if inside {
            s.covered += 1
            s.bandCovered[b] += 1
            s.forecastBandCovered[fb] += 1
        }
        byHorizon[r.horizon - 1] = s
    }

    public mutating func merge(_ other: BacktestScores) {
        for h in byHorizon.indices {
            let o = other.byHorizon[h]
            byHorizon[h].count += o.count
            byHorizon[h].squaredModel += o.squaredModel
            byHorizon[h].squaredPersistence += o.squaredPersistence
            byHorizon[h].absoluteModel += o.absoluteModel
            byHorizon[h].absolutePersistence += o.absolutePersistence
            byHorizon[h].errorModel += o.errorModel
            byHorizon[h].covered += o.covered
            byHorizon[h].intervalWidth += o.intervalWidth
            byHorizon[h].intervalMiss += o.intervalMiss
            for b in 0..<PM25Bands.count {
                byHorizon[h].bandCount[b] += o.bandCount[b]
                byHorizon[h].bandCovered[b] += o.bandCovered[b]
                byHorizon[h].forecastBandCount[b] += o.forecastBandCount[b]
                byHorizon[h].forecastBandCovered[b] += o.forecastBandCovered[b]
            }
        }
    }
}

/// Everything a backtest measured: pooled and per station.
public struct BacktestReport: Sendable {
    public var horizon: Int
    public var pooled: BacktestScores
    public var stations: [(name: String, scores: BacktestScores)] = []

    public init(horizon: Int) {
        self.horizon = horizon
        pooled = BacktestScores(horizon: horizon)
    }
}
