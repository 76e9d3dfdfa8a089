import AirQuality
import DeepRNN
import Foundation
import ReadingLog

/// `aqcast retrain`: a candidate trained on the reading log (all stations pooled, the newest
/// days held out), then the candidate, the current model and persistence scored on the held-out
/// days through the daemon's own engine (weather held at its last value, as the daemon
/// forecasts), on exactly the same forecast hours. The score is the RMSE over every forecast
/// hour 1...8 from every held-out origin, in µg/m³; the candidate is promoted only if it is
/// lower than both others.
public struct Retraining: Sendable {
    public var recipe: TrainingRecipe
    public var seed: UInt64
    public var holdoutDays: Int
    public var maximumGapHours: Int
    /// Below these the result would be noise: nothing is trained.
    public var minimumTrainingWindows: Int
    public var minimumHoldoutWindows: Int
    /// Held-out origins scored at most: past it, an even spread of the stations is scored
    /// (all of each), so the gate's cost does not grow with the network.
    public var maximumScoredOrigins = 100_000
    /// The daemon's `bias_correction_days`: both models are scored with each station's running
    /// correction, as the daemon would run them, starting at the held-out weeks' first hour.
    public var biasCorrectionDays = ForecastEngine.Settings().biasCorrectionDays

    /// Eight weeks: two months of every station's hours (1,344 origins a station), so one
    /// festival fortnight or one smog episode does not decide alone; the fourteen days
    /// refused a model that was 9.7% better than persistence over the following year.
    public static let defaultHoldoutDays = 56

    public init(
        recipe: TrainingRecipe, seed: UInt64, holdoutDays: Int = Self.defaultHoldoutDays,
        maximumGapHours: Int, minimumTrainingWindows: Int = 2_000, minimumHoldoutWindows: Int = 96
    ) {
        self.recipe = recipe
        self.seed = seed
        self.holdoutDays = holdoutDays
        self.maximumGapHours = maximumGapHours
        self.minimumTrainingWindows = minimumTrainingWindows
        self.minimumHoldoutWindows = minimumHoldoutWindows
    }

    /// The three scored on the held-out hours: RMSE in µg/m³ over every forecast hour, and by
    /// hour ahead (index 0 is one hour).
    public struct Scores: Sendable, Equatable {
        public var candidate: Double
        public var current: Double
        public var persistence: Double
        public var candidateByHour: [Double]
        public var currentByHour: [Double]
        public var persistenceByHour: [Double]
        /// Forecast origins scored, and of how many stations.
        public var origins: Int
        public var stations: Int
    }

    /// The gate's rule: promote only a candidate that beats both the current model and
    /// persistence over forecast hours 1-8 (a tie is not a gain).
    public enum Decision: Sendable, Equatable {
        case promote(reason: String)
        case refuse(reason: String)
    }

    public static func decide(_ s: Scores) -> Decision {
        func percent(_ a: Double, _ b: Double) -> String { formatFixed((1 - a / b) * 100, 1) }
        guard s.candidate < s.current else { return .refuse(reason: "the candidate does not beat the current model") }
        guard s.candidate < s.persistence else { return .refuse(reason: "the candidate does not beat persistence") }
        return .promote(
            reason: "beats the current model by \(percent(s.candidate, s.current))% "
                + "and persistence by \(percent(s.candidate, s.persistence))%")
    }

    public enum Outcome: Sendable {
        case tooLittleData(String)
        case scored(candidate: ModelFile, scores: Scores, trainWindows: Int, firstHeldOutHour: Int64)
    }

    /// What the run is doing, for a progress line.
    public enum Stage: Sendable {
        case read(readings: Int, trainingHours: Int, heldOutReadings: Int)
        /// Windows of the log and the prior histories together.
        case training(samples: Int)
        case scoring(origins: Int, stations: Int)
        /// Training again, on the held-out weeks too (``refit(log:candidate:course:source:prior:stage:progress:shouldStop:)``).
        case refitting(samples: Int)
    }

