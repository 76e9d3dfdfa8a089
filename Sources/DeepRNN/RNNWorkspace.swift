/// Scratch memory for running a ``StackedRNN`` over a batch of windows, in precision `Scalar`.
///
/// Values are stored batch-innermost (`[step][unit][sample]`, the sample dimension padded to a
/// multiple of 8) so the kernels work on 8 samples per vector. Not thread-safe: use one workspace per thread.
public final class RNNWorkspace<Scalar: RNNScalar> {
    public let architecture: RNNArchitecture
    public let steps: Int
    public let batchCapacity: Int
    /// The batch stride: the capacity rounded up to whole 8-lane vectors.
    @usableFromInline let lanes: Int
    @usableFromInline let inputSize: Int
    let layout: ParameterLayout
    @usableFromInline let inputs: UnsafeMutablePointer<Scalar>
    let states: UnsafeMutablePointer<Scalar>
    let stateStride: Int
    let layerOffsets: [Int]
    /// The network's weights converted to `Scalar` for the current pass.
    let weights: UnsafeMutablePointer<Scalar>
    /// Error signals `dh` of every layer at every step, laid out like `states`.
    let deltas: UnsafeMutablePointer<Scalar>
    /// The network's output for each sample of the last forward pass.
    let outputs: UnsafeMutablePointer<Scalar>
    let outputDelta: UnsafeMutablePointer<Scalar>

    public init(architecture: RNNArchitecture, steps: Int, batchCapacity: Int) {
        precondition(steps >= 1 && batchCapacity >= 1)
        self.architecture = architecture
        self.steps = steps
        self.batchCapacity = batchCapacity
        lanes = (batchCapacity + 7) / 8 * 8
        let batchCapacity = lanes
        inputSize = architecture.inputSize
        layout = architecture.layout
        var offsets: [Int] = []
        var total = 0
        for h in architecture.hiddenSizes {
            offsets.append(total * batchCapacity)
            total += h
        }
        layerOffsets = offsets
        stateStride = total * batchCapacity
        func zeroed(_ n: Int) -> UnsafeMutablePointer<Scalar> {
            let p = UnsafeMutablePointer<Scalar>.allocate(capacity: max(1, n))
            p.initialize(repeating: 0, count: max(1, n))
            return p
        }
        inputs = zeroed(steps * architecture.inputSize * batchCapacity)
        states = zeroed(steps * stateStride)
        weights = zeroed(layout.count)
        deltas = zeroed(steps * stateStride)
        outputs = zeroed(batchCapacity)
        outputDelta = zeroed(batchCapacity)
    }

    deinit {
        for p in [inputs, states, weights, deltas, outputs, outputDelta] {
            p.deallocate()
        }
    }

    @inline(__always) func input(step t: Int) -> UnsafeMutablePointer<Scalar> {
        inputs + t * inputSize * lanes
    }

    @inline(__always) func state(step t: Int, layer l: Int) -> UnsafeMutablePointer<Scalar> {
        states + t * stateStride + layerOffsets[l]
    }

    @inline(__always) func delta(step t: Int, layer l: Int) -> UnsafeMutablePointer<Scalar> {
        deltas + t * stateStride + layerOffsets[l]
    }

    /// Copies one window (`steps x inputSize` values, step-major) into sample slot `sample`.
    @inlinable
    public func load(_ window: UnsafeBufferPointer<Double>, at sample: Int) {
        precondition(window.count == steps * inputSize, "window must hold steps x inputSize values")
        precondition(sample < batchCapacity)
        scatter(window.baseAddress!, sample)
    }

    /// Copies one window already in `Float` into sample slot `sample`.
    @inlinable
    public func load(_ window: UnsafeBufferPointer<Float>, at sample: Int) {
        precondition(window.count == steps * inputSize, "window must hold steps x inputSize values")
        precondition(sample < batchCapacity)
        scatter(window.baseAddress!, sample)
    }

    @inlinable @inline(__always)
    func scatter<Source: BinaryFloatingPoint>(_ source: UnsafePointer<Source>, _ sample: Int) {
        let f = inputSize
        let b = lanes
        var from = source
        var to = inputs + sample
        for _ in 0..<(steps &* f) {
            to.pointee = Scalar(from.pointee)
            from += 1
            to += b
        }
    }

    /// Overwrites one input value of a loaded sample (used to feed predictions back).
    @inlinable
    public func setInput(_ value: Double, sample: Int, step: Int, feature: Int) {
        inputs[(step * inputSize + feature) * lanes + sample] = Scalar(value)
    }

    /// One input value of a loaded sample.
    @inlinable
    public func inputValue(sample: Int, step: Int, feature: Int) -> Double {
        Double(inputs[(step * inputSize + feature) * lanes + sample])
    }

    /// The output of sample `sample` in the last forward pass.
    public func output(_ sample: Int) -> Double { Double(outputs[sample]) }
}
