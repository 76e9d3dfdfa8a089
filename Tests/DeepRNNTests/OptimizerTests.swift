import Testing

@testable import DeepRNN

@Suite struct OptimizerTests {
    @Test func sgdDividesTheSummedGradientByTheBatchSize() {
        var opt = Optimizer(kind: .sgd(learningRate: 0.05), parameterCount: 2)
        var p = [1.0, -1.0]
        opt.step(parameters: &p, gradient: [64, -128], batchSize: 64)
        #expect(p == [1.0 - 0.05, -1.0 + 0.1])
    }

    @Test func clippingBoundsTheStepOfAnHugeGradient() {
        var opt = Optimizer(kind: .sgd(learningRate: 1), parameterCount: 2, clipNorm: 1)
        var p = [0.0, 0.0]
        opt.step(parameters: &p, gradient: [3e6, 4e6], batchSize: 1)
        #expect(abs(p[0] + 0.6) < 1e-12 && abs(p[1] + 0.8) < 1e-12)
    }

    @Test func adamFirstStepMovesEachParameterByTheLearningRate() {
        var opt = Optimizer(kind: .adam(learningRate: 0.01), parameterCount: 2)
        var p = [0.0, 0.0]
        opt.step(parameters: &p, gradient: [5, -0.001], batchSize: 1)
        #expect(abs(p[0] + 0.01) < 1e-9 && abs(p[1] - 0.01) < 1e-6)
    }

    @Test func seededGeneratorIsReproducibleAndGaussianLooksStandard() {
        var a = SeededGenerator(seed: 42)
        var b = SeededGenerator(seed: 42)
        #expect((0..<10).map { _ in a.next() } == (0..<10).map { _ in b.next() })
        var g = SeededGenerator(seed: 7)
        let n = 200_000
        let xs = (0..<n).map { _ in g.nextGaussian() }
        let mean = xs.reduce(0, +) / Double(n)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        #expect(abs(mean) < 0.01 && abs(variance - 1) < 0.02)
    }
}
