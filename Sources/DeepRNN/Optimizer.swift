import RealModule

/// A rule that turns a summed batch gradient into a parameter update.
public enum OptimizerKind: Sendable, Equatable, Codable {
    /// Plain stochastic gradient descent: `w -= rate * gradient / batchSize`.
    case sgd(learningRate: Double)
    /// Adam (Kingma and Ba, 2015) on the batch-mean gradient.
    case adam(learningRate: Double, beta1: Double, beta2: Double, epsilon: Double)

    public static func adam(learningRate: Double) -> OptimizerKind {
        .adam(learningRate: learningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
    }
}

/// The optimiser's state for one parameter vector.
public struct Optimizer: Sendable {
    public private(set) var kind: OptimizerKind
    /// Rescale the batch-mean gradient to at most this Euclidean norm; `nil` means no clipping.
    public let clipNorm: Double?
    private var firstMoment: [Double]
    private var secondMoment: [Double]
    private var stepCount = 0

    public init(kind: OptimizerKind, parameterCount: Int, clipNorm: Double? = nil) {
        self.kind = kind
        self.clipNorm = clipNorm
        firstMoment = [Double](repeating: 0, count: parameterCount)
        secondMoment = [Double](repeating: 0, count: parameterCount)
    }

    /// Multiplies the learning rate by `factor` (for a per-epoch decay schedule).
    public mutating func scaleLearningRate(by factor: Double) {
        switch kind {
        case .sgd(let rate): kind = .sgd(learningRate: rate * factor)
        case .adam(let rate, let b1, let b2, let eps):
            kind = .adam(learningRate: rate * factor, beta1: b1, beta2: b2, epsilon: eps)
        }
    }

    /// Applies one update from `gradient`, the gradient summed over `batchSize` samples.
    public mutating func step(parameters: inout [Double], gradient: [Double], batchSize: Int) {
        precondition(parameters.count == gradient.count && gradient.count == firstMoment.count)
        var scale = 1.0 / Double(batchSize)
        if let clipNorm {
            var sq = 0.0
            for g in gradient { sq += g * g }
            let norm = sq.squareRoot() * scale
            if norm > clipNorm { scale *= clipNorm / norm }
        }
        stepCount += 1
        switch kind {
        case .sgd(let rate):
            for i in parameters.indices { parameters[i] -= rate * gradient[i] * scale }
        case .adam(let rate, let beta1, let beta2, let epsilon):
            let correction1 = 1 - Double.pow(beta1, Double(stepCount))
            let correction2 = 1 - Double.pow(beta2, Double(stepCount))
            for i in parameters.indices {
                let g = gradient[i] * scale
                firstMoment[i] = beta1 * firstMoment[i] + (1 - beta1) * g
                secondMoment[i] = beta2 * secondMoment[i] + (1 - beta2) * g * g
                let mHat = firstMoment[i] / correction1
                let vHat = secondMoment[i] / correction2
                parameters[i] -= rate * mHat / (vHat.squareRoot() + epsilon)
            }
        }
    }
}
