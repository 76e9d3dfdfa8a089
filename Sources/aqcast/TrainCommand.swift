import AirQuality
import ArgumentParser
import CommandSupport
import DeepRNN
import Foundation
import ModelStore
import Synchronization
import Training

/// Set by SIGINT so training can stop between batches and keep its best weights.
let interruptRequested = Atomic<Bool>(false)

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a model on a PRSA-format CSV and write a model file.")

    @OptionGroup var dataOptions: DataOptions

    @Option(
        help:
            "Training recipe: seed (the course's, exactly), default (one hour ahead) or recursive (ours: 8 hours unrolled, log PM2.5, pooled over stations)."
    )
    var recipe: String = "default"

    @Option(
        help:
            "With --recipe recursive: a history CSV to train on, PRSA or multi-site layout (repeatable; default: every shipped file)."
    )
    var csv: [String] = []

    @Option(
        help:
            "With --recipe recursive: train on hours before this UTC date (yyyy-mm-dd); later ones are validation months."
    )
    var trainBefore: String = "2015-09-01"

    @Option(
        help: "With --recipe recursive: train on a PRSA-layout file's hours before this date (its test year follows).")
    var prsaTrainBefore: String = "2014-01-01"

    @Option(
        help:
            "With --recipe recursive: the inputs the model takes, pm25 and any of dew_point, temperature, pressure, wind_direction, wind_speed, comma-separated, or all."
    )
    var inputs: String = "all"

    @Option(help: "Random seed; the same seed gives the same model.")
    var seed: UInt64 = 1

    @Option(help: "Override the recipe's number of epochs.")
    var epochs: Int?

    @Option(help: "Override the recipe's hidden layer sizes, e.g. 2,2.")
    var hidden: String?

    @Option(
        help: """
            With --recipe recursive: this share of the samples (0...1) gets the weather of its hours \
            ahead as an ordinary weather forecast would give it (the true weather with errors \
            growing to 1.5 °C, 30% wind speed and 30° at 8 hours), the rest held weather. Off by \
            default: on the validation months it gained little and lost with poorer forecasts \
            (docs/model.md).
            """)
    var forecastWeatherShare: Double?

    @Flag(
        help: """
            With --recipe recursive: weigh every hour ahead alike in the objective, instead of by \
            the inverse of persistence's error there.
            """)
    var equalHorizonWeights = false

    @Option(
        help: """
            With --recipe recursive: forecast (default) draws the intervals so each band of the \
            forecast's level holds 90%; truth so each band of the true level does (wider).
            """)
    var intervals: String = "forecast"

    @Option(
        help: """
            With --recipe recursive: the scale of the PM2.5 input and output, log1p (the recipe's) \
            or linear (µg/m³ as they are; measured for the bias, docs/model.md).
            """)
    var pm25Scale: String = "log1p"

    @Option(help: "Where to write the model file.")
    var out: String

    @Flag(help: "Print only the final table.")
    var quiet = false

    func validate() throws {
        guard TrainingRecipe.named(recipe) != nil else {
            throw ValidationError("--recipe must be seed, default or recursive, got '\(recipe)'")
        }
        for (name, value) in [("--train-before", trainBefore), ("--prsa-train-before", prsaTrainBefore)]
        where BacktestCommand.hour(value) == nil {
            throw ValidationError("\(name) '\(value)' is not a date (yyyy-mm-dd), UTC")
        }
        if let epochs, !(1...10_000).contains(epochs) { throw ValidationError("--epochs must be 1...10000") }
        if parsedInputs == nil {
            throw ValidationError(
                "--inputs takes all, or pm25 and any of \(InputEncoding.WeatherInput.allCases.map(\.rawValue).joined(separator: ", ")) separated by commas; got '\(inputs)'"
            )
        }
        if inputs != "all", TrainingRecipe.named(recipe)?.recursiveEncoding == nil {
            throw ValidationError("--inputs needs --recipe recursive")
        }
        if let share = forecastWeatherShare {
            guard share.isFinite, (0...1).contains(share) else {
                throw ValidationError("--forecast-weather-share must be 0...1, got \(share)")
            }
            guard TrainingRecipe.named(recipe)?.recursiveEncoding != nil else {
                throw ValidationError("--forecast-weather-share needs --recipe recursive")
            }
        }
        if equalHorizonWeights, TrainingRecipe.named(recipe)?.recursiveEncoding == nil {
            throw ValidationError("--equal-horizon-weights needs --recipe recursive")
        }
        guard ["forecast", "truth"].contains(intervals) else {
            throw ValidationError("--intervals must be forecast or truth, got '\(intervals)'")
        }
        if intervals == "truth", TrainingRecipe.named(recipe)?.recursiveEncoding == nil {
            throw ValidationError("--intervals truth needs --recipe recursive")
        }
        guard let scale = InputEncoding.Scale(rawValue: pm25Scale) else {
            throw ValidationError("--pm25-scale must be log1p or linear, got '\(pm25Scale)'")
        }
        if scale != .log1p, TrainingRecipe.named(recipe)?.recursiveEncoding == nil {
            throw ValidationError("--pm25-scale needs --recipe recursive")
        }
        if hidden != nil, parsedHidden == nil {
            throw ValidationError("--hidden takes sizes 1...512 separated by commas, e.g. 2,2; got '\(hidden!)'")
        }
    }

    /// The weather inputs `--inputs` names: nil when it is not readable, all five for `all`.
    var parsedInputs: [InputEncoding.WeatherInput]? {
        if inputs == "all" { return InputEncoding.WeatherInput.allCases }
        let names = inputs.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard names.first == "pm25", Set(names).count == names.count else { return nil }
        let weather = names.dropFirst().map { InputEncoding.WeatherInput(rawValue: $0) }
        guard weather.allSatisfy({ $0 != nil }) else { return nil }
        return weather.map { $0! }
    }

    var parsedHidden: [Int]? {
        guard let hidden else { return nil }
        let sizes = hidden.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 != nil && (1...512).contains($0!) }) else { return nil }
        return sizes.map { $0! }
    }

    func run() throws {
        var chosen = TrainingRecipe.named(recipe)!
        if let epochs { chosen.epochs = epochs }
        if let sizes = parsedHidden { chosen.hiddenSizes = sizes }
        if let share = forecastWeatherShare { chosen.forecastWeather = ForecastWeatherErrors(share: share) }
        if equalHorizonWeights { chosen.horizonWeightsByPersistence = false }
        if intervals == "truth" { chosen.intervalsByTruthBand = true }
        if var encoding = chosen.recursiveEncoding {
            if inputs != "all" {
                encoding = InputEncoding(pm25: encoding.pm25, wind: encoding.wind, weather: parsedInputs)
            }
            if let scale = InputEncoding.Scale(rawValue: pm25Scale), scale != encoding.pm25 {
                encoding = InputEncoding(pm25: scale, wind: encoding.wind, weather: encoding.weather)
            }
            return try trainRecursive(chosen, encoding: encoding)
        }
        let (dataset, path) = try dataOptions.load()

        signal(SIGINT) { _ in interruptRequested.store(true, ordering: .relaxed) }
        defer { signal(SIGINT, SIG_DFL) }
        let progress = TrainingProgress(epochs: chosen.epochs, quiet: quiet)
        let trainer = Trainer(recipe: chosen, seed: seed)
        let start = Date()
        let result = trainer.train(
            data: dataset.train, normalisation: dataset.normalisation,
            progress: progress.batch, epochDone: progress.epoch,
            shouldStop: { interruptRequested.load(ordering: .relaxed) })
        progress.finish()
        let seconds = Date().timeIntervalSince(start)
        if let reason = result.stopReason { printError("stopped: \(reason); keeping the best weights so far") }
        printError(
            "trained \(chosen.name) recipe, seed \(seed), \(result.network.architecture.parameterCount) parameters, "
                + "best epoch \(result.bestEpoch) of \(result.history.count), \(formatFixed(seconds, 1)) s")

        let model = ModelFile(
            trained: result, dataset: dataset, recipe: chosen, seed: seed,
            dataSource: URL(fileURLWithPath: path).lastPathComponent)
        try model.write(path: out)
        print(model.evaluation.table(), terminator: "")
        printError("wrote \(out)")
    }
}

