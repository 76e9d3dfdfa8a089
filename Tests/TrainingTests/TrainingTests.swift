import DeepRNN
import Testing

@testable import AirQuality
@testable import Training

@Suite struct TrainingTests {
    let data = try! PRSADataset(csv: syntheticCSV(hours: 600), file: "synthetic")

    func quick(_ recipe: TrainingRecipe, epochs: Int) -> TrainingRecipe {
        var r = recipe
        r.epochs = epochs
        r.patience = nil
        if case .resampledFromTraining = r.validation { r.validation = .resampledFromTraining(count: 50) }
        if case .heldOutBlocks = r.validation { r.validation = .heldOutBlocks(blockHours: 48, every: 4) }
        return r
    }

    @Test(arguments: ["seed", "default"])
    func sameSeedGivesTheSameModelAndAnotherSeedDoesNot(_ name: String) {
        let recipe = quick(TrainingRecipe.named(name)!, epochs: 2)
        let a = Trainer(recipe: recipe, seed: 3).train(data: data.train, normalisation: data.normalisation)
        let b = Trainer(recipe: recipe, seed: 3).train(data: data.train, normalisation: data.normalisation)
        let c = Trainer(recipe: recipe, seed: 4).train(data: data.train, normalisation: data.normalisation)
        #expect(a.network == b.network && a.history == b.history)
        #expect(a.network != c.network)
    }

    /// Training flushes subnormals to zero on its thread for speed, and puts the caller's mode
    /// back when it returns: half the smallest normal Float is a subnormal before and after.
    @Test func trainingLeavesTheCallersFloatingPointModeAsItWas() {
        #expect(halved(Float.leastNormalMagnitude) != 0, "this thread flushes subnormals before training")
        _ = Trainer(recipe: quick(.default, epochs: 1), seed: 1).train(
            data: data.train, normalisation: data.normalisation)
        #expect(halved(Float.leastNormalMagnitude) != 0, "training left this thread flushing subnormals to zero")
    }

    @Test func defaultRecipeLowersTheValidationLoss() {
        let recipe = quick(.default, epochs: 15)
        let result = Trainer(recipe: recipe, seed: 1).train(data: data.train, normalisation: data.normalisation)
        let first = result.history.first!.validationLoss
        let best = result.history.map(\.validationLoss).min()!
        #expect(best < first * 0.8, "validation loss \(first) -> \(best)")
        #expect(result.history.count == 15 && result.stopReason == nil)
    }

    @Test func stopRequestKeepsTheBestWeightsSoFar() {
        var calls = 0
        let recipe = quick(.default, epochs: 50)
        let result = Trainer(recipe: recipe, seed: 1).train(
            data: data.train, normalisation: data.normalisation,
            shouldStop: {
                calls += 1
                return calls > 20
            })
        #expect(result.stopReason?.hasPrefix("interrupted during epoch") == true)
        #expect(result.history.count < 50)
        #expect(result.network.nonFiniteParameters.isEmpty)
    }

    @Test func earlyStoppingEndsARunThatNoLongerImproves() {
        var recipe = quick(.default, epochs: 200)
        recipe.patience = 2
        recipe.optimizer = .adam(learningRate: 0.5)  // far too large: validation loss stops improving
        let result = Trainer(recipe: recipe, seed: 1).train(data: data.train, normalisation: data.normalisation)
        #expect(result.stopReason == "no better validation loss for 2 epochs")
        #expect(result.history.count < 200)
        #expect(result.history.count == result.bestEpoch + 2)
    }

    @Test func seedRecipeIsTheCoursesNet() {
        let arch = TrainingRecipe.seed.architecture(inputSize: 6, normalisation: data.normalisation)
        #expect(arch == .seedDeep() && arch.parameterCount == 26)
    }
}

@inline(never) private func halved(_ x: Float) -> Float { x / 2 }
