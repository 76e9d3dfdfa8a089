/// The latency path: one window at a time, in `Float`, with the weights converted once.
///
/// The same arithmetic as ``StackedRNN/forward(_:count:)-(RNNWorkspace<Float>,_)`` for one
/// sample, without the batch layout. Holds scratch memory: use one predictor per thread.
public final class SingleWindowPredictor {
    public let network: StackedRNN
    private let weights: UnsafeMutablePointer<Float>
    private let scratch: UnsafeMutablePointer<Float>
    private let window: UnsafeMutablePointer<Float>
    private let capacity: Int
    private let sizes: [Int]
    private let totalHidden: Int
    /// For nets whose layers have at most 8 units: each weight row padded to one 8-lane vector
    /// (per layer: `Wx` rows, `Wh` rows, the bias; then `V`), so a whole layer is one vector.
    private let rows: UnsafeMutablePointer<SIMD8<Float>>?
    private let rowOffsets: [(input: Int, recurrent: Int, bias: Int)]
    private let outputRow: Int

    /// `maximumSteps` bounds the window length ``predict(window:)`` accepts.
    public init(network: StackedRNN, maximumSteps: Int) {
        self.network = network
        sizes = network.architecture.hiddenSizes
        totalHidden = sizes.reduce(0, +)
        weights = .allocate(capacity: network.parameters.count)
        for (i, p) in network.parameters.enumerated() { (weights + i).initialize(to: Float(p)) }
        scratch = .allocate(capacity: 2 * totalHidden)
        scratch.initialize(repeating: 0, count: 2 * totalHidden)
        capacity = maximumSteps * network.architecture.inputSize
        window = .allocate(capacity: capacity)
        window.initialize(repeating: 0, count: capacity)

        let a = network.architecture
        let layout = network.layout
        guard sizes.allSatisfy({ $0 <= 8 }) else {
            rows = nil
            rowOffsets = []
            outputRow = 0
            return
        }
        var vectors: [SIMD8<Float>] = []
        var offsets: [(Int, Int, Int)] = []
        func row(_ start: Int, _ count: Int) -> SIMD8<Float> {
            var v = SIMD8<Float>.zero
            for j in 0..<count { v[j] = Float(network.parameters[start + j]) }
            return v
        }
        for l in 0..<sizes.count {
            let h = sizes[l]
            let inputStart = vectors.count
            for i in 0..<a.layerInputSize(l) { vectors.append(row(layout.inputWeights[l] + i * h, h)) }
            let recurrentStart = vectors.count
            for i in 0..<h { vectors.append(row(layout.recurrentWeights[l] + i * h, h)) }
            let biasAt = vectors.count
            vectors.append(layout.layerBiases[l].map { row($0, h) } ?? .zero)
            offsets.append((inputStart, recurrentStart, biasAt))
        }
        outputRow = vectors.count
        vectors.append(row(layout.outputWeights, sizes[sizes.count - 1]))
        let storage = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: vectors.count)
        storage.initialize(from: vectors, count: vectors.count)
        rows = storage
        rowOffsets = offsets
    }

    deinit {
        weights.deallocate()
        scratch.deallocate()
        window.deallocate()
        rows?.deallocate()
    }

    /// The prediction for one window (`steps x inputSize` values, step-major).
    public func predict(window values: UnsafeBufferPointer<Double>) -> Double {
        let a = network.architecture
        let layout = network.layout
        let f = a.inputSize
        let steps = values.count / f
        precondition(steps >= 1 && values.count == steps * f && values.count <= capacity, "bad window size")
        for i in 0..<values.count { window[i] = Float(values[i]) }
        if let rows { return predictVectorised(rows: rows, steps: steps) }
        let w = weights
        var previous = scratch
        var current = scratch + totalHidden
        for t in 0..<steps {
            var input = UnsafePointer(window + t * f)
            var inSize = f
            var offset = 0
            for l in 0..<sizes.count {
                let h = sizes[l]
                let out = current + offset
                let wx = w + layout.inputWeights[l]
                if let b = layout.layerBiases[l] {
                    for j in 0..<h { out[j] = w[b + j] }
                } else {
                    for j in 0..<h { out[j] = 0 }
                }
                for i in 0..<inSize {
                    let xi = input[i]
                    let row = wx + i * h
                    for j in 0..<h { out[j] += xi * row[j] }
                }
                if t > 0 {
                    let wh = w + layout.recurrentWeights[l]
                    let sp = previous + offset
                    for i in 0..<h {
                        let si = sp[i]
                        let row = wh + i * h
                        for j in 0..<h { out[j] += si * row[j] }
                    }
                }
                for j in 0..<h { out[j] = rnnTanh(out[j]) }
                input = UnsafePointer(out)
                inSize = h
                offset += h
            }
            swap(&previous, &current)
        }
        let hTop = sizes[sizes.count - 1]
        let top = previous + (totalHidden - hTop)
        var z: Float = layout.outputBias.map { w[$0] } ?? 0
        for j in 0..<hTop { z += w[layout.outputWeights + j] * top[j] }
        if let skip = a.skip {
            z += Float(skip.scale) * window[(steps - 1) * f + skip.feature] + Float(skip.offset)
        }
        return Double(z)
    }

    /// One layer per 8-lane vector: the state of layer `l` is `s[l]`, padding lanes stay 0
    /// because their weights and bias are 0 and tanh(0) = 0.
    private func predictVectorised(rows: UnsafeMutablePointer<SIMD8<Float>>, steps: Int) -> Double {
        let a = network.architecture
        let f = a.inputSize
        let L = sizes.count
        var state = (SIMD8<Float>.zero, SIMD8<Float>.zero, SIMD8<Float>.zero, SIMD8<Float>.zero)
        precondition(L <= 4, "the vectorised path holds up to 4 layers")
        func get(_ l: Int) -> SIMD8<Float> {
            switch l {
            case 0: state.0
            case 1: state.1
            case 2: state.2
            default: state.3
            }
        }
        func set(_ l: Int, _ v: SIMD8<Float>) {
            switch l {
            case 0: state.0 = v
            case 1: state.1 = v
            case 2: state.2 = v
            default: state.3 = v
            }
        }
        for t in 0..<steps {
            let x = window + t * f
            var below = SIMD8<Float>.zero
            for l in 0..<L {
                let h = sizes[l]
                let o = rowOffsets[l]
                // Two independent sums: input terms and recurrent terms.
                var acc = rows[o.bias]
                if l == 0 {
                    for i in 0..<f { acc += x[i] * rows[o.input + i] }
                } else {
                    for i in 0..<sizes[l - 1] { acc += below[i] * rows[o.input + i] }
                }
                if t > 0 {
                    // The recurrent terms are the step-to-step critical path: sum them pairwise.
                    let previous = get(l)
                    let r = rows + o.recurrent
                    var recurrent = SIMD8<Float>.zero
                    var i = 0
                    while i + 1 < h {
                        recurrent += previous[i] * r[i] + previous[i + 1] * r[i + 1]
                        i += 2
                    }
                    if i < h { recurrent += previous[i] * r[i] }
                    acc += recurrent
                }
                let s = rnnTanh(acc)
                set(l, s)
                below = s
            }
        }
        var z = (get(L - 1) * rows[outputRow]).sum()
        let layout = network.layout
        if let bo = layout.outputBias { z += weights[bo] }
        if let skip = a.skip {
            z += Float(skip.scale) * window[(steps - 1) * f + skip.feature] + Float(skip.offset)
        }
        return Double(z)
    }
}
