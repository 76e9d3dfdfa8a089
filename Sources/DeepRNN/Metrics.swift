/// The course's figures of merit for predictions against targets, both on the normalised scale.
public struct RegressionMetrics: Sendable, Equatable, Codable {
    /// `sum((a - y)^2) / n / 2`, the course's "loss".
    public var loss: Double
    /// `1 - mse / var(y)`, the course's "accuracy".
    public var r2: Double
    /// Root mean squared error on the normalised scale, `sqrt(2 * loss)`.
    public var rmse: Double { (2 * loss).squareRoot() }
    public var count: Int

    public init(loss: Double, r2: Double, count: Int) {
        self.loss = loss
        self.r2 = r2
        self.count = count
    }

    public init(predictions: [Double], targets: [Double]) {
        precondition(predictions.count == targets.count && !targets.isEmpty)
        let n = Double(targets.count)
        var sq = 0.0
        var mean = 0.0
        for i in targets.indices {
            let d = predictions[i] - targets[i]
            sq += d * d
            mean += targets[i]
        }
        mean /= n
        var variance = 0.0
        for y in targets { variance += (y - mean) * (y - mean) }
        variance /= n
        let mse = sq / n
        self.init(loss: mse / 2, r2: variance > 0 ? 1 - mse / variance : 0, count: targets.count)
    }
}