    /// Scores the candidate, the current model and persistence from every origin at or after
    /// `split` in `readings`, through the daemon's own engine (``Backtest``). Only forecast
    /// hours both models made are counted, so all three are scored on the same pairs.
    static func score(
        candidate: ModelFile, current: ModelFile, readings: [Reading], from split: Int64,
        maximumGapHours: Int, biasCorrectionDays: Int
    ) -> Scores {
        var options = Backtest.Options()
        options.from = split
        options.maximumGapHours = maximumGapHours
        options.biasCorrectionDays = biasCorrectionDays
        struct Key: Hashable {
            var station: String
            var origin: Int64
            var horizon: Int
        }
        var currentForecasts: [Key: Double] = [:]
        _ = Backtest.run(model: current, modelName: "", readings: readings, options: options) {
            currentForecasts[Key(station: $0.station, origin: $0.originHour, horizon: $0.horizon)] = $0.forecast
        }
        let hours = options.horizon
        var sums = [[Double]](repeating: [0, 0, 0], count: hours)
        var counts = [Int](repeating: 0, count: hours)
        var stations = Set<String>()
        _ = Backtest.run(model: candidate, modelName: "", readings: readings, options: options) { r in
            guard let other = currentForecasts[Key(station: r.station, origin: r.originHour, horizon: r.horizon)]
            else { return }
            let k = r.horizon - 1
            for (i, f) in [r.forecast, other, r.persistence].enumerated() {
                sums[k][i] += (f - r.truth) * (f - r.truth)
            }
            counts[k] += 1
            stations.insert(r.station)
        }
        func rmse(_ i: Int) -> (all: Double, byHour: [Double]) {
            let total = sums.map { $0[i] }.reduce(0, +) / Double(max(1, counts.reduce(0, +)))
            return (total.squareRoot(), (0..<hours).map { (sums[$0][i] / Double(max(1, counts[$0]))).squareRoot() })
        }
        let (c, m, p) = (rmse(0), rmse(1), rmse(2))
        return Scores(
            candidate: c.all, current: m.all, persistence: p.all, candidateByHour: c.byHour,
            currentByHour: m.byHour, persistenceByHour: p.byHour, origins: counts[0], stations: stations.count)
    }

    /// An even spread of `readings`' stations whose held-out hours make at most
    /// ``maximumScoredOrigins`` origins.
    func spread(_ readings: [Reading]) -> [Reading] {
        let stations = Set(readings.map(\.station)).sorted()
        let perStation = holdoutDays * 24
        let allowed = max(1, maximumScoredOrigins / max(1, perStation))
        guard stations.count > allowed else { return readings }
        let stride = Double(stations.count) / Double(allowed)
        let kept = Set((0..<allowed).map { stations[Int(Double($0) * stride)] })
        return readings.filter { kept.contains($0.station) }
    }

