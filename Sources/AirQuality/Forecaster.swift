import DeepRNN
import RealModule

/// One forecast hour: the central value and a prediction interval, µg/m³.
public struct ForecastHour: Sendable, Equatable, Codable {
    public var horizon: Int
    public var pm25: Double
    public var lower: Double
    public var upper: Double
    /// What the station's running bias correction added to the model's forecast (µg/m³; 0
    /// without one). ``pm25`` is the model's value plus this, and at least 0.
    public var correction: Double

    public init(horizon: Int, pm25: Double, lower: Double, upper: Double, correction: Double = 0) {
        self.horizon = horizon
        self.pm25 = pm25
        self.lower = lower
        self.upper = upper
        self.correction = correction
    }
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
    private let kernel: RecursiveForecastKernel
    private var known: [Double]
    private var raw: [Double]
    public static let maximumHorizon = 48

    public init(model: ModelFile) {
        self.model = model
        network = model.network
        let feed = model.normalisation
        let encoding = model.inputEncoding
        let pm = feed.features[encoding.pm25Index]
        kernel = RecursiveForecastKernel(
            network: network, steps: model.steps, maximumHours: Self.maximumHorizon,
            feedback: .init(
                feature: encoding.pm25Index, scale: feed.target.span / pm.span,
                offset: (feed.target.min - pm.min) / pm.span))
        known = [Double](repeating: 0, count: model.steps * encoding.count)
        raw = [Double](repeating: 0, count: Self.maximumHorizon)
        intervalLevels = (model.residualQuantiles.levels.first!, model.residualQuantiles.levels.last!)
    }

    /// Forecasts `hours` hours after the window. `window` holds `steps` rows of the six raw
    /// features (µg/m³, °C, °C, hPa, wind code, m/s), oldest first, row-major.
    ///
    /// `weather`, when given, holds for each hour ahead (index 0 = 1 hour) the six raw features
    /// expected then, or nil: where given, its weather replaces the held one (PM2.5 is ignored).
    public func forecast(window: [Double], hours: Int, weather: [[Double]?]? = nil) -> [ForecastHour] {
        self.hours(from: values(window: window, hours: hours, weather: weather))
    }

    /// The model's own forecast of PM2.5 (µg/m³, at least 0) for each of `hours` hours after the
    /// window, as ``forecast(window:hours:weather:)`` takes them, without intervals.
    public func values(window: [Double], hours: Int, weather: [[Double]?]? = nil) -> [Double] {
        let encoding = model.inputEncoding
        let f = encoding.count
        let stepCount = model.steps
        precondition(window.count == stepCount * Feature.allCases.count, "window must hold steps x 6 raw values")
        precondition((1...Self.maximumHorizon).contains(hours))
        let norm = model.normalisation
        let inputs = encoding.encode(window)
        for i in 0..<(stepCount * f) { known[i] = norm.features[i % f].normalise(inputs[i]) }
        var future: [Double]?
        if let weather {
            var rows = [Double](repeating: .nan, count: hours * f)
            for (k, row) in weather.prefix(hours).enumerated() {
                guard let row else { continue }
                let encoded = encoding.encode(row)
                for i in 0..<f where i != encoding.pm25Index {
                    rows[k * f + i] = norm.features[i].normalise(encoded[i])
                }
            }
            future = rows
        }
        known.withUnsafeBufferPointer { k in
            raw.withUnsafeMutableBufferPointer { out in
                if let future {
                    future.withUnsafeBufferPointer {
                        kernel.forecast(known: k, hours: hours, future: $0, into: out.baseAddress!)
                    }
                } else {
                    kernel.forecast(known: k, hours: hours, into: out.baseAddress!)
                }
            }
        }
        return (0..<hours).map { h in max(0, encoding.unscaled(pm25: norm.target.denormalise(raw[h]))) }
    }

    /// The forecast hours of the model's `values` (index 0 = 1 hour ahead), each with
    /// `corrections[h]` added (the station's bias correction; none when empty) and its interval
    /// drawn around the corrected value.
    public func hours(from values: [Double], corrections: [Double] = []) -> [ForecastHour] {
        let logSpace = model.residualQuantiles.space == .log1p
        return values.enumerated().map { h, modelValue in
            let correction = h < corrections.count && corrections[h].isFinite ? corrections[h] : 0
            let value = max(0, modelValue + correction)
            let (lo, hi) = interval(horizon: h + 1, value: value)
            if logSpace {
                let centre = Double.log(onePlus: value)
                return ForecastHour(
                    horizon: h + 1, pm25: value, lower: max(0, Double.expMinusOne(centre + lo)),
                    upper: max(0, Double.expMinusOne(centre + hi)), correction: correction)
            }
            return ForecastHour(
                horizon: h + 1, pm25: value, lower: max(0, value + lo), upper: max(0, value + hi),
                correction: correction)
        }
    }

    /// The residual quantiles bounding the interval at `horizon`. Beyond the horizons the file
    /// covers, the last one's are widened by `sqrt(horizon / last)`, as for a random walk.
    public func interval(horizon: Int, value: Double = 0) -> (Double, Double) {
        let q = model.residualQuantiles
        let covered = q.byHorizon.count
        let row = q.row(horizon: min(horizon, covered), value: value)
        let widen = horizon > covered ? (Double(horizon) / Double(covered)).squareRoot() : 1
        return (row.first! * widen, row.last! * widen)
    }
}
