import AirQuality
import DeepRNN

/// The epochs both trainers run: each epoch shuffles, trains its batches, decays the learning
/// rate, scores the validation set and keeps the best weights; training stops early after
/// `patience` epochs without a better validation loss, or between batches when asked to. With
/// ``TrainingRecipe/averagedWeights``, the weights validated and kept are a moving average over
/// about the last epoch's batches (each batch moves it `1/batches` of the way).
struct EpochLoop {
    var recipe: TrainingRecipe
    /// Batches an epoch, and the samples they hold (for the mean training loss).
    var batches: Int
    var samples: Int

    struct Outcome {
        var best: StackedRNN
        var bestEpoch: Int
        var history: [EpochReport]
        var stopReason: String?
    }

    /// `shuffle` runs at the start of each epoch; `train(batch)` trains one batch on `network`
    /// and returns its summed loss; `validate()` scores the current `network`.
    func run(
        network: inout StackedRNN, optimizer: inout Optimizer, shuffle: () -> Void,
        train: (Int, inout StackedRNN, inout Optimizer) -> Double, validate: (StackedRNN) -> Double,
        progress: (Int, Int, Int) -> Void, epochDone: (EpochReport) -> Void, shouldStop: () -> Bool
    ) -> Outcome {
        var best = network
        var bestLoss = validate(network)
        let averaging = recipe.averagedWeights ?? false
        var average = network
        let share = 1 / Double(max(1, batches))
        var outcome = Outcome(best: network, bestEpoch: 0, history: [], stopReason: nil)
        var sinceBest = 0
        epochs: for epoch in 1...max(1, recipe.epochs) {
            shuffle()
            var lossSum = 0.0
            for batch in 0..<batches {
                if shouldStop() {
                    outcome.stopReason = "interrupted during epoch \(epoch)"
                    break epochs
                }
                lossSum += train(batch, &network, &optimizer)
                if averaging {
                    for i in average.parameters.indices {
                        average.parameters[i] += (network.parameters[i] - average.parameters[i]) * share
                    }
                }
                progress(epoch, batch + 1, batches)
            }
            if recipe.learningRateDecay != 1 { optimizer.scaleLearningRate(by: recipe.learningRateDecay) }
            let scored = averaging ? average : network
            let loss = validate(scored)
            let improved = loss < bestLoss
            if improved {
                best = scored
                bestLoss = loss
                outcome.bestEpoch = epoch
                sinceBest = 0
            } else {
                sinceBest += 1
            }
            let report = EpochReport(
                epoch: epoch, trainLoss: lossSum / Double(samples), validationLoss: loss, isBest: improved)
            outcome.history.append(report)
            epochDone(report)
            if let patience = recipe.patience, sinceBest >= patience {
                outcome.stopReason = "no better validation loss for \(patience) epochs"
                break
            }
        }
        outcome.best = best
        return outcome
    }
}