    /// Trains on the log up to its newest `holdoutDays` and scores on them. A recursive recipe
    /// reads the log once through a cursor (the training side straight into hourly rows, the
    /// held-out side as readings); the one-hour recipes read it whole, as they always did.
    ///
    /// `prior` (the shipped histories, for a recursive recipe) is pooled with the log's training
    /// side, so a network with a few months of its own readings learns them on top of years of
    /// others' rather than from them alone: a station the log holds is taken from the log only,
    /// and no prior hour at or after the first held-out one is used.
    public func run(
        log: ReadingLog, current: ModelFile, course: PRSADataset, source: String,
        prior: [TrainingSeries.Segment] = [],
        stage: (Stage) -> Void = { _ in }, progress: (EpochReport) -> Void = { _ in },
        shouldStop: () -> Bool = { false }
    ) throws -> Outcome {
        guard let newest = try log.newestHour() else { return .tooLittleData("the reading log is empty") }
        let split = newest - Int64(holdoutDays * 24) + 1
        guard let encoding = recipe.recursiveEncoding else {
            return oneHour(
                readings: try log.all(), current: current, split: split, source: source, progress: progress,
                shouldStop: shouldStop)
        }
        let warmUp = Int64(PRSADataset.steps + maximumGapHours + 1)
        var builder = TrainingSeries.Builder(maximumGapHours: maximumGapHours)
        var recent: [Reading] = []
        var count = 0
        try log.forEachByStation { r in
            count += 1
            if r.hour < split { builder.add(r) }
            if r.hour >= split - warmUp { recent.append(r) }
        }
        let own = builder.finish()
        stage(.read(readings: count, trainingHours: own.rowCount, heldOutReadings: recent.count))
        let hours = 8
        let trainCount = own.originCount(steps: PRSADataset.steps, hours: hours)
        let heldOutHours = Set(
            recent.lazy.filter { $0.hour >= split }.map { HourKey(station: $0.station, hour: $0.hour) }
        )
        .count
        guard trainCount >= minimumTrainingWindows, heldOutHours >= minimumHoldoutWindows else {
            return .tooLittleData(
                "\(count) readings give \(trainCount) training windows (need \(minimumTrainingWindows)) and "
                    + "\(heldOutHours) station-hours in the last \(holdoutDays) days (need \(minimumHoldoutWindows))")
        }
        let logged = Set(own.segments.map(\.station))
        let series = Self.pooled(own, prior: prior.filter { !logged.contains($0.station) }, before: split)
        stage(.training(samples: series.originCount(steps: PRSADataset.steps, hours: hours)))
        let result = RecursiveTrainer(recipe: recipe, seed: seed).train(
            series, encoding: encoding, epochDone: progress, shouldStop: shouldStop)
        let first = series.segments.map(\.firstHour).min()!
        let last = series.segments.map(\.lastHour).max()!
        let candidate = ModelFile(
            recursive: result, encoding: encoding, recipe: recipe, seed: seed, dataSource: source, firstHour: first,
            lastHour: last, course: course)
        let scored = spread(recent)
        stage(.scoring(origins: heldOutHours, stations: Set(scored.map(\.station)).count))
        let scores = Self.score(
            candidate: candidate, current: current, readings: scored, from: split, maximumGapHours: maximumGapHours,
            biasCorrectionDays: biasCorrectionDays)
        return .scored(candidate: candidate, scores: scores, trainWindows: result.trainSamples, firstHeldOutHour: split)
    }

    /// What became of a refit: the model to write, and the held-out RMSE (µg/m³, forecast hours
    /// 1-8) of the refit and of the candidate it would replace, or why the candidate stays.
    public enum Refit: Sendable {
        case refitted(ModelFile, rmse: Double, candidateRMSE: Double)
        case kept(reason: String)
    }

    /// Once the gate has promoted `candidate`, trains the same recipe with the same seed on every
    /// hour of the log, the held-out weeks included (the newest weeks are what a deployment most
    /// needs to learn, and the decision was made without them), pooled with `prior` up to the
    /// log's newest hour. Nothing is left to judge the refit on, so it is only checked for a
    /// training that went wrong: on the held-out weeks, which it has now seen, its RMSE must not
    /// be above the candidate's, or the candidate is kept. Only for a recursive recipe.
    public func refit(
        log: ReadingLog, candidate: ModelFile, course: PRSADataset, source: String,
        prior: [TrainingSeries.Segment] = [], stage: (Stage) -> Void = { _ in },
        progress: (EpochReport) -> Void = { _ in }, shouldStop: () -> Bool = { false }
    ) throws -> Refit {
        guard let encoding = recipe.recursiveEncoding else { return .kept(reason: "a one-hour recipe is not refitted") }
        guard let newest = try log.newestHour() else { return .kept(reason: "the reading log is empty") }
        let split = newest - Int64(holdoutDays * 24) + 1
        let warmUp = Int64(PRSADataset.steps + maximumGapHours + 1)
        var builder = TrainingSeries.Builder(maximumGapHours: maximumGapHours)
        var recent: [Reading] = []
        try log.forEachByStation { r in
            builder.add(r)
            if r.hour >= split - warmUp { recent.append(r) }
        }
        let own = builder.finish()
        let logged = Set(own.segments.map(\.station))
        let series = Self.pooled(own, prior: prior.filter { !logged.contains($0.station) }, before: newest + 1)
        stage(.refitting(samples: series.originCount(steps: PRSADataset.steps, hours: 8)))
        let result = RecursiveTrainer(recipe: recipe, seed: seed).train(
            series, encoding: encoding, epochDone: progress, shouldStop: shouldStop)
        if shouldStop() { return .kept(reason: "the refit was interrupted") }
        let model = ModelFile(
            recursive: result, encoding: encoding, recipe: recipe, seed: seed, dataSource: source,
            firstHour: series.segments.map(\.firstHour).min()!, lastHour: series.segments.map(\.lastHour).max()!,
            course: course)
        let check = Self.score(
            candidate: model, current: candidate, readings: spread(recent), from: split,
            maximumGapHours: maximumGapHours, biasCorrectionDays: biasCorrectionDays)
        guard check.candidate <= check.current else {
            return .kept(
                reason: "the refit's held-out RMSE \(formatFixed(check.candidate, 2)) is above the candidate's "
                    + "\(formatFixed(check.current, 2)) µg/m³, though it trained on those weeks")
        }
        return .refitted(model, rmse: check.candidate, candidateRMSE: check.current)
    }

