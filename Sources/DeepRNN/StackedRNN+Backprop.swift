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
        _ workspace: RNNWorkspace<Float>, count batch: Int, targets: UnsafePointer<Double>,
        into gradient: UnsafeMutablePointer<Double>
    ) -> Double {
        gradientKernel(workspace, count: batch, targets: targets, into: gradient)
    }

    /// The same in `Double`, the precision the gradient checks use.
    @discardableResult
    public func accumulateGradient(
        _ workspace: RNNWorkspace<Double>, count batch: Int, targets: UnsafePointer<Double>,
        into gradient: UnsafeMutablePointer<Double>
    ) -> Double {
        gradientKernel(workspace, count: batch, targets: targets, into: gradient)
    }

    /// Backpropagation for a loss given by its gradient: for each sample, `outputGradient[b]` is
    /// `dLoss/dz` of its output (the recursive objective sums the errors of several hours and of
    /// the forecasts fed back). Runs the forward pass, adds the parameter gradient to `gradient`
    /// and, when `inputGradient` is given, writes `dLoss/dx` of input `feature` at every step
    /// into it (`inputGradient[t * count + b]`), the part that flows into a fed-back forecast.
    public func accumulateGradient(
        _ workspace: RNNWorkspace<Float>, count batch: Int, outputGradient: UnsafePointer<Double>,
        into gradient: UnsafeMutablePointer<Double>, feature: Int = 0,
        inputGradient: UnsafeMutablePointer<Double>? = nil
    ) {
        outputGradientKernel(
            workspace, count: batch, outputGradient: outputGradient, into: gradient, feature: feature,
            inputGradient: inputGradient)
    }

    /// The same in `Double`, the precision the gradient checks use.
    public func accumulateGradient(
        _ workspace: RNNWorkspace<Double>, count batch: Int, outputGradient: UnsafePointer<Double>,
        into gradient: UnsafeMutablePointer<Double>, feature: Int = 0,
        inputGradient: UnsafeMutablePointer<Double>? = nil
    ) {
        outputGradientKernel(
            workspace, count: batch, outputGradient: outputGradient, into: gradient, feature: feature,
            inputGradient: inputGradient)
    }

    func outputGradientKernel<S: RNNScalar>(
        _ workspace: RNNWorkspace<S>, count batch: Int, outputGradient: UnsafePointer<Double>,
        into gradient: UnsafeMutablePointer<Double>, feature: Int, inputGradient: UnsafeMutablePointer<Double>?
    ) {
        forwardKernel(workspace, count: batch)
        let dz = workspace.outputDelta
        for b in 0..<((batch + 7) / 8 * 8) { dz[b] = b < batch ? S(outputGradient[b]) : 0 }
        backwardKernel(workspace, count: batch, into: gradient)
        guard let inputGradient else { return }
        let a = architecture
        let h = a.hiddenSizes[0]
        let w = workspace.weights + layout.inputWeights[0] + feature * h
        let stepCount = workspace.steps
        for t in 0..<stepCount {
            let d = workspace.delta(step: t, layer: 0)
            for b in 0..<batch {
                var sum = 0.0
                for j in 0..<h { sum += Double(w[j] * d[j * workspace.lanes + b]) }
                if t == stepCount - 1, let skip = a.skip, skip.feature == feature { sum += skip.scale * Double(dz[b]) }
                inputGradient[t * batch + b] = sum
            }
        }
    }

    func gradientKernel<S: RNNScalar>(
        _ workspace: RNNWorkspace<S>, count batch: Int, targets: UnsafePointer<Double>,
        into gradient: UnsafeMutablePointer<Double>
    ) -> Double {
        forwardKernel(workspace, count: batch)
        let dz = workspace.outputDelta
        var loss = 0.0
        for b in 0..<((batch + 7) / 8 * 8) {
            guard b < batch else {
                dz[b] = 0  // padding lanes carry no error
                continue
            }
            let d = Double(workspace.outputs[b]) - targets[b]
            dz[b] = S(d)
            loss += d * d / 2
        }
        backwardKernel(workspace, count: batch, into: gradient)
        return loss
    }

    /// The backward pass after a forward pass, with `outputDelta` holding `dLoss/dz` per sample.
    func backwardKernel<S: RNNScalar>(
        _ workspace: RNNWorkspace<S>, count batch: Int, into gradient: UnsafeMutablePointer<Double>
    ) {
        let a = architecture
        let laneCount = workspace.lanes
        let used = (batch + 7) / 8 * 8
        let stepCount = workspace.steps
        let layerCount = a.layerCount
        let dz = workspace.outputDelta
        let w = workspace.weights
        let hTop = a.hiddenSizes[layerCount - 1]
        let top = workspace.state(step: stepCount - 1, layer: layerCount - 1)
        for j in 0..<hTop {
            let s = top + j * laneCount
            var sum = 0.0
            for b in 0..<batch { sum += Double(s[b] * dz[b]) }
            gradient[layout.outputWeights + j] += sum
        }
        if let bo = layout.outputBias {
            var sum = 0.0
            for b in 0..<batch { sum += Double(dz[b]) }
            gradient[bo] += sum
        }
        // First the error signals of every step, from the last step back; then each weight's
        // gradient as one sum over steps and samples, kept in a register.
        for t in stride(from: stepCount - 1, through: 0, by: -1) {
            for l in stride(from: layerCount - 1, through: 0, by: -1) {
                let h = a.hiddenSizes[l]
                let s = workspace.state(step: t, layer: l)
                let dh = workspace.delta(step: t, layer: l)
                let later = t < stepCount - 1 ? workspace.delta(step: t + 1, layer: l) : dh
                let wh = w + layout.recurrentWeights[l]
                let isTop = l == layerCount - 1
                let hAbove = isTop ? 0 : a.hiddenSizes[l + 1]
                let above = isTop ? dh : workspace.delta(step: t, layer: l + 1)
                let wxAbove = isTop ? w : w + layout.inputWeights[l + 1]
                for j in 0..<h {
                    let v = isTop && t == stepCount - 1 ? w[layout.outputWeights + j] : 0
                    for c in stride(from: 0, to: used, by: 8) {
                        var d: SIMD8<S>
                        if isTop {
                            d = t == stepCount - 1 ? v * vload(dz + c) : .zero
                        } else {
                            d = .zero
                            for k in 0..<hAbove { d += wxAbove[j * hAbove + k] * vload(above + k * laneCount + c) }
                        }
                        if t < stepCount - 1 {
                            for k in 0..<h { d += wh[j * h + k] * vload(later + k * laneCount + c) }
                        }
                        let sj = vload(s + j * laneCount + c)
                        vstore(d * (1 - sj * sj), dh + j * laneCount + c)
                    }
                }
            }
        }
        // Padding lanes have zero error signals, so every lane can be summed.
        for l in 0..<layerCount {
            let h = a.hiddenSizes[l]
            let inSize = a.layerInputSize(l)
            for j in 0..<h {
                for i in 0..<inSize {
                    var sum = SIMD8<S>.zero
                    for t in 0..<stepCount {
                        let x = l == 0 ? workspace.input(step: t) : workspace.state(step: t, layer: l - 1)
                        let d = workspace.delta(step: t, layer: l) + j * laneCount
                        let xi = x + i * laneCount
                        for c in stride(from: 0, to: used, by: 8) { sum += vload(xi + c) * vload(d + c) }
                    }
                    gradient[layout.inputWeights[l] + i * h + j] += Double(sum.sum())
                }
                for i in 0..<h {
                    var sum = SIMD8<S>.zero
                    for t in 1..<max(1, stepCount) {
                        let sp = workspace.state(step: t - 1, layer: l) + i * laneCount
                        let d = workspace.delta(step: t, layer: l) + j * laneCount
                        for c in stride(from: 0, to: used, by: 8) { sum += vload(sp + c) * vload(d + c) }
                    }
                    gradient[layout.recurrentWeights[l] + i * h + j] += Double(sum.sum())
                }
                if let bo = layout.layerBiases[l] {
                    var sum = SIMD8<S>.zero
                    for t in 0..<stepCount {
                        let d = workspace.delta(step: t, layer: l) + j * laneCount
                        for c in stride(from: 0, to: used, by: 8) { sum += vload(d + c) }
                    }
                    gradient[bo + j] += Double(sum.sum())
                }
            }
        }
    }
}
