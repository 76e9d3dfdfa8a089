extension StackedRNN {
    /// Scratch values ``predictOne(window:scratch:)`` needs: two state vectors of every layer.
    public var singleScratchCount: Int { 2 * architecture.hiddenSizes.reduce(0, +) }

    /// The prediction for one window (`steps x inputSize` values, step-major), the latency path:
    /// the same arithmetic as ``forward(_:count:)`` with one sample, without the batch layout.
    /// `scratch` must hold ``singleScratchCount`` values.
    public func predictOne(window: UnsafeBufferPointer<Double>, scratch: UnsafeMutablePointer<Double>) -> Double {
        let a = architecture
        let f = a.inputSize
        let steps = window.count / f
        precondition(steps >= 1 && window.count == steps * f, "window must hold steps x inputSize values")
        let sizes = a.hiddenSizes
        let layout = self.layout
        var total = 0
        for h in sizes { total += h }
        return parameters.withUnsafeBufferPointer { wbuf -> Double in
            let w = wbuf.baseAddress!
            let x0 = window.baseAddress!
            var previous = scratch
            var current = scratch + total
            for t in 0..<steps {
                var input = UnsafePointer(x0 + t * f)
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
            let top = previous + (total - hTop)
            var z = layout.outputBias.map { w[$0] } ?? 0
            for j in 0..<hTop { z += w[layout.outputWeights + j] * top[j] }
            if let skip = a.skip { z += skip.scale * x0[(steps - 1) * f + skip.feature] + skip.offset }
            return z
        }
    }
}
