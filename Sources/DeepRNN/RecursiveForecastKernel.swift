/// Recursive multi-step forecasts, eight windows at a time, for latency.
///
/// Forecasting H hours recursively runs the network over H windows: window k covers rows
/// k ..< k + steps, where rows from `steps` on are the future, built from earlier forecasts. Run
/// one after another, every window is a chain of `steps` dependent tanh layers. But window k
/// only needs forecast m (m < k) at its step `steps - k + m`, so if window k runs k steps behind
/// window 0, every input it needs is ready just in time, and at global step τ every running
/// window reads the same row τ. Each 8-lane vector below holds one unit of eight windows; a
/// forecast of up to 8 hours takes `steps + 7` vector steps instead of `8 x steps` scalar ones.
///
/// Future rows repeat the last known row, except ``Feedback/feature``, which takes the earlier
/// forecast mapped by ``Feedback/scale`` and ``Feedback/offset``. Holds scratch memory: use one
/// kernel per thread.
public final class RecursiveForecastKernel {
    /// How a forecast becomes the next row's input.
    public struct Feedback: Sendable {
        public var feature: Int
        public var scale: Double
        public var offset: Double

        public init(feature: Int, scale: Double, offset: Double) {
            self.feature = feature
            self.scale = scale
            self.offset = offset
        }
    }

    public let network: StackedRNN
    public let steps: Int
    public let maximumHours: Int
    private let feedback: Feedback
    /// Every parameter broadcast to 8 lanes.
    private let weights: UnsafeMutablePointer<SIMD8<Float>>
    /// Rows of inputs: `steps` known rows then `maximumHours` future rows.
    private let rows: UnsafeMutablePointer<Float>
    /// Each layer's state, one vector per unit, and the new values of the layer being updated.
    private let state: UnsafeMutablePointer<SIMD8<Float>>
    private let fresh: UnsafeMutablePointer<SIMD8<Float>>
    private let forecasts: UnsafeMutablePointer<Float>
    private let sizes: [Int]
    private let stateOffsets: [Int]
    /// `startedMasks[n]`: 1 in the first n lanes, 0 in the rest.
    private let startedMasks: [SIMD8<Float>] = (0...8).map { n in
        var m = SIMD8<Float>.zero
        for i in 0..<n { m[i] = 1 }
        return m
    }

    public init(network: StackedRNN, steps: Int, maximumHours: Int, feedback: Feedback) {
        precondition(steps >= 1 && maximumHours >= 1)
        precondition((0..<network.architecture.inputSize).contains(feedback.feature))
        self.network = network
        self.steps = steps
        self.maximumHours = maximumHours
        self.feedback = feedback
        sizes = network.architecture.hiddenSizes
        var offsets: [Int] = []
        var total = 0
        for h in sizes {
            offsets.append(total)
            total += h
        }
        stateOffsets = offsets
        weights = .allocate(capacity: network.parameters.count)
        for (i, p) in network.parameters.enumerated() { (weights + i).initialize(to: SIMD8(repeating: Float(p))) }
        let rowValues = (steps + maximumHours) * network.architecture.inputSize
        rows = .allocate(capacity: rowValues)
        rows.initialize(repeating: 0, count: rowValues)
        state = .allocate(capacity: total)
        state.initialize(repeating: .zero, count: total)
        fresh = .allocate(capacity: sizes.max()!)
        fresh.initialize(repeating: .zero, count: sizes.max()!)
        forecasts = .allocate(capacity: maximumHours + 8)
        forecasts.initialize(repeating: 0, count: maximumHours + 8)
    }

    deinit {
        weights.deallocate()
        rows.deallocate()
        state.deallocate()
        fresh.deallocate()
        forecasts.deallocate()
    }

