import RealModule

/// The loss of a recursive multi-hour forecast, and its gradient through the feedback.
///
/// The daemon forecasts H hours by running the network on H windows: window k covers rows
/// `k ..< k + T` of a sequence of `T + H - 1` rows, and the fed-back input of each row at or past
/// `T` is `scale · z + offset` of the output `z` of the window that forecast that row. The
/// objective is `Σ_k weight_k · (z_k - y_k)² / 2` over windows and samples. Its gradient
/// counts both paths from a parameter to a forecast: the direct one, and the one through every
/// earlier forecast fed back into the window. Backwards, window `H-1` first: each window's
/// output error is its own term plus `scale · dLoss/dx` of every later window's input that it
/// was fed into, so by the time a window is reached its error is complete.
///
/// Holds scratch memory for one batch; use one objective per thread.
public final class RecursiveObjective<Scalar: RNNScalar> {
    public let steps: Int
    public let hours: Int
    public let feedback: RecursiveForecastKernel.Feedback
    public let batchCapacity: Int
    /// When set, the squared error is taken on `g(z) = (exp(a z + b) - 1) / c` of output and
    /// target instead of on `z` itself: a model whose output is `log(1 + x)` (min-max
    /// normalised) is then fitted for the error in `x` (scaled by `c`), whose mean it forecasts
    /// without the downward bias of a log-space fit.
    public let exponentialOutput: (a: Double, b: Double, c: Double)?
    let workspace: RNNWorkspace<Scalar>
    private var outputs: [Double]
    private var errors: [Double]
    private var inputGradient: [Double]

    public init(
        architecture: RNNArchitecture, steps: Int, hours: Int, feedback: RecursiveForecastKernel.Feedback,
        batchCapacity: Int, exponentialOutput: (a: Double, b: Double, c: Double)? = nil
    ) {
        precondition(hours >= 1 && hours <= steps)
        self.exponentialOutput = exponentialOutput
        self.steps = steps
        self.hours = hours
        self.feedback = feedback
        self.batchCapacity = batchCapacity
        workspace = RNNWorkspace(architecture: architecture, steps: steps, batchCapacity: batchCapacity)
        outputs = [Double](repeating: 0, count: hours * batchCapacity)
        errors = outputs
        inputGradient = [Double](repeating: 0, count: steps * batchCapacity)
    }

    /// Rows per sample: the first window's `steps` and the `hours - 1` after it.
    public var rows: Int { steps + hours - 1 }

    /// Adds the objective's gradient to `gradient` and returns the objective; with no
    /// `gradient`, only the objective (the forward passes alone, a third of the work).
    ///
    /// `sequences(b)` gives sample b's `rows x inputSize` values, row-major (the fed-back
    /// feature's values past the first window are ignored); `targets[b * hours + k]` is the
    /// target of window k, `weights[k]` its weight.
    // Specialised here for both precisions: unspecialised generic code reached from another
    // module would run the vector kernels through witness tables, a hundred times slower.
    @_specialize(exported:true,where Scalar == Float)
    @_specialize(exported:true,where Scalar == Double)
    public func accumulate(
        _ network: StackedRNN, count batch: Int, sequences: (Int) -> UnsafeBufferPointer<Double>,
        targets: UnsafePointer<Double>, weights: [Double], into gradient: UnsafeMutablePointer<Double>?
    ) -> Double {
        precondition(batch <= batchCapacity && weights.count == hours)
        for k in 0..<hours {
            load(k, count: batch, sequences: sequences)
            network.forwardKernel(workspace, count: batch)
            for b in 0..<batch { outputs[k * batchCapacity + b] = workspace.output(b) }
        }
        var loss = 0.0
        for k in 0..<hours {
            for b in 0..<batch {
                let z = outputs[k * batchCapacity + b]
                let y = targets[b * hours + k]
                if let (a, c0, c) = exponentialOutput {
                    let g = Double.exp(a * z + c0)
                    let d = (g - Double.exp(a * y + c0)) / c
                    loss += weights[k] * d * d / 2
                    errors[k * batchCapacity + b] = weights[k] * d * a * g / c
                } else {
                    let d = z - y
                    loss += weights[k] * d * d / 2
                    errors[k * batchCapacity + b] = weights[k] * d
                }
            }
        }
        guard let gradient else { return loss }
        for k in stride(from: hours - 1, through: 0, by: -1) {
            load(k, count: batch, sequences: sequences)
            errors.withUnsafeBufferPointer { e in
                inputGradient.withUnsafeMutableBufferPointer { dx in
                    network.backpropagate(
                        workspace, count: batch, outputGradient: e.baseAddress! + k * batchCapacity, into: gradient,
                        feature: feedback.feature, inputGradient: dx.baseAddress!)
                }
            }
            // Step t of window k reads row k + t; rows from `steps` on were forecast by window
            // k + t - steps, whose error takes this share.
            for t in max(0, steps - k)..<steps {
                let source = k + t - steps
                for b in 0..<batch {
                    errors[source * batchCapacity + b] += feedback.scale * inputGradient[t * batch + b]
                }
            }
        }
        return loss
    }

    /// The outputs of window k from the last call, per sample.
    public func output(window k: Int, sample b: Int) -> Double { outputs[k * batchCapacity + b] }

    private func load(_ k: Int, count batch: Int, sequences: (Int) -> UnsafeBufferPointer<Double>) {
        let f = workspace.inputSize
        for b in 0..<batch {
            let all = sequences(b)
            precondition(all.count == rows * f, "a sequence must hold rows x inputSize values")
            workspace.load(UnsafeBufferPointer(rebasing: all[(k * f)..<((k + steps) * f)]), at: b)
            for t in max(0, steps - k)..<steps {
                let z = outputs[(k + t - steps) * batchCapacity + b]
                workspace.setInput(feedback.scale * z + feedback.offset, sample: b, step: t, feature: feedback.feature)
            }
        }
    }
}

extension StackedRNN {
    func backpropagate(
        _ workspace: RNNWorkspace<some RNNScalar>, count: Int, outputGradient: UnsafePointer<Double>,
        into gradient: UnsafeMutablePointer<Double>, feature: Int, inputGradient: UnsafeMutablePointer<Double>
    ) {
        outputGradientKernel(
            workspace, count: count, outputGradient: outputGradient, into: gradient, feature: feature,
            inputGradient: inputGradient)
    }
}
