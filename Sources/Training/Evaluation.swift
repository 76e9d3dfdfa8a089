import AirQuality
import DeepRNN

/// Predictions of one recursive run: `predictions[k]` is the forecast for test window `k`.
public struct RecursiveRun: Sendable {
    public var weather: WeatherAssumption
    public var p: Int
    /// Normalised target-scale predictions and targets for windows `0..<count`.
    public var predictions: [Double]
    public var persistence: [Double]
    public var targets: [Double]
    public var horizon: (Int) -> Int { { $0 % self.p + 1 } }
}

/// The course's recursive evaluation over windows taken in blocks of `p` (docs/course.md).
public enum Evaluation {
    /// Mean `(a - y)^2 / 2` over the windows, one step ahead with true inputs.
    public static func loss(of network: StackedRNN, on data: WindowedData, workspace: RNNWorkspace<Float>) -> Double {
        guard data.count > 0 else { return .infinity }
        var sum = 0.0
        var start = 0
        while start < data.count {
            let n = min(workspace.batchCapacity, data.count - start)
            for s in 0..<n { data.withFloatWindow(start + s) { workspace.load($0, at: s) } }
            network.forward(workspace, count: n)
            for s in 0..<n {
                let d = workspace.output(s) - data.target(start + s)
                sum += d * d / 2
            }
            start += n
        }
        return sum / Double(data.count)
    }

    /// Forecasts every window of `data` recursively in blocks of `p`: within a block, the k-th
    /// window's last k PM2.5 inputs are the model's forecasts for the block's earlier windows;
    /// under `.live` its last k weather inputs are also replaced by the block origin's weather.
    /// Persistence forecasts the origin's PM2.5 (the last input of the block's first window).
    public static func recursive(
        _ network: StackedRNN, on data: WindowedData, p: Int, weather: WeatherAssumption,
        normalisation: Normalisation
    ) -> RecursiveRun {
        precondition(p >= 1 && p <= data.steps)
        let count = data.count - data.count % p
        let blocks = count / p
        let stepCount = data.steps
        let pm = Feature.pm25.rawValue
        let chunk = 64
        let workspace = RNNWorkspace<Float>(architecture: network.architecture, steps: stepCount, batchCapacity: chunk)
        var predictions = [Double](repeating: 0, count: count)
        var persistence = [Double](repeating: 0, count: count)
        var targets = [Double](repeating: 0, count: count)
        for k in 0..<p {
            var first = 0
            while first < blocks {
                let n = min(chunk, blocks - first)
                for s in 0..<n {
                    let origin = (first + s) * p
                    let w = origin + k
                    data.withWindow(w) { workspace.load($0, at: s) }
                    for j in 0..<k {
                        let fed = normalisation.targetToPM25Feature(predictions[origin + j])
                        workspace.setInput(fed, sample: s, step: stepCount - k + j, feature: pm)
                    }
                    if weather == .live { freezeWeather(workspace, sample: s, hours: k) }
                    targets[w] = data.target(w)
                    let originPM = data.withWindow(origin) { $0[(stepCount - 1) * data.featureCount + pm] }
                    persistence[w] = normalisation.pm25FeatureToTarget(originPM)
                }
                network.forward(workspace, count: n)
                for s in 0..<n { predictions[(first + s) * p + k] = workspace.output(s) }
                first += n
            }
        }
        return RecursiveRun(
            weather: weather, p: p, predictions: predictions, persistence: persistence, targets: targets)
    }
}

extension RecursiveRun {
    public func result(normalisation: Normalisation) -> ProtocolResult {
        let m = RegressionMetrics(predictions: predictions, targets: targets)
        let b = RegressionMetrics(predictions: persistence, targets: targets)
        let span = normalisation.target.span
        return ProtocolResult(
            weather: weather, p: p, model: m, persistence: b, modelRmse: m.rmse * span,
            persistenceRmse: b.rmse * span)
    }

    /// RMSE in µg/m³ at each horizon 1...p.
    public func horizonErrors(normalisation: Normalisation) -> [HorizonError] {
        let span = normalisation.target.span
        return (1...p).map { h in
            let idx = stride(from: h - 1, to: targets.count, by: p)
            var m = 0.0
            var b = 0.0
            var n = 0.0
            for i in idx {
                m += (predictions[i] - targets[i]) * (predictions[i] - targets[i])
                b += (persistence[i] - targets[i]) * (persistence[i] - targets[i])
                n += 1
            }
            return HorizonError(
                horizon: h, modelRmse: (m / n).squareRoot() * span,
                persistenceRmse: (b / n).squareRoot() * span)
        }
    }

    /// Quantiles of `truth - forecast` in µg/m³ at each horizon 1...p.
    public func residualQuantiles(_ levels: [Double], normalisation: Normalisation) -> [[Double]] {
        let span = normalisation.target.span
        return (1...p).map { h in
            quantiles(
                stride(from: h - 1, to: targets.count, by: p).map { (targets[$0] - predictions[$0]) * span }, levels)
        }
    }
}
