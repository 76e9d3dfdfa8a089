import Testing

@testable import DeepRNN

@Suite struct RecursiveForecastKernelTests {
    /// The plain way: one window after another, each forecast written into the next rows.
    func sequential(
        _ net: StackedRNN, known: [Double], steps: Int, hours: Int,
        feedback: RecursiveForecastKernel.Feedback
    ) -> [Double] {
        let f = net.architecture.inputSize
        var rows = known
        let last = Array(known[((steps - 1) * f)..<(steps * f)])
        let ws = RNNWorkspace<Double>(architecture: net.architecture, steps: steps, batchCapacity: 1)
        var out: [Double] = []
        for k in 0..<hours {
            let z = rows.withUnsafeBufferPointer {
                net.predict(window: UnsafeBufferPointer(rebasing: $0[(k * f)..<((k + steps) * f)]), workspace: ws)
            }
            out.append(z)
            var next = last
            next[feedback.feature] = feedback.scale * z + feedback.offset
            rows += next
        }
        return out
    }

    @Test(arguments: [[2, 2], [4], [8, 8], [3, 5, 2], [12, 4], [16, 16]])
    func staggeredWindowsGiveTheSequentialForecasts(_ sizes: [Int]) {
        var rng = SeededGenerator(seed: UInt64(sizes.reduce(0, +)))
        let a = RNNArchitecture(
            inputSize: 6, hiddenSizes: sizes, biases: sizes.count != 2,
            skip: .init(feature: 0, scale: 0.9, offset: 0.01))
        let net = StackedRNN.initialised(a, scheme: .scaled, using: &rng)
        let steps = 24
        let known = (0..<(steps * 6)).map { _ in Double.random(in: 0...1, using: &rng) }
        let feedback = RecursiveForecastKernel.Feedback(feature: 0, scale: 1.1, offset: -0.05)
        let kernel = RecursiveForecastKernel(network: net, steps: steps, maximumHours: 48, feedback: feedback)
        for hours in [1, 3, 8, 11, 48] {
            var got = [Double](repeating: .nan, count: hours)
            known.withUnsafeBufferPointer { k in
                got.withUnsafeMutableBufferPointer { kernel.forecast(known: k, hours: hours, into: $0.baseAddress!) }
            }
            let expected = sequential(net, known: known, steps: steps, hours: hours, feedback: feedback)
            let worst = zip(got, expected).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-4, "hidden \(sizes), \(hours) hours: largest difference \(worst)")
        }
    }
}
