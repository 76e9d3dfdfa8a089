import AirQuality
import DeepRNN

/// The recursive runs behind an ``EvaluationSummary``, kept for predictions and plots.
public struct EvaluationRuns: Sendable {
    public var runs: [RecursiveRun]
    public var summary: EvaluationSummary
    /// Quantiles of the live 8-hour residuals, per horizon, at `EvaluationSummary.quantileLevels`.
    public var liveResidualQuantiles: [[Double]]

    public init(network: StackedRNN, test: WindowedData, normalisation: Normalisation) {
        self.init(network: network, segments: [test], normalisation: normalisation)
    }

    /// The test set as separate runs of consecutive hours (stations, gaps), each evaluated
    /// recursively on its own and the predictions pooled.
    public init(network: StackedRNN, segments: [WindowedData], normalisation: Normalisation) {
        self.init(network: network, segments: segments, normalisation: normalisation, reportedIn: normalisation) { $0 }
    }

    /// A model with its own inputs and target scale, reported on the course's scale: the runs
    /// use the model's `normalisation`, and `convert` takes each value from the model's target
    /// scale to `reported`'s normalised target (the course's R² and loss are on that scale).
    public init(
        network: StackedRNN, segments: [WindowedData], normalisation: Normalisation, reportedIn reported: Normalisation,
        convert: (Double) -> Double
    ) {
        precondition(!segments.isEmpty)
        var runs: [RecursiveRun] = []
        for weather in WeatherAssumption.allCases {
            for p in EvaluationSummary.predictionLengths {
                var pooled = RecursiveRun(weather: weather, p: p, predictions: [], persistence: [], targets: [])
                for test in segments {
                    let run = Evaluation.recursive(
                        network, on: test, p: p, weather: weather, normalisation: normalisation)
                    pooled.predictions += run.predictions.map(convert)
                    pooled.persistence += run.persistence.map(convert)
                    pooled.targets += run.targets.map(convert)
                }
                runs.append(pooled)
            }
        }
        let normalisation = reported
        self.runs = runs
        let windows = segments.reduce(0) { $0 + $1.count }
        let longest = EvaluationSummary.predictionLengths.max()!
        let oracle8 = runs.first { $0.weather == .oracle && $0.p == longest }!
        let live8 = runs.first { $0.weather == .live && $0.p == longest }!
        summary = EvaluationSummary(
            testWindows: windows, protocols: runs.map { $0.result(normalisation: normalisation) },
            oracleHorizons: oracle8.horizonErrors(normalisation: normalisation),
            liveHorizons: live8.horizonErrors(normalisation: normalisation))
        liveResidualQuantiles = live8.residualQuantiles(EvaluationSummary.quantileLevels, normalisation: normalisation)
    }

    public func run(_ weather: WeatherAssumption, p: Int) -> RecursiveRun? {
        runs.first { $0.weather == weather && $0.p == p }
    }

    /// Every test prediction as CSV: `protocol,p,window,horizon,pm25` (µg/m³).
    public func predictionsCSV(normalisation: Normalisation) -> String {
        var out = "protocol,p,window,horizon,pm25\n"
        for run in runs {
            for (w, a) in run.predictions.enumerated() {
                let pm = normalisation.target.denormalise(a)
                out += "\(run.weather.rawValue),\(run.p),\(w),\(w % run.p + 1),\(formatFixed(pm, 3))\n"
            }
        }
        return out
    }
}
