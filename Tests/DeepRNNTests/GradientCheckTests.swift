import Testing

@testable import DeepRNN

/// Loss of the batch in `windows` with the given parameters (forward pass only).
private func batchLoss(_ net: StackedRNN, _ windows: [[Double]], _ targets: [Double], steps: Int) -> Double {
    let ws = RNNWorkspace<Double>(architecture: net.architecture, steps: steps, batchCapacity: windows.count)
    for (b, w) in windows.enumerated() { w.withUnsafeBufferPointer { ws.load($0, at: b) } }
    net.forward(ws, count: windows.count)
    var loss = 0.0
    for b in windows.indices {
        let d = ws.output(b) - targets[b]
        loss += d * d / 2
    }
    return loss
}

private func checkGradients(_ architecture: RNNArchitecture, seed: UInt64) {
    var rng = SeededGenerator(seed: seed)
    let steps = 5
    let batch = 3
    var net = StackedRNN.initialised(architecture, scheme: .standardNormal, using: &rng)
    // Non-zero biases, so their gradient paths are exercised too.
    for i in net.parameters.indices where net.parameters[i] == 0 {
        net.parameters[i] = Double.random(in: -0.5...0.5, using: &rng)
    }
    let windows = (0..<batch).map { _ in
        (0..<(steps * architecture.inputSize)).map { _ in Double.random(in: 0...1, using: &rng) }
    }
    let targets = (0..<batch).map { _ in Double.random(in: 0...1, using: &rng) }

    let ws = RNNWorkspace<Double>(architecture: architecture, steps: steps, batchCapacity: 4)
    for (b, w) in windows.enumerated() { w.withUnsafeBufferPointer { ws.load($0, at: b) } }
    var gradient = [Double](repeating: 0, count: architecture.parameterCount)
    let loss = targets.withUnsafeBufferPointer { t in
        gradient.withUnsafeMutableBufferPointer { g in
            net.accumulateGradient(ws, count: batch, targets: t.baseAddress!, into: g.baseAddress!)
        }
    }
    #expect(abs(loss - batchLoss(net, windows, targets, steps: steps)) < 1e-12)

    let h = 1e-5
    for i in net.parameters.indices {
        var plus = net
        plus.parameters[i] += h
        var minus = net
        minus.parameters[i] -= h
        let numeric =
            (batchLoss(plus, windows, targets, steps: steps) - batchLoss(minus, windows, targets, steps: steps))
            / (2 * h)
        let tolerance = 1e-6 * max(1, abs(numeric))
        #expect(
            abs(gradient[i] - numeric) < tolerance,
            "parameter \(i): backprop \(gradient[i]) vs finite difference \(numeric)")
    }
}

@Suite struct GradientCheckTests {
    @Test func deepNetMatchesFiniteDifferencesForEveryParameter() {
        let a = RNNArchitecture.seedDeep()
        #expect(a.parameterCount == 26)
        checkGradients(a, seed: 1)
    }

    @Test func singleLayerNetMatchesFiniteDifferencesForEveryParameter() {
        let a = RNNArchitecture.seedSingleLayer()
        #expect(a.parameterCount == 49)
        checkGradients(a, seed: 2)
    }

    @Test func threeLayerNetWithSkipAndBiasesMatchesFiniteDifferences() {
        let a = RNNArchitecture(
            inputSize: 6, hiddenSizes: [5, 3, 4], biases: true,
            skip: .init(feature: 0, scale: 0.9, offset: 0.01))
        checkGradients(a, seed: 3)
    }
}
