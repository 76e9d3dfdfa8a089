import DeepRNN

/// One forecast hour: the central value and a prediction interval, µg/m³.
public struct ForecastHour: Sendable, Equatable, Codable {
    public var horizon: Int
    public var pm25: Double
    public var lower: Double
    public var upper: Double
}

/// Recursive multi-hour forecasts from the last `steps` hours of raw features, each prediction
/// fed back as the next hour's PM2.5 and the weather held at its last observed value.
///
/// Holds its own scratch memory, so use one forecaster per thread.
public final class Forecaster {
    public let model: ModelFile
    public let network: StackedRNN
    /// The interval's probability levels (the model file's outermost quantiles).
    public let intervalLevels: (lower: Double, upper: Double)
    private let scratch: UnsafeMutablePointer<Double>
    private var buffer: [Double]
    public static let maximumHorizon = 48

    public init(model: ModelFile) {
        self.model = model
        network = model.network
        scratch = .allocate(capacity: network.singleScratchCount)
        scratch.initialize(repeating: 0, count: network.singleScratchCount)
        buffer = [Double](repeating: 0, count: (model.steps + Self.maximumHorizon) * model.features.count)
        intervalLevels = (model.residualQuantiles.levels.first!, model.residualQuantiles.levels.last!)
    }

    deinit { scratch.deallocate() }

    /// Forecasts `hours` hours after the window. `window` holds `steps` rows of the six raw
    /// features (µg/m³, °C, °C, hPa, wind code, m/s), oldest first, row-major.
    public func forecast(window: [Double], hours: Int) -> [ForecastHour] {
        let f = model.features.count
        let T = model.steps
        precondition(window.count == T * f, "window must hold steps x features values")
        precondition((1...Self.maximumHorizon).contains(hours))
        let norm = model.normalisation
        let pm = Feature.pm25.rawValue
        var out: [ForecastHour] = []
        out.reserveCapacity(hours)
        buffer.withUnsafeMutableBufferPointer { buf in
            for i in 0..<(T * f) { buf[i] = norm.features[i % f].normalise(window[i]) }
            for h in 0..<hours {
                let a = network.predictOne(
                    window: UnsafeBufferPointer(rebasing: buf[(h * f)..<((h + T) * f)]), scratch: scratch)
                let next = (T + h) * f
                let last = (T - 1) * f
                for i in 0..<f { buf[next + i] = buf[last + i] }
                buf[next + pm] = norm.targetToPM25Feature(a)
                let value = max(0, norm.target.denormalise(a))
                let (lo, hi) = interval(horizon: h + 1)
                out.append(
                    ForecastHour(horizon: h + 1, pm25: value, lower: max(0, value + lo), upper: max(0, value + hi)))
            }
        }
        return out
    }

    /// The residual quantiles bounding the interval at `horizon`. Beyond the horizons the file
    /// covers, the last one's are widened by `sqrt(horizon / last)`, as for a random walk.
    public func interval(horizon: Int) -> (Double, Double) {
        let rows = model.residualQuantiles.byHorizon
        let row = rows[min(horizon, rows.count) - 1]
        let widen = horizon > rows.count ? (Double(horizon) / Double(rows.count)).squareRoot() : 1
        return (row.first! * widen, row.last! * widen)
    }
}
