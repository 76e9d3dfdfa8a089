import RealModule

/// A stack of tanh RNN layers read out linearly at the last time step: the course's deep RNN
/// (two layers, no biases) and its single-layer comparison net are both instances.
///
/// The value type holds only the architecture and the flat parameter vector; all scratch memory
/// lives in an ``RNNWorkspace``, so a network can be shared freely and evaluated concurrently
/// with one workspace per thread.
public struct StackedRNN: Sendable, Equatable {
    public let architecture: RNNArchitecture
    public var parameters: [Double]
    /// Where each weight block lives in `parameters` (derived from the architecture once).
    public let layout: ParameterLayout

    public init(architecture: RNNArchitecture, parameters: [Double]) {
        precondition(architecture.validationProblem() == nil, architecture.validationProblem() ?? "")
        precondition(parameters.count == architecture.parameterCount, "parameter count does not match architecture")
        self.architecture = architecture
        self.parameters = parameters
        self.layout = architecture.layout
    }

    /// How the initial weights are drawn.
    public enum Initialisation: String, Sendable, Codable {
        /// Every weight from N(0, 1), as the course does; biases start at zero.
        case standardNormal
        /// Glorot-uniform input and output weights, recurrent weights uniform with variance
        /// 1/(3h) so the recurrence starts well inside tanh's linear range; biases zero.
        case scaled
    }

    /// A freshly initialised network.
    public static func initialised(
        _ architecture: RNNArchitecture, scheme: Initialisation, using rng: inout some RandomNumberGenerator
    ) -> StackedRNN {
        let layout = architecture.layout
        var p = [Double](repeating: 0, count: layout.count)
        func fill(_ offset: Int, _ count: Int, fanIn: Int, fanOut: Int, recurrent: Bool) {
            for i in offset..<(offset + count) {
                switch scheme {
                case .standardNormal:
                    p[i] = rng.nextGaussian()
                case .scaled:
                    let limit =
                        recurrent
                        ? (1.0 / Double(fanIn)).squareRoot()
                        : (6.0 / Double(fanIn + fanOut)).squareRoot()
                    p[i] = Double.random(in: -limit...limit, using: &rng)
                }
            }
        }
        for l in 0..<architecture.layerCount {
            let h = architecture.hiddenSizes[l]
            let n = architecture.layerInputSize(l)
            fill(layout.inputWeights[l], n * h, fanIn: n, fanOut: h, recurrent: false)
            fill(layout.recurrentWeights[l], h * h, fanIn: h, fanOut: h, recurrent: true)
        }
        let last = architecture.hiddenSizes.last!
        fill(layout.outputWeights, last, fanIn: last, fanOut: 1, recurrent: false)
        return StackedRNN(architecture: architecture, parameters: p)
    }

    /// Runs the batch loaded into `workspace` forward and leaves the outputs in `workspace.outputs`.
    public func forward(_ workspace: RNNWorkspace, count batch: Int) {
        precondition(workspace.architecture == architecture, "workspace built for another architecture")
        precondition(batch <= workspace.batchCapacity, "batch larger than the workspace")
        let a = architecture
        let B = workspace.batchCapacity
        let T = workspace.steps
        let L = a.layerCount
        let layout = workspace.layout
        parameters.withUnsafeBufferPointer { wbuf in
            let w = wbuf.baseAddress!
            for t in 0..<T {
                for l in 0..<L {
                    let h = a.hiddenSizes[l]
                    let inSize = a.layerInputSize(l)
                    let input = l == 0 ? workspace.input(step: t) : workspace.state(step: t, layer: l - 1)
                    let out = workspace.state(step: t, layer: l)
                    let wx = w + layout.inputWeights[l]
                    let wh = w + layout.recurrentWeights[l]
                    for j in 0..<h {
                        let o = out + j * B
                        let bias = layout.layerBiases[l].map { w[$0 + j] } ?? 0
                        for b in 0..<batch { o[b] = bias }
                        for i in 0..<inSize {
                            let weight = wx[i * h + j]
                            let x = input + i * B
                            for b in 0..<batch { o[b] += weight * x[b] }
                        }
                        if t > 0 {
                            let prev = workspace.state(step: t - 1, layer: l)
                            for i in 0..<h {
                                let weight = wh[i * h + j]
                                let s = prev + i * B
                                for b in 0..<batch { o[b] += weight * s[b] }
                            }
                        }
                        for b in 0..<batch { o[b] = rnnTanh(o[b]) }
                    }
                }
            }
            let top = workspace.state(step: T - 1, layer: L - 1)
            let v = w + layout.outputWeights
            let outputs = workspace.outputs
            let bv = layout.outputBias.map { w[$0] } ?? 0
            for b in 0..<batch { outputs[b] = bv }
            for j in 0..<a.hiddenSizes[L - 1] {
                let weight = v[j]
                let s = top + j * B
                for b in 0..<batch { outputs[b] += weight * s[b] }
            }
            if let skip = a.skip {
                let x = workspace.input(step: T - 1) + skip.feature * B
                for b in 0..<batch { outputs[b] += skip.scale * x[b] + skip.offset }
            }
        }
    }

    /// The prediction for one window of `steps x inputSize` values, step-major.
    public func predict(window: UnsafeBufferPointer<Double>, workspace: RNNWorkspace) -> Double {
        workspace.load(window, at: 0)
        forward(workspace, count: 1)
        return workspace.outputs[0]
    }

    /// Parameters that are NaN or infinite, by index, or an empty array.
    public var nonFiniteParameters: [Int] {
        parameters.indices.filter { !parameters[$0].isFinite }
    }
}
