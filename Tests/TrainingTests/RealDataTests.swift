import DeepRNN
import Testing

@testable import AirQuality
@testable import Training

@Suite struct RealDataTests {
    let data = Repository.dataset

    @Test func hasTheCoursesRowAndWindowCounts() {
        #expect(data.records.count == 43_824)
        #expect(data.records.filter { $0.pm25 == nil }.count == 2_067)
        #expect(data.trainRowCount == 35_064)
        #expect(data.train.count == 35_040 && data.test.count == 8_736)
    }

    @Test func featureRangesAreTheOnesSpecLists() {
        let mins = [0, -40, -19, 991, 0, 0.45]
        let maxs = [994, 28, 42, 1046, 9, 20.12]
        for f in 0..<6 {
            #expect(abs(data.normalisation.features[f].min - mins[f]) < 1e-5, "feature \(f) min")
            #expect(abs(data.normalisation.features[f].max - maxs[f]) < 1e-5, "feature \(f) max")
        }
        #expect(data.normalisation.target == MinMaxRange(min: 0, max: 994))
    }

    @Test func leadingGapIsInterpolatedUpFromZero() {
        // Rows 0..23 are NA and row 24 is 129: 5.16, 10.32, ..., 123.84.
        for r in 0..<24 {
            #expect(abs(data.series.feature(.pm25, row: r) - 5.16 * Double(r + 1)) < 1e-4)
        }
        #expect(data.series.feature(.pm25, row: 24) == 129)
    }

    /// Persistence needs no training, so the course's persistence column (docs/course.md) checks the whole pipeline
    /// (preparation, split, normalisation, windows, blocks, metrics) to the printed digits.
    @Test func persistenceReproducesSpecsTable() {
        let expected: [Int: (loss: Double, r2: Double, rmse: Double)] = [
            8: (0.001352, 0.697076, 51.7), 4: (0.000696, 0.844077, 37.1),
            2: (0.000394, 0.911641, 27.9), 1: (0.000243, 0.945480, 21.9),
        ]
        let zero = StackedRNN(architecture: .seedDeep(), parameters: .init(repeating: 0, count: 26))
        for (p, e) in expected {
            let r = Evaluation.recursive(zero, on: data.test, p: p, weather: .oracle, normalisation: data.normalisation)
                .result(normalisation: data.normalisation)
            #expect(abs(r.persistence.loss - e.loss) < 5e-7, "p=\(p) loss \(r.persistence.loss)")
            #expect(abs(r.persistence.r2 - e.r2) < 5e-6, "p=\(p) R^2 \(r.persistence.r2)")
            #expect(abs(r.persistenceRmse - e.rmse) < 0.05, "p=\(p) RMSE \(r.persistenceRmse)")
        }
    }
}

@Suite struct RecursiveEvaluationTests {
    /// A net whose output is exactly its last PM2.5 input (skip link, all weights zero).
    func echoNet(_ n: Normalisation) -> StackedRNN {
        let link = n.persistenceSkip
        let a = RNNArchitecture(
            inputSize: 6, hiddenSizes: [2], biases: false,
            skip: .init(feature: 0, scale: link.scale, offset: link.offset))
        return StackedRNN(architecture: a, parameters: .init(repeating: 0, count: a.parameterCount))
    }

    @Test func predictionsAreFedBackWithinABlock() throws {
        let data = try PRSADataset(csv: syntheticCSV(hours: 200), file: "synthetic")
        // Fed its own output, the echo net must repeat the block origin's value at every
        // horizon, i.e. equal block persistence; fed true values it would not.
        let run = Evaluation.recursive(
            echoNet(data.normalisation), on: data.test, p: 4, weather: .oracle,
            normalisation: data.normalisation)
        #expect(run.predictions.count == data.test.count - data.test.count % 4)
        let worst = zip(run.predictions, run.persistence).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-6, "largest difference from persistence \(worst)")  // Float arithmetic
        let oneStep = Evaluation.recursive(
            echoNet(data.normalisation), on: data.test, p: 1, weather: .oracle,
            normalisation: data.normalisation)
        #expect(oneStep.predictions != Array(run.predictions.prefix(oneStep.predictions.count)))
    }

    @Test func liveProtocolHoldsWeatherAtTheOriginsValue() throws {
        let data = try PRSADataset(csv: syntheticCSV(hours: 200), file: "synthetic")
        // A net that reads only temperature (feature 2) at the last step: z = V s, s = tanh(u x).
        let a = RNNArchitecture(inputSize: 6, hiddenSizes: [1], biases: false)
        var p = [Double](repeating: 0, count: a.parameterCount)
        p[a.layout.inputWeights[0] + 2] = 1
        p[a.layout.outputWeights] = 1
        let net = StackedRNN(architecture: a, parameters: p)
        let live = Evaluation.recursive(net, on: data.test, p: 3, weather: .live, normalisation: data.normalisation)
        let oracle = Evaluation.recursive(net, on: data.test, p: 3, weather: .oracle, normalisation: data.normalisation)
        for block in stride(from: 0, to: live.predictions.count, by: 3) {
            // Live: all three horizons see the origin's temperature; oracle sees the true one.
            #expect(live.predictions[block + 1] == live.predictions[block])
            #expect(live.predictions[block + 2] == live.predictions[block])
            #expect(oracle.predictions[block] == live.predictions[block])
        }
        #expect(oracle.predictions != live.predictions)
    }

    @Test func metricsFollowTheCoursesDefinitions() {
        let m = RegressionMetrics(predictions: [1, 2, 4], targets: [1, 3, 2])
        // sq = 0 + 1 + 4 = 5; mse = 5/3; var(y) = ((1-2)^2 + 1 + 0) / 3 = 2/3.
        #expect(abs(m.loss - 5.0 / 6) < 1e-12)
        #expect(abs(m.r2 - (1 - 2.5)) < 1e-12)
        #expect(abs(m.rmse - (5.0 / 3).squareRoot()) < 1e-12)
    }
}
