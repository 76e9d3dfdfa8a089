/// The shape of a stack of tanh RNN layers with a linear output read at the last step.
///
/// Layer `l` maps its input (the features for `l == 0`, the previous layer's state otherwise)
/// through `Wx[l]`, adds its own previous state through `Wh[l]` and, optionally, a bias `b[l]`.
/// The output is `z = s_last · V (+ bv)`, plus an optional fixed skip term
/// `skipScale · x_T[skipFeature] + skipOffset` that lets the net learn a correction to the last
/// observed value instead of the value itself.
public struct RNNArchitecture: Codable, Equatable, Sendable {
    public var inputSize: Int
    public var hiddenSizes: [Int]
    public var biases: Bool
    public var skip: Skip?

    /// A fixed (not trained) affine link from one input feature at the last step to the output.
    public struct Skip: Codable, Equatable, Sendable {
        public var feature: Int
        public var scale: Double
        public var offset: Double

        public init(feature: Int, scale: Double, offset: Double) {
            self.feature = feature
            self.scale = scale
            self.offset = offset
        }
    }

    public init(inputSize: Int, hiddenSizes: [Int], biases: Bool, skip: Skip? = nil) {
        self.inputSize = inputSize
        self.hiddenSizes = hiddenSizes
        self.biases = biases
        self.skip = skip
    }

    /// The course's deep net: two layers of two units, no biases, 26 parameters for 6 inputs.
    public static func seedDeep(inputSize: Int = 6) -> RNNArchitecture {
        RNNArchitecture(inputSize: inputSize, hiddenSizes: [2, 2], biases: false)
    }

    /// The course's comparison net: one layer of four units with biases, 49 parameters for 6 inputs.
    public static func seedSingleLayer(inputSize: Int = 6) -> RNNArchitecture {
        RNNArchitecture(inputSize: inputSize, hiddenSizes: [4], biases: true)
    }

    public var layerCount: Int { hiddenSizes.count }

    /// The size of layer `l`'s input.
    public func layerInputSize(_ l: Int) -> Int { l == 0 ? inputSize : hiddenSizes[l - 1] }

    /// Where each block of weights starts in the flat parameter vector.
    public var layout: ParameterLayout { ParameterLayout(self) }

    public var parameterCount: Int { layout.count }

    /// Problems that make the architecture unusable, or `nil` when it is sound.
    public func validationProblem() -> String? {
        if inputSize < 1 { return "input size must be at least 1, got \(inputSize)" }
        if hiddenSizes.isEmpty { return "at least one hidden layer is needed" }
        if let bad = hiddenSizes.first(where: { $0 < 1 || $0 > 512 }) {
            return "hidden sizes must be 1...512, got \(bad)"
        }
        if let skip, !(0..<inputSize).contains(skip.feature) {
            return "skip feature \(skip.feature) is not one of the \(inputSize) inputs"
        }
        if let skip, !skip.scale.isFinite || !skip.offset.isFinite {
            return "skip scale and offset must be finite"
        }
        return nil
    }
}

/// Offsets of every weight block in the flat parameter vector.
///
/// Per layer: `Wx` (input x hidden, row-major), `Wh` (hidden x hidden), then `b` (hidden) when
/// biases are on; after the layers `V` (last hidden x 1) and `bv` when biases are on.
public struct ParameterLayout: Sendable, Equatable {
    public var inputWeights: [Int]
    public var recurrentWeights: [Int]
    public var layerBiases: [Int?]
    public var outputWeights: Int
    public var outputBias: Int?
    public var count: Int

    init(_ a: RNNArchitecture) {
        var offset = 0
        var wx: [Int] = []
        var wh: [Int] = []
        var b: [Int?] = []
        for l in 0..<a.layerCount {
            let h = a.hiddenSizes[l]
            wx.append(offset)
            offset += a.layerInputSize(l) * h
            wh.append(offset)
            offset += h * h
            if a.biases {
                b.append(offset)
                offset += h
            } else {
                b.append(nil)
            }
        }
        inputWeights = wx
        recurrentWeights = wh
        layerBiases = b
        outputWeights = offset
        offset += a.hiddenSizes.last ?? 0
        if a.biases {
            outputBias = offset
            offset += 1
        } else {
            outputBias = nil
        }
        count = offset
    }

    /// Human-readable names of each block, in the course's notation for one and two layers.
    public func blockNames(_ a: RNNArchitecture) -> [(name: String, offset: Int, count: Int)] {
        var blocks: [(String, Int, Int)] = []
        for l in 0..<a.layerCount {
            let h = a.hiddenSizes[l]
            let n = l + 1
            blocks.append(("Wx\(n)", inputWeights[l], a.layerInputSize(l) * h))
            blocks.append(("Wh\(n)", recurrentWeights[l], h * h))
            if let bo = layerBiases[l] { blocks.append(("b\(n)", bo, h)) }
        }
        blocks.append(("V", outputWeights, a.hiddenSizes.last ?? 0))
        if let bo = outputBias { blocks.append(("bv", bo, 1)) }
        return blocks
    }
}