extension TrainCommand {
    /// Every shipped history: the PRSA file and the six multi-site stations.
    /// The runs of `files`' hours before `trainBefore` (`prsaTrainBefore` for a PRSA-layout
    /// file), each file reported through `say`.
    static func histories(
        _ files: [String], trainBefore: String = "2015-09-01", prsaTrainBefore: String = "2014-01-01",
        say: (String) -> Void
    ) throws -> [TrainingSeries.Segment] {
        var segments: [TrainingSeries.Segment] = []
        for file in files {
            let (layout, readings) = try HistoryFile.readings(path: file)
            let end = BacktestCommand.hour(layout == .prsa ? prsaTrainBefore : trainBefore)!
            let series = TrainingSeries(readings: readings, hours: Int64.min..<end)
            segments += series.segments
            say("\(file): \(series.rowCount) hours before \(isoHour(end)) in \(series.segments.count) runs")
        }
        return segments
    }

    func trainRecursive(_ chosen: TrainingRecipe, encoding: InputEncoding) throws {
        let files = csv.isEmpty ? try ShippedFile.histories() : csv
        let segments = try Self.histories(
            files, trainBefore: trainBefore, prsaTrainBefore: prsaTrainBefore, say: printError)
        let first = segments.map(\.firstHour).min() ?? 0
        let last = segments.map(\.lastHour).max() ?? 0
        let (course, _) = try dataOptions.load()
        signal(SIGINT) { _ in interruptRequested.store(true, ordering: .relaxed) }
        defer { signal(SIGINT, SIG_DFL) }
        let progress = TrainingProgress(epochs: chosen.epochs, quiet: quiet)
        let start = Date()
        let result = RecursiveTrainer(recipe: chosen, seed: seed).train(
            TrainingSeries(segments: segments), encoding: encoding, progress: progress.batch,
            epochDone: progress.epoch, shouldStop: { interruptRequested.load(ordering: .relaxed) })
        if let reason = result.stopReason { printError("stopped: \(reason); keeping the best weights so far") }
        printError(
            "trained \(chosen.name) recipe, seed \(seed), \(result.network.architecture.parameterCount) parameters, "
                + "\(result.trainSamples) training and \(result.validationSamples) validation samples, best epoch "
                + "\(result.bestEpoch) of \(result.history.count), \(formatFixed(Date().timeIntervalSince(start), 1)) s"
        )
        let model = ModelFile(
            recursive: result, encoding: encoding, recipe: chosen, seed: seed,
            dataSource: files.map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: " "),
            firstHour: first, lastHour: last, course: course)
        try model.write(path: out)
        print(model.evaluation.table(), terminator: "")
        printError("wrote \(out)")
    }
}

/// A progress bar on a terminal, one line per epoch otherwise.
final class TrainingProgress {
    let epochs: Int
    let quiet: Bool
    let isTerminal = isatty(STDERR_FILENO) == 1
    private var lastDrawn = -1

    init(epochs: Int, quiet: Bool) {
        self.epochs = epochs
        self.quiet = quiet
    }

    func batch(epoch: Int, batch: Int, batches: Int) {
        guard isTerminal, !quiet else { return }
        let width = 30
        let filled = batch * width / batches
        guard filled != lastDrawn else { return }
        lastDrawn = filled
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write("\repoch \(epoch)/\(epochs) [\(bar)]".data(using: .utf8)!)
    }

    func epoch(_ r: EpochReport) {
        guard !quiet else { return }
        lastDrawn = -1
        let line =
            "epoch \(r.epoch)/\(epochs) train loss \(formatFixed(r.trainLoss, 6)) "
            + "validation loss \(formatFixed(r.validationLoss, 6))\(r.isBest ? " *" : "")"
        if isTerminal {
            FileHandle.standardError.write("\r\u{1B}[K\(line)\n".data(using: .utf8)!)
        } else {
            printError(line)
        }
    }

    func finish() {}
}
