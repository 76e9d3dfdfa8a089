extension StackedRNN {
    /// Backpropagation through time for the batch loaded into `workspace`.
    ///
    /// Runs the forward pass, then adds the gradient of `sum over the batch of (a - y)^2 / 2` to
    /// `gradient` (which must hold `parameterCount` values) and returns that loss. Per time step,
    /// from the last to the first and from the top layer down:
    /// `dh_l,t = (dh_l+1,t · Wx_l+1^T + dh_l,t+1 · Wh_l^T) ⊙ (1 - s_l,t^2)`, where the top layer's
    /// term from above is `dz · V^T` at the last step and zero before it; then
    /// `dWx_l += in_l,t^T · dh_l,t`, `dWh_l += s_l,t-1^T · dh_l,t` (steps after the first) and
    /// `db_l += dh_l,t`. For two layers this is the course's equations 10-22.
    @discardableResult
    public func accumulateGradient(
        _ workspace: RNNWorkspace, count batch: Int, targets: UnsafePointer<Double>,
        into gradient: UnsafeMutablePointer<Double>
    ) -> Double {
        forward(workspace, count: batch)
        let a = architecture
        let B = workspace.batchCapacity
        let T = workspace.steps
        let L = a.layerCount
        let layout = workspace.layout
        let dz = workspace.outputDelta
        var loss = 0.0
        for b in 0..<batch {
            let d = workspace.outputs[b] - targets[b]
            dz[b] = d
            loss += d * d / 2
        }
        return parameters.withUnsafeBufferPointer { wbuf -> Double in
            let w = wbuf.baseAddress!
            let hTop = a.hiddenSizes[L - 1]
            let top = workspace.state(step: T - 1, layer: L - 1)
            for j in 0..<hTop {
                let s = top + j * B
                var sum = 0.0
                for b in 0..<batch { sum += s[b] * dz[b] }
                gradient[layout.outputWeights + j] += sum
            }
            if let bo = layout.outputBias {
                var sum = 0.0
                for b in 0..<batch { sum += dz[b] }
                gradient[bo] += sum
            }
            let acc = workspace.gradientAccumulator
            let layerParameters = layout.outputWeights
            acc.update(repeating: 0, count: layerParameters * B)
            var current = workspace.deltaCurrent
            var next = workspace.deltaNext
            for t in stride(from: T - 1, through: 0, by: -1) {
                for l in stride(from: L - 1, through: 0, by: -1) {
                    let h = a.hiddenSizes[l]
                    let s = workspace.state(step: t, layer: l)
                    let dh = workspace.delta(current, layer: l)
                    let wh = w + layout.recurrentWeights[l]
                    for j in 0..<h {
                        let d = dh + j * B
                        if l == L - 1 {
                            if t == T - 1 {
                                let v = w[layout.outputWeights + j]
                                for b in 0..<batch { d[b] = dz[b] * v }
                            } else {
                                for b in 0..<batch { d[b] = 0 }
                            }
                        } else {
                            let hAbove = a.hiddenSizes[l + 1]
                            let above = workspace.delta(current, layer: l + 1)
                            let wxAbove = w + layout.inputWeights[l + 1]
                            for b in 0..<batch { d[b] = 0 }
                            for k in 0..<hAbove {
                                let weight = wxAbove[j * hAbove + k]
                                let da = above + k * B
                                for b in 0..<batch { d[b] += weight * da[b] }
                            }
                        }
                        if t < T - 1 {
                            let later = workspace.delta(next, layer: l)
                            for k in 0..<h {
                                let weight = wh[j * h + k]
                                let dl = later + k * B
                                for b in 0..<batch { d[b] += weight * dl[b] }
                            }
                        }
                        let sj = s + j * B
                        for b in 0..<batch { d[b] *= 1 - sj[b] * sj[b] }
                    }
                    // Per-sample accumulation (no dependency chain, so it vectorises); summed
                    // over the batch once, after the last time step.
                    let inSize = a.layerInputSize(l)
                    let input = l == 0 ? workspace.input(step: t) : workspace.state(step: t, layer: l - 1)
                    let gx = acc + layout.inputWeights[l] * B
                    let gh = acc + layout.recurrentWeights[l] * B
                    let prev = t > 0 ? workspace.state(step: t - 1, layer: l) : nil
                    for j in 0..<h {
                        let d = dh + j * B
                        for i in 0..<inSize {
                            let x = input + i * B
                            let g = gx + (i * h + j) * B
                            for b in 0..<batch { g[b] += x[b] * d[b] }
                        }
                        if let prev {
                            for i in 0..<h {
                                let sp = prev + i * B
                                let g = gh + (i * h + j) * B
                                for b in 0..<batch { g[b] += sp[b] * d[b] }
                            }
                        }
                        if let bo = layout.layerBiases[l] {
                            let g = acc + (bo + j) * B
                            for b in 0..<batch { g[b] += d[b] }
                        }
                    }
                }
                swap(&current, &next)
            }
            for p in 0..<layerParameters {
                let g = acc + p * B
                var sum = 0.0
                for b in 0..<batch { sum += g[b] }
                gradient[p] += sum
            }
            return loss
        }
    }
}