    /// Forecasts `hours` steps after `known` (`steps x inputSize` values, oldest row first) and
    /// writes the network's outputs to `out[0 ..< hours]`.
    ///
    /// `future`, when given, holds `hours x inputSize` values for the future rows: where a value
    /// is not NaN it replaces the held one (a weather forecast, say); the fed-back feature is
    /// always the network's own forecast.
    public func forecast(
        known: UnsafeBufferPointer<Double>, hours: Int, future: UnsafeBufferPointer<Double>? = nil,
        into out: UnsafeMutablePointer<Double>
    ) {
        let a = network.architecture
        let f = a.inputSize
        let stepCount = steps
        precondition(known.count == stepCount * f, "known rows must hold steps x inputSize values")
        precondition((1...maximumHours).contains(hours))
        for i in 0..<(stepCount * f) { rows[i] = Float(known[i]) }
        // Future rows: the last known row; the fed-back feature is written as forecasts arrive.
        if let future { precondition(future.count >= hours * f, "future rows must hold hours x inputSize values") }
        for r in stepCount..<(stepCount + hours) {
            for i in 0..<f {
                let given = future.map { $0[(r - stepCount) * f + i] } ?? .nan
                rows[r * f + i] = given.isNaN ? rows[(stepCount - 1) * f + i] : Float(given)
            }
        }
        var first = 0
        while first < hours {
            wave(first: first, hours: hours)
            first += 8
        }
        for k in 0..<hours { out[k] = Double(forecasts[k]) }
    }

    /// Windows `first ..< first + 8`, window `first + k` running `k` steps behind.
    private func wave(first: Int, hours: Int) {
        let a = network.architecture
        let layout = network.layout
        let f = a.inputSize
        let stepCount = steps
        let layerCount = sizes.count
        for i in 0..<stateOffsets.last! + sizes[layerCount - 1] { state[i] = .zero }
        let outputBias = layout.outputBias.map { weights[$0][0] } ?? 0
        for tau in first..<(first + stepCount + 7) {
            // Lanes whose window has started by this step keep their new state; the others stay 0.
            let started = startedMasks[min(8, tau - first + 1)]
            let x = rows + tau * f
            for l in 0..<layerCount {
                let h = sizes[l]
                let s = state + stateOffsets[l]
                let wx = weights + layout.inputWeights[l]
                let wh = weights + layout.recurrentWeights[l]
                let below = l == 0 ? state : state + stateOffsets[l - 1]
                let inSize = l == 0 ? f : sizes[l - 1]
                // Two units at a time and input and recurrent terms summed apart: four independent
                // add chains, so the core overlaps them instead of waiting on one.
                var j = 0
                while j < h {
                    let j2 = min(j + 1, h - 1)
                    var in0 = layout.layerBiases[l].map { weights[$0 + j] } ?? .zero
                    var in1 = layout.layerBiases[l].map { weights[$0 + j2] } ?? .zero
                    if l == 0 {
                        for i in 0..<f {
                            in0 += wx[i * h + j] * x[i]
                            in1 += wx[i * h + j2] * x[i]
                        }
                    } else {
                        for i in 0..<inSize {
                            in0 += wx[i * h + j] * below[i]
                            in1 += wx[i * h + j2] * below[i]
                        }
                    }
                    var rec0 = SIMD8<Float>.zero
                    var rec1 = SIMD8<Float>.zero
                    for i in 0..<h {
                        rec0 += wh[i * h + j] * s[i]
                        rec1 += wh[i * h + j2] * s[i]
                    }
                    fresh[j] = rnnTanh(in0 + rec0)
                    fresh[j2] = rnnTanh(in1 + rec1)
                    j += 2
                }
                for j in 0..<h { s[j] = fresh[j] * started }
            }
            // The window that has just taken its last step gives its forecast.
            let k = tau - first - (stepCount - 1)
            if k >= 0, first + k < hours {
                let top = state + stateOffsets[layerCount - 1]
                var z = outputBias
                for j in 0..<sizes[layerCount - 1] { z += weights[layout.outputWeights + j][0] * top[j][k] }
                emit(z, window: first + k, lastRow: x, hours: hours)
            }
        }
    }

    /// Window `window`'s forecast from its network output `z` (the skip link added; `lastRow` is
    /// the window's last input row), stored and fed into the next future row.
    @inline(__always)
    private func emit(_ z: Float, window: Int, lastRow x: UnsafeMutablePointer<Float>, hours: Int) {
        var z = z
        if let skip = network.architecture.skip { z += Float(skip.scale) * x[skip.feature] + Float(skip.offset) }
        forecasts[window] = z
        if window < hours {
            rows[(steps + window) * network.architecture.inputSize + feedback.feature] =
                Float(feedback.scale) * z + Float(feedback.offset)
        }
    }
}
