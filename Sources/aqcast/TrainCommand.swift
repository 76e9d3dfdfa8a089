import AirQuality
import ArgumentParser
import DeepRNN
import Foundation
import Synchronization

/// Set by SIGINT so training can stop between batches and keep its best weights.
let interruptRequested = Atomic<Bool>(false)

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a model on a PRSA-format CSV and write a model file.")

    @OptionGroup var dataOptions: DataOptions

    @Option(help: "Training recipe: seed (the course's, exactly) or default (the project's).")
    var recipe: String = "default"

    @Option(help: "Random seed; the same seed gives the same model.")
    var seed: UInt64 = 1

    @Option(help: "Override the recipe's number of epochs.")
    var epochs: Int?

    @Option(help: "Override the recipe's hidden layer sizes, e.g. 2,2.")
    var hidden: String?

    @Option(help: "Where to write the model file.")
    var out: String

    @Flag(help: "Print only the final table.")
    var quiet = false

    func validate() throws {
        guard TrainingRecipe.named(recipe) != nil else {
            throw ValidationError("--recipe must be seed or default, got '\(recipe)'")
        }
        if let epochs, !(1...10_000).contains(epochs) { throw ValidationError("--epochs must be 1...10000") }
        if hidden != nil, parsedHidden == nil {
            throw ValidationError("--hidden takes sizes 1...512 separated by commas, e.g. 2,2; got '\(hidden!)'")
        }
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
        let line = "epoch \(r.epoch)/\(epochs) train loss \(formatFixed(r.trainLoss, 6)) "
            + "validation loss \(formatFixed(r.validationLoss, 6))\(r.isBest ? " *" : "")"
        if isTerminal {
            FileHandle.standardError.write("\r\u{1B}[K\(line)\n".data(using: .utf8)!)
        } else {
            printError(line)
        }
    }

    func finish() {}
}
