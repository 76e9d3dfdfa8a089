import Foundation
import Testing

@testable import DeepRNN

/// The recursive objective computed the plain way: window by window, each forecast written
/// into the copy of the sequence the next windows read.
private func recursiveLoss(
    _ net: StackedRNN, _ sequences: [[Double]], _ targets: [Double], steps: Int, hours: Int,
    feedback: RecursiveForecastKernel.Feedback, weights: [Double], exponential: (a: Double, b: Double, c: Double)? = nil
) -> Double {
    func g(_ v: Double) -> Double { exponential.map { (exp($0.a * v + $0.b) - 1) / $0.c } ?? v }
    let f = net.architecture.inputSize
    let ws = RNNWorkspace<Double>(architecture: net.architecture, steps: steps, batchCapacity: 1)
    var loss = 0.0
    for (b, original) in sequences.enumerated() {
        var rows = original
        for k in 0..<hours {
            let z = rows.withUnsafeBufferPointer {
                net.predict(window: UnsafeBufferPointer(rebasing: $0[(k * f)..<((k + steps) * f)]), workspace: ws)
            }
            let d = g(z) - g(targets[b * hours + k])
            loss += weights[k] * d * d / 2
            if k + 1 < hours { rows[(steps + k) * f + feedback.feature] = feedback.scale * z + feedback.offset }
        }
    }
    return loss
}

@Suite struct RecursiveObjectiveTests {
    /// Every parameter's gradient, through the direct path and every fed-back forecast, against
    /// central finite differences of the plain recursive loss.
    /// With and without the exponential output (the error taken in µg/m³ of a log-space model).
    @Test(arguments: [
        (
            RNNArchitecture(
                inputSize: 4, hiddenSizes: [3, 2], biases: true,
                skip: .init(feature: 0, scale: 1, offset: 0)), UInt64(4), false
        ),
        (RNNArchitecture(inputSize: 3, hiddenSizes: [4], biases: false), UInt64(5), false),
        (
            RNNArchitecture(
                inputSize: 4, hiddenSizes: [3, 2], biases: true,
                skip: .init(feature: 0, scale: 1, offset: 0)), UInt64(6), true
        ),
    ])
    func matchesFiniteDifferencesForEveryParameter(architecture: RNNArchitecture, seed: UInt64, exponential: Bool) {
        let transform: (a: Double, b: Double, c: Double)? = exponential ? (a: 6.9, b: 0.1, c: 100) : nil
        var rng = SeededGenerator(seed: seed)
        let steps = 5
        let hours = 4
        let batch = 3
        let feedback = RecursiveForecastKernel.Feedback(feature: 0, scale: 0.8, offset: 0.05)
        let weights = [1, 0.5, 2, 1.5]
        var net = StackedRNN.initialised(architecture, scheme: .scaled, using: &rng)
        for i in net.parameters.indices { net.parameters[i] += Double.random(in: -0.3...0.3, using: &rng) }
        let f = architecture.inputSize
        let sequences = (0..<batch).map { _ in
            (0..<((steps + hours - 1) * f)).map { _ in Double.random(in: 0...1, using: &rng) }
        }
        let targets = (0..<(batch * hours)).map { _ in Double.random(in: 0...1, using: &rng) }
        let objective = RecursiveObjective<Double>(
            architecture: architecture, steps: steps, hours: hours, feedback: feedback, batchCapacity: 8,
            exponentialOutput: transform)
        var gradient = [Double](repeating: 0, count: architecture.parameterCount)
        let loss = targets.withUnsafeBufferPointer { t in
            gradient.withUnsafeMutableBufferPointer { g in
                objective.accumulate(
                    net, count: batch, sequences: { b in sequences[b].withUnsafeBufferPointer { $0 } },
                    targets: t.baseAddress!, weights: weights, into: g.baseAddress!)
            }
        }
        let plain = recursiveLoss(
            net, sequences, targets, steps: steps, hours: hours, feedback: feedback, weights: weights,
            exponential: transform)
        #expect(abs(loss - plain) < 1e-12 * max(1, abs(plain)), "objective \(loss) vs plain \(plain)")
        // Without a gradient to fill (validation), the same objective from the forward passes.
        let lossOnly = targets.withUnsafeBufferPointer { t in
            objective.accumulate(
                net, count: batch, sequences: { b in sequences[b].withUnsafeBufferPointer { $0 } },
                targets: t.baseAddress!, weights: weights, into: nil)
        }
        #expect(lossOnly == loss)
        let h = 1e-5
        for i in net.parameters.indices {
            var plus = net
            plus.parameters[i] += h
            var minus = net
            minus.parameters[i] -= h
            let numeric =
                (recursiveLoss(
                    plus, sequences, targets, steps: steps, hours: hours, feedback: feedback, weights: weights,
                    exponential: transform)
                    - recursiveLoss(
                        minus, sequences, targets, steps: steps, hours: hours, feedback: feedback, weights: weights,
                        exponential: transform)) / (2 * h)
            #expect(
                abs(gradient[i] - numeric) < 1e-6 * max(1, abs(numeric)),
                "parameter \(i): backprop \(gradient[i]) vs finite difference \(numeric)")
        }
    }
}
