import AirQuality
import DeepRNN
import Foundation

/// `aqcast retrain`: a candidate trained on the reading log (all stations pooled, the newest
/// days held out), then the candidate, the current model and persistence scored on the held-out
/// days under the live protocol (weather held at its last value, as the daemon forecasts). The
/// score is the RMSE over 8-hour recursive blocks, in µg/m³; the candidate is promoted only if
/// it is lower than both others.
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

    /// Live protocol, p = 8: model and persistence RMSE (µg/m³) of `network` on `segments`.
    static func score(_ network: StackedRNN, _ series: LogSeries, _ normalisation: Normalisation)
        -> (runs: EvaluationRuns, model: Double, persistence: Double)
    {
        let runs = EvaluationRuns(network: network, segments: series.holdoutWindows(normalisation),
                                  normalisation: normalisation)
        let live = runs.summary.protocols.first { $0.weather == .live && $0.p == EvaluationSummary.predictionLengths.max()! }!
        return (runs, live.modelRmse, live.persistenceRmse)
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
        let (runs, candidateRMSE, persistenceRMSE) = Self.score(result.network, series, normalisation)
        let currentRMSE = Self.score(current.network, series, current.normalisation).model
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
        return .scored(candidate: candidate, candidateRMSE: candidateRMSE, currentRMSE: currentRMSE,
                       persistenceRMSE: persistenceRMSE, trainWindows: trainCount, holdoutWindows: holdoutCount)
    }
}
