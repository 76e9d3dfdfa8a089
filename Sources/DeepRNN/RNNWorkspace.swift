/// Scratch memory for running a ``StackedRNN`` over a batch of windows.
///
/// Values are stored batch-innermost (`[step][unit][sample]`) so the inner loops over the batch
/// are contiguous and vectorise. Not thread-safe: use one workspace per thread.
public final class RNNWorkspace {
    public let architecture: RNNArchitecture
    public let steps: Int
    public let batchCapacity: Int
    let layout: ParameterLayout
    let inputs: UnsafeMutablePointer<Double>
    let states: UnsafeMutablePointer<Double>
    let stateStride: Int
    let layerOffsets: [Int]
    /// Per-layer error signals at the current and the following time step.
    var deltaCurrent: UnsafeMutablePointer<Double>
    var deltaNext: UnsafeMutablePointer<Double>
    /// The network's output for each sample of the last forward pass.
    public let outputs: UnsafeMutablePointer<Double>
    let outputDelta: UnsafeMutablePointer<Double>
    /// Per-sample gradient sums of the layer weights, `[parameter][sample]`.
    let gradientAccumulator: UnsafeMutablePointer<Double>

    public init(architecture: RNNArchitecture, steps: Int, batchCapacity: Int) {
        precondition(steps >= 1 && batchCapacity >= 1)
        self.architecture = architecture
        self.steps = steps
        self.batchCapacity = batchCapacity
        self.layout = architecture.layout
        var offsets: [Int] = []
        var total = 0
        for h in architecture.hiddenSizes {
            offsets.append(total * batchCapacity)
            total += h
        }
        layerOffsets = offsets
        stateStride = total * batchCapacity
        inputs = .allocate(capacity: steps * architecture.inputSize * batchCapacity)
        inputs.initialize(repeating: 0, count: steps * architecture.inputSize * batchCapacity)
        states = .allocate(capacity: steps * stateStride)
        states.initialize(repeating: 0, count: steps * stateStride)
        deltaCurrent = .allocate(capacity: stateStride)
        deltaCurrent.initialize(repeating: 0, count: stateStride)
        deltaNext = .allocate(capacity: stateStride)
        deltaNext.initialize(repeating: 0, count: stateStride)
        outputs = .allocate(capacity: batchCapacity)
        outputs.initialize(repeating: 0, count: batchCapacity)
        outputDelta = .allocate(capacity: batchCapacity)
        outputDelta.initialize(repeating: 0, count: batchCapacity)
        gradientAccumulator = .allocate(capacity: layout.outputWeights * batchCapacity)
        gradientAccumulator.initialize(repeating: 0, count: layout.outputWeights * batchCapacity)
    }

    deinit {
        inputs.deallocate()
        states.deallocate()
        deltaCurrent.deallocate()
        deltaNext.deallocate()
        outputs.deallocate()
        outputDelta.deallocate()
        gradientAccumulator.deallocate()
    }

    @inline(__always) func input(step t: Int) -> UnsafeMutablePointer<Double> {
        inputs + t * architecture.inputSize * batchCapacity
    }

    @inline(__always) func state(step t: Int, layer l: Int) -> UnsafeMutablePointer<Double> {
        states + t * stateStride + layerOffsets[l]
    }

    @inline(__always) func delta(_ base: UnsafeMutablePointer<Double>, layer l: Int) -> UnsafeMutablePointer<Double> {
        base + layerOffsets[l]
    }

    /// Copies one window (`steps x inputSize`, step-major) into sample slot `sample`.
    public func load(_ window: UnsafeBufferPointer<Double>, at sample: Int) {
        let f = architecture.inputSize
        precondition(window.count == steps * f, "window must hold steps x inputSize values")
        precondition(sample < batchCapacity)
        for t in 0..<steps {
            let row = input(step: t)
            for i in 0..<f { row[i * batchCapacity + sample] = window[t * f + i] }
        }
    }

    /// Overwrites one input value of a loaded sample (used to feed predictions back).
    public func setInput(_ value: Double, sample: Int, step: Int, feature: Int) {
        input(step: step)[feature * batchCapacity + sample] = value
    }

    /// One input value of a loaded sample.
    public func inputValue(sample: Int, step: Int, feature: Int) -> Double {
        input(step: step)[feature * batchCapacity + sample]
    }
}
