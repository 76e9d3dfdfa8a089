import AirQuality
import CFloatEnvironment
import DeepRNN

/// What training produced: the best network by validation loss, and how it got there.
public struct TrainingResult: Sendable {
    public var network: StackedRNN
    public var history: [EpochReport]
    public var bestEpoch: Int
    public var trainWindowCount: Int
    public var validationWindowCount: Int
    /// Why training ended before its last epoch, if it did.
    public var stopReason: String?
}

/// Trains a ``StackedRNN`` on windows by a ``TrainingRecipe``; deterministic for a given seed.
public struct Trainer: Sendable {
    public var recipe: TrainingRecipe
    public var seed: UInt64

    public init(recipe: TrainingRecipe, seed: UInt64) {
        self.recipe = recipe
        self.seed = seed
    }

    /// Trains on `data`. `progress` is called after every batch with (epoch, batch, batches) and
    /// `epochDone` after every epoch; `shouldStop` is polled between batches, and when it says
    /// yes the best weights so far are returned.
    public func train(
        data: WindowedData, normalisation: Normalisation,
        progress: (Int, Int, Int) -> Void = { _, _, _ in },
        epochDone: (EpochReport) -> Void = { _ in },
        shouldStop: () -> Bool = { false }
    ) -> TrainingResult {
        let previous = aq_float_environment()
        defer { aq_set_float_environment(previous) }
        _ = aq_flush_subnormals_to_zero()
        var rng = SeededGenerator(seed: seed)
        let architecture = recipe.architecture(inputSize: data.featureCount, normalisation: normalisation)
        var network = StackedRNN.initialised(architecture, scheme: recipe.initialisation, using: &rng)

        let training: WindowedData
        let validation: WindowedData
        switch recipe.validation {
        case .resampledFromTraining(let count):
            training = data
            validation = data.selecting((0..<count).map { _ in Int.random(in: 0..<data.count, using: &rng) })
        case .heldOutBlocks(let blockHours, let every):
            (training, validation) = data.blockedValidationSplit(blockHours: blockHours, every: every)
        }

        var optimizer = Optimizer(
            kind: recipe.optimizer, parameterCount: architecture.parameterCount,
            clipNorm: recipe.clipNorm)
        let batchSize = recipe.batchSize
        let workspace = RNNWorkspace<Float>(architecture: architecture, steps: data.steps, batchCapacity: batchSize)
        var order = Array(0..<training.count)
        var gradient = [Double](repeating: 0, count: architecture.parameterCount)
        var targets = [Double](repeating: 0, count: batchSize)
        let batches = (training.count + batchSize - 1) / batchSize

        let loop = EpochLoop(recipe: recipe, batches: batches, samples: training.count)
        let outcome = loop.run(
            network: &network, optimizer: &optimizer, shuffle: { order.shuffle(using: &rng) },
            train: { batch, network, optimizer in
                let start = batch * batchSize
                let end = min(start + batchSize, order.count)
                for (slot, k) in (start..<end).enumerated() {
                    let w = order[k]
                    training.withFloatWindow(w) { workspace.load($0, at: slot) }
                    targets[slot] = training.target(w)
                    if let maxHours = recipe.frozenWeatherHours, maxHours > 0,
                        Double.random(in: 0..<1, using: &rng) < recipe.frozenWeatherShare
                    {
                        freezeWeather(workspace, sample: slot, hours: Int.random(in: 1...maxHours, using: &rng))
                    }
                }
                for i in gradient.indices { gradient[i] = 0 }
                let loss = targets.withUnsafeBufferPointer { t in
                    gradient.withUnsafeMutableBufferPointer { g in
                        network.accumulateGradient(
                            workspace, count: end - start, targets: t.baseAddress!, into: g.baseAddress!)
                    }
                }
                optimizer.step(parameters: &network.parameters, gradient: gradient, batchSize: end - start)
                return loss
            },
            validate: { Evaluation.loss(of: $0, on: validation, workspace: workspace) },
            progress: progress, epochDone: epochDone, shouldStop: shouldStop)
        let best = outcome.best
        let history = outcome.history
        let bestEpoch = outcome.bestEpoch
        let stopReason = outcome.stopReason
        return TrainingResult(
            network: best, history: history, bestEpoch: bestEpoch, trainWindowCount: training.count,
            validationWindowCount: validation.count, stopReason: stopReason)
    }
}

/// Replaces the last `hours` steps' weather inputs of a loaded sample by the values `hours`
/// steps before the end, as the live protocol (and the daemon) holds weather at the last
/// observation.
func freezeWeather<S: RNNScalar>(_ workspace: RNNWorkspace<S>, sample: Int, hours: Int) {
    guard hours > 0 else { return }
    let stepCount = workspace.steps
    for f in 0..<workspace.architecture.inputSize where f != Feature.pm25.rawValue {
        let held = workspace.inputValue(sample: sample, step: stepCount - 1 - hours, feature: f)
        for step in (stepCount - hours)..<stepCount { workspace.setInput(held, sample: sample, step: step, feature: f) }
    }
}