    /// The log's segments and the prior ones cut before `before` (runs left too short dropped).
    static func pooled(_ own: TrainingSeries, prior: [TrainingSeries.Segment], before: Int64) -> TrainingSeries {
        let f = Feature.allCases.count
        var segments = own.segments
        for var p in prior where p.firstHour < before {
            let rows = Int(min(Int64(p.rowCount), before - p.firstHour))
            guard rows > TrainingSeries.Builder.defaultMinimumRows else { continue }
            p.raw.removeSubrange((rows * f)...)
            segments.append(p)
        }
        return TrainingSeries(segments: segments)
    }

    private struct HourKey: Hashable {
        var station: String
        var hour: Int64
    }

    /// The one-hour recipes (`default`, `seed`): trained on every window of the log's
    /// training side.
    func oneHour(
        readings: [Reading], current: ModelFile, split: Int64, source: String,
        progress: (EpochReport) -> Void, shouldStop: () -> Bool
    ) -> Outcome {
        let newest = readings.map(\.hour).max() ?? split
        let series = LogSeries(
            readings: readings, holdoutHours: Int(newest - split + 1), maximumGapHours: maximumGapHours)
        let trainCount = series.trainingWindowCount
        let holdoutCount = series.holdoutWindowCount
        guard trainCount >= minimumTrainingWindows, holdoutCount >= minimumHoldoutWindows else {
            return .tooLittleData(
                "\(readings.count) readings give \(trainCount) training windows (need \(minimumTrainingWindows)) and "
                    + "\(holdoutCount) held-out windows in the last \(holdoutDays) days (need \(minimumHoldoutWindows))"
            )
        }
        let normalisation = series.fittedNormalisation()
        let data = series.trainingWindows(normalisation)!
        let result = Trainer(recipe: recipe, seed: seed).train(
            data: data, normalisation: normalisation, epochDone: progress, shouldStop: shouldStop)
        let runs = EvaluationRuns(
            network: result.network, segments: series.holdoutWindows(normalisation), normalisation: normalisation)
        let first = series.training.map(\.firstHour).min()!
        let info = ModelFile.TrainingInfo(
            recipe: recipe, seed: seed, dataSource: source, firstHour: isoHour(first),
            lastHour: isoHour(series.splitHour - 1), trainWindows: result.trainWindowCount,
            validationWindows: result.validationWindowCount, bestEpoch: result.bestEpoch, history: result.history,
            stopReason: result.stopReason)
        let candidate = ModelFile(
            network: result.network, steps: PRSADataset.steps, normalisation: normalisation, training: info,
            evaluation: runs.summary,
            residualQuantiles: .init(levels: EvaluationSummary.quantileLevels, byHorizon: runs.liveResidualQuantiles))
        let warmUp = Int64(PRSADataset.steps + maximumGapHours + 1)
        let recent = spread(readings.filter { $0.hour >= series.splitHour - warmUp })
        let scores = Self.score(
            candidate: candidate, current: current, readings: recent, from: series.splitHour,
            maximumGapHours: maximumGapHours, biasCorrectionDays: biasCorrectionDays)
        return .scored(
            candidate: candidate, scores: scores, trainWindows: trainCount, firstHeldOutHour: series.splitHour)
    }
}
