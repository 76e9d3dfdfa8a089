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

    /// Runs the batch loaded into `workspace` forward; `workspace.output(_:)` then holds the results.
    public func forward(_ workspace: RNNWorkspace<Float>, count batch: Int) { forwardKernel(workspace, count: batch) }

    /// Runs the batch loaded into `workspace` forward in `Double` (the reference precision).
    public func forward(_ workspace: RNNWorkspace<Double>, count batch: Int) { forwardKernel(workspace, count: batch) }

    /// The prediction for one window of `steps x inputSize` values, step-major.
    public func predict(window: UnsafeBufferPointer<Double>, workspace: RNNWorkspace<Float>) -> Double {
        workspace.load(window, at: 0)
        forward(workspace, count: 1)
        return workspace.output(0)
    }

    /// The prediction for one window, in `Double`.
    public func predict(window: UnsafeBufferPointer<Double>, workspace: RNNWorkspace<Double>) -> Double {
        workspace.load(window, at: 0)
        forward(workspace, count: 1)
        return workspace.output(0)
    }

    func forwardKernel<S: RNNScalar>(_ workspace: RNNWorkspace<S>, count batch: Int) {
        precondition(workspace.architecture == architecture, "workspace built for another architecture")
        precondition(batch <= workspace.batchCapacity, "batch larger than the workspace")
        let a = architecture
        let laneCount = workspace.lanes
        let used = (batch + 7) / 8 * 8  // whole vectors; lanes past `batch` are computed and ignored
        let stepCount = workspace.steps
        let layerCount = a.layerCount
        let w = workspace.weights
        for i in parameters.indices { w[i] = S(parameters[i]) }
        for t in 0..<stepCount {
            for l in 0..<layerCount {
                let h = a.hiddenSizes[l]
                let inSize = a.layerInputSize(l)
                let input = l == 0 ? workspace.input(step: t) : workspace.state(step: t, layer: l - 1)
                let out = workspace.state(step: t, layer: l)
                let wx = w + layout.inputWeights[l]
                let wh = w + layout.recurrentWeights[l]
                let prev = t > 0 ? workspace.state(step: t - 1, layer: l) : nil
                let biases = layout.layerBiases[l]
                for j in 0..<h {
                    let bias = biases.map { w[$0 + j] } ?? 0
                    for c in stride(from: 0, to: used, by: 8) {
                        var acc = SIMD8<S>(repeating: bias)
                        for i in 0..<inSize { acc += wx[i * h + j] * vload(input + i * laneCount + c) }
                        if let prev {
                            for i in 0..<h { acc += wh[i * h + j] * vload(prev + i * laneCount + c) }
                        }
                        vstore(S.activation(acc), out + j * laneCount + c)
                    }
                }
            }
        }
        let top = workspace.state(step: stepCount - 1, layer: layerCount - 1)
        let v = w + layout.outputWeights
        let outputs = workspace.outputs
        let bv = layout.outputBias.map { w[$0] } ?? 0
        let skip = a.skip
        let x = workspace.input(step: stepCount - 1) + (skip?.feature ?? 0) * laneCount
        let skipScale = S(skip?.scale ?? 0)
        let skipOffset = S(skip?.offset ?? 0)
        for c in stride(from: 0, to: used, by: 8) {
            var z = SIMD8<S>(repeating: bv)
            for j in 0..<a.hiddenSizes[layerCount - 1] { z += v[j] * vload(top + j * laneCount + c) }
            if skip != nil { z += skipScale * vload(x + c) + skipOffset }
            vstore(z, outputs + c)
        }
    }

    /// Parameters that are NaN or infinite, by index, or an empty array.
    public var nonFiniteParameters: [Int] {
        parameters.indices.filter { !parameters[$0].isFinite }
    }
}
