import AirQuality
import DeepRNN
import Foundation

/// `aqcast retrain`: a candidate trained on the reading log (all stations pooled, the newest
/// days held out), then the candidate, the current model and persistence scored on the held-out
/// days through the daemon's own engine (weather held at its last value, as the daemon
/// forecasts). The score is the RMSE over every forecast hour 1...8 from every held-out origin,
/// in µg/m³; the candidate is promoted only if it is lower than both others.
public struct Retraining: Sendable {
    public var recipe: TrainingRecipe
    public var seed: UInt64
    public var holdoutDays: Int
    public var maximumGapHours: Int
    /// Below these the result would be noise: nothing is trained.
    public var minimumTrainingWindows: Int
    public var minimumHoldoutWindows: Int

    public init(recipe: TrainingRecipe, seed: UInt64, holdoutDays: Int, maximumGapHours: Int,
                minimumTrainingWindows: Int = 2_000, minimumHoldoutWindows: Int = 96) {
        self.recipe = recipe
        self.seed = seed
        self.holdoutDays = holdoutDays
        self.maximumGapHours = maximumGapHours
        self.minimumTrainingWindows = minimumTrainingWindows
        self.minimumHoldoutWindows = minimumHoldoutWindows
    }

    public enum Outcome: Sendable {
        case tooLittleData(String)
        /// The candidate and the three scores; `promote` when it beat both.
        case scored(candidate: ModelFile, candidateRMSE: Double, currentRMSE: Double, persistenceRMSE: Double,
                    trainWindows: Int, holdoutWindows: Int)
    }

    /// RMSE (µg/m³) of `model` and of persistence over every forecast hour 1...8 from every
    /// origin from `split` on, through the daemon's own engine (``Backtest``): the candidate,
    /// the current model and persistence are scored on exactly the same pairs, whatever inputs
    /// each model takes.
    static func score(_ model: ModelFile, readings: [Reading], from split: Int64, maximumGapHours: Int)
        -> (model: Double, persistence: Double, pairs: Int)
    {
        var options = Backtest.Options()
        options.from = split
        options.maximumGapHours = maximumGapHours
        let report = Backtest.run(model: model, modelName: "", readings: readings, options: options)
        let sums = report.pooled.byHorizon
        let n = Double(max(1, sums.map(\.count).reduce(0, +)))
        return ((sums.map(\.squaredModel).reduce(0, +) / n).squareRoot(),
                (sums.map(\.squaredPersistence).reduce(0, +) / n).squareRoot(), Int(n))
    }

    public func run(readings: [Reading], current: ModelFile, source: String,
                    progress: (EpochReport) -> Void = { _ in }, shouldStop: () -> Bool = { false }) -> Outcome {
        let series = LogSeries(readings: readings, holdoutHours: holdoutDays * 24, maximumGapHours: maximumGapHours)
        let trainCount = series.trainingWindowCount
        let holdoutCount = series.holdoutWindowCount
        guard trainCount >= minimumTrainingWindows, holdoutCount >= minimumHoldoutWindows else {
            return .tooLittleData(
                "\(readings.count) readings give \(trainCount) training windows (need \(minimumTrainingWindows)) and "
                    + "\(holdoutCount) held-out windows in the last \(holdoutDays) days (need \(minimumHoldoutWindows))")
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
        let recent = readings.filter { $0.hour >= series.splitHour - warmUp }
        let (candidateRMSE, persistenceRMSE, _) = Self.score(
            candidate, readings: recent, from: series.splitHour, maximumGapHours: maximumGapHours)
        let currentRMSE = Self.score(current, readings: recent, from: series.splitHour, maximumGapHours: maximumGapHours).model
        return .scored(candidate: candidate, candidateRMSE: candidateRMSE, currentRMSE: currentRMSE,
                       persistenceRMSE: persistenceRMSE, trainWindows: trainCount, holdoutWindows: holdoutCount)
    }
}
