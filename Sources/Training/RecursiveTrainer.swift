import AirQuality
import CFloatEnvironment
import DeepRNN
import RealModule

/// Trains a model on the recursive objective: every sample is an origin hour with the 24 hours
/// up to it and the 8 after, the network forecasts the 8 recursively (each forecast fed back, the
/// weather held at the origin, as the daemon does), and the loss is the mean squared error of
/// all 8 on the model's target scale, backpropagated through the feedback.
public struct RecursiveTrainer: Sendable {
    public var recipe: TrainingRecipe
    public var seed: UInt64

    public init(recipe: TrainingRecipe, seed: UInt64) {
        self.recipe = recipe
        self.seed = seed
    }

    /// The encoded, normalised rows and the origins that can be trained on.
    struct Prepared {
        var rows: [[Double]]  // per segment, encoded and normalised, row-major
        var targets: [[Double]]  // per segment: the PM2.5 input (normalised target scale) by row
        var train: [(segment: Int, origin: Int)]
        var validation: [(segment: Int, origin: Int)]
    }

    /// Min-max ranges of the encoded inputs over every row; the target shares the PM2.5
    /// input's range, so a forecast is fed back unchanged.
    public static func normalisation(for series: TrainingSeries, encoding: InputEncoding) -> Normalisation {
        var lo = [Double](repeating: .infinity, count: encoding.count)
        var hi = [Double](repeating: -.infinity, count: encoding.count)
        for s in series.segments {
            let x = encoding.encode(s.raw)
            for (i, v) in x.enumerated() {
                lo[i % encoding.count] = min(lo[i % encoding.count], v)
                hi[i % encoding.count] = max(hi[i % encoding.count], v)
            }
        }
        for i in lo.indices where !(hi[i] > lo[i]) { hi[i] = lo[i] + 1 }
        let ranges = zip(lo, hi).map { MinMaxRange(min: $0, max: $1) }
        return Normalisation(features: ranges, target: ranges[encoding.pm25Index])
    }

    func prepare(
        _ series: TrainingSeries, encoding: InputEncoding, normalisation: Normalisation, steps: Int, hours: Int
    )
        -> Prepared
    {
        var p = Prepared(rows: [], targets: [], train: [], validation: [])
        let f = encoding.count
        let pm = encoding.pm25Index
        for (k, s) in series.segments.enumerated() {
            let x = normalisation.normalised(inputs: encoding.encode(s.raw))
            p.rows.append(x)
            p.targets.append((0..<s.rowCount).map { normalisation.pm25FeatureToTarget(x[$0 * f + pm]) })
            guard s.rowCount >= steps + hours else { continue }
            for origin in (steps - 1)..<(s.rowCount - hours) {
                // Every 10th week (by absolute hour) validates; a sample straddling a border is dropped.
                func side(_ row: Int) -> Bool { ((s.firstHour + Int64(row)) / 168) % 10 == 9 }
                let first = side(origin - steps + 1)
                guard first == side(origin + hours) else { continue }
                if first { p.validation.append((k, origin)) } else { p.train.append((k, origin)) }
            }
        }
        // A long history validates on an even spread of its held-out weeks' samples, so an
        // epoch's cost does not grow with the history.
        if p.validation.count > maximumValidationSamples {
            let stride = Double(p.validation.count) / Double(maximumValidationSamples)
            p.validation = (0..<maximumValidationSamples).map { p.validation[Int(Double($0) * stride)] }
        }
        return p
    }

    /// Validation samples at most: the shipped model's histories give 12,806; 1,000
    /// station-years would give 900,000, and validating on them would cost more than the
    /// epoch's training.
    public static let maximumValidationSamples = 16_000
    var maximumValidationSamples: Int { Self.maximumValidationSamples }

    public struct Result: Sendable {
        public var network: StackedRNN
        public var normalisation: Normalisation
        public var history: [EpochReport]
        public var bestEpoch: Int
        public var trainSamples: Int
        public var validationSamples: Int
        public var stopReason: String?
        /// Quantiles (at `levels`) of the validation samples' residuals per horizon, on the
        /// target's scale in µg/m³ units of that scale (log1p for a log encoding).
        public var residualQuantiles: [[Double]]
        /// The same per band of the forecast's own level (``PM25Bands``); a band with
        /// too few samples to trust takes the horizon's quantiles. With the recipe's
        /// ``TrainingRecipe/intervalsByTruthBand``, the outer pair are the interval's bounds as
        /// ``IntervalCalibration`` moves them, so each band of the truth is covered as the
        /// levels say rather than each band of the forecast.
        public var residualQuantilesByBand: [[[Double]]]
        public static let minimumBandSamples = 300
    }

    public func train(
        _ series: TrainingSeries, encoding: InputEncoding, steps: Int = 24, hours: Int = 8,
        quantileLevels: [Double] = EvaluationSummary.quantileLevels,
        progress: (Int, Int, Int) -> Void = { _, _, _ in }, epochDone: (EpochReport) -> Void = { _ in },
        shouldStop: () -> Bool = { false }
    ) -> Result {
        let previous = aq_float_environment()
        defer { aq_set_float_environment(previous) }
        _ = aq_flush_subnormals_to_zero()
        var rng = SeededGenerator(seed: seed)
        let normalisation = Self.normalisation(for: series, encoding: encoding)
        let data = prepare(series, encoding: encoding, normalisation: normalisation, steps: steps, hours: hours)
        let architecture = recipe.architecture(inputSize: encoding.count, normalisation: normalisation)
        var network = StackedRNN.initialised(architecture, scheme: recipe.initialisation, using: &rng)
        // The read-out starts at zero, so the first model is persistence itself (the skip link)
        // and the error in µg/m³ starts at persistence's, not at exp of a random log value.
        let readout = network.layout.outputWeights
        for i in readout..<(readout + architecture.hiddenSizes.last!) { network.parameters[i] = 0 }
        let pm = encoding.pm25Index
        let link = normalisation.persistenceSkip
        let feedback = RecursiveForecastKernel.Feedback(
            feature: pm, scale: 1 / link.scale, offset: -link.offset / link.scale)
        let batchSize = recipe.batchSize
        // The error in µg/m³ / 100 of a log-space output, when the recipe measures it linearly.
        let linearError = recipe.errorScale == .linear && encoding.pm25 == .log1p
        let exponential = linearError ? (a: normalisation.target.span, b: normalisation.target.min, c: 100.0) : nil
        let objective = RecursiveObjective<Float>(
            architecture: architecture, steps: steps, hours: hours, feedback: feedback, batchCapacity: batchSize,
            exponentialOutput: exponential)
        let f = encoding.count
        let rowsPerSample = steps + hours - 1
        var buffer = [Double](repeating: 0, count: batchSize * rowsPerSample * f)
        var targets = [Double](repeating: 0, count: batchSize * hours)
        let weights = Self.horizonWeights(
            data, hours: hours, byPersistence: recipe.horizonWeightsByPersistence ?? false,
            value: { z in exponential.map { (Double.exp($0.a * z + $0.b) - 1) / $0.c } ?? z })
        var gradient = [Double](repeating: 0, count: architecture.parameterCount)
        var optimizer = Optimizer(
            kind: recipe.optimizer, parameterCount: architecture.parameterCount,
            clipNorm: recipe.clipNorm)

        // Forecast weather draws from generators of its own, so a recipe without it trains
        // exactly as before; validation redraws the same errors every epoch.
        let forecastWeather = recipe.forecastWeather
        var trainingWeather = SeededGenerator(seed: seed ^ 0x5745_4154_4845_5231)
        let validationWeather = SeededGenerator(seed: seed ^ 0x5745_4154_4845_5256)
        var ahead = [Double]()
        var encoded = [Double]()
        /// Loads samples into the batch buffer: the rows, with the weather past the origin held,
        /// or (a share of them, when the recipe says so and `weather` is given) as a forecast.
        func load(_ samples: ArraySlice<(segment: Int, origin: Int)>, weather: inout SeededGenerator?) {
            for (b, sample) in samples.enumerated() {
                let rows = data.rows[sample.segment]
                let first = sample.origin - steps + 1
                let base = b * rowsPerSample * f
                for i in 0..<(rowsPerSample * f) { buffer[base + i] = rows[first * f + i] }
                if let errors = forecastWeather, weather != nil,
                    Double.random(in: 0..<1, using: &weather!) < errors.share
                {
                    let raw = series.segments[sample.segment].raw
                    let rf = Feature.allCases.count
                    let lead = (sample.origin + 1) * rf
                    ahead.removeAll(keepingCapacity: true)
                    ahead.append(contentsOf: raw[lead..<(lead + (hours - 1) * rf)])
                    errors.forecast(&ahead, rows: hours - 1, using: &weather!)
                    encoded = normalisation.normalised(inputs: encoding.encode(ahead))
                    for r in 0..<(hours - 1) {
                        for i in 0..<f where i != pm { buffer[base + (steps + r) * f + i] = encoded[r * f + i] }
                    }
                } else {
                    for r in steps..<rowsPerSample {
                        for i in 0..<f where i != pm { buffer[base + r * f + i] = buffer[base + (steps - 1) * f + i] }
                    }
                }
                for k in 0..<hours { targets[b * hours + k] = data.targets[sample.segment][sample.origin + 1 + k] }
            }
        }
        /// The objective of `samples` under `net`; with `gradient` true, its gradient is left
        /// in `gradient`.
        func pass(
            _ samples: ArraySlice<(segment: Int, origin: Int)>, _ net: StackedRNN, gradient wanted: Bool = true,
            weather: inout SeededGenerator?
        )
            -> Double
        {
            load(samples, weather: &weather)
            if wanted { for i in gradient.indices { gradient[i] = 0 } }
            let loss = buffer.withUnsafeBufferPointer { all in
                targets.withUnsafeBufferPointer { t in
                    gradient.withUnsafeMutableBufferPointer { g in
                        objective.accumulate(
                            net, count: samples.count,
                            sequences: { b in
                                UnsafeBufferPointer(
                                    rebasing: all[(b * rowsPerSample * f)..<((b + 1) * rowsPerSample * f)])
                            },
                            targets: t.baseAddress!, weights: weights, into: wanted ? g.baseAddress! : nil)
                    }
                }
            }
            return loss
        }
        func validationLoss(_ net: StackedRNN) -> Double {
            var sum = 0.0
            var start = 0
            var weather: SeededGenerator? = validationWeather
            while start < data.validation.count {
                let end = min(start + batchSize, data.validation.count)
                sum += pass(data.validation[start..<end], net, gradient: false, weather: &weather)
                start = end
            }
            return sum / Double(max(1, data.validation.count))
        }

        let perEpoch = min(data.train.count, recipe.samplesPerEpoch ?? data.train.count)
        let batches = (perEpoch + batchSize - 1) / batchSize
        var order = data.train
        let loop = EpochLoop(recipe: recipe, batches: batches, samples: perEpoch)
        let outcome = loop.run(
            network: &network, optimizer: &optimizer, shuffle: { order.shuffle(using: &rng) },
            train: { batch, net, opt in
                let start = batch * batchSize
                let samples = order[start..<min(start + batchSize, perEpoch)]
                var weather: SeededGenerator? = trainingWeather
                let loss = pass(samples, net, weather: &weather)
                trainingWeather = weather!
                opt.step(parameters: &net.parameters, gradient: gradient, batchSize: samples.count)
                return loss
            },
            validate: { validationLoss($0) }, progress: progress, epochDone: epochDone, shouldStop: shouldStop)
        let best = outcome.best
        let history = outcome.history
        let bestEpoch = outcome.bestEpoch
        let stopReason = outcome.stopReason
        // Residuals of the best weights on the validation samples, per horizon, on the
        // target's own scale (log1p units for a log encoding), with the weather held: the
        // daemon's case without a weather forecast, and the wider one.
        var residuals = [[Double]](repeating: [], count: hours)
        var banded = [[[Double]]](repeating: [[Double]](repeating: [], count: PM25Bands.count), count: hours)
        var calibration = [[IntervalCalibration.Sample]](repeating: [], count: hours)
        func band(_ value: Double) -> Int { PM25Bands.index(of: value) }
        var start = 0
        var held: SeededGenerator? = nil
        while start < data.validation.count {
            let end = min(start + batchSize, data.validation.count)
            _ = pass(data.validation[start..<end], best, gradient: false, weather: &held)
            for b in 0..<(end - start) {
                for k in 0..<hours {
                    let span = normalisation.target.span
                    let z = objective.output(window: k, sample: b)
                    let residual = (targets[b * hours + k] - z) * span
                    residuals[k].append(residual)
                    let value = encoding.unscaled(pm25: normalisation.target.denormalise(z))
                    banded[k][band(value)].append(residual)
                    if recipe.intervalsByTruthBand == true {
                        let truth = encoding.unscaled(pm25: normalisation.target.denormalise(targets[b * hours + k]))
                        calibration[k].append(
                            .init(residual: residual, forecastBand: band(value), truthBand: band(truth)))
                    }
                }
            }
            start = end
        }
        let pooled = residuals.map { quantiles($0, quantileLevels) }
        return Result(
            network: best, normalisation: normalisation, history: history, bestEpoch: bestEpoch,
            trainSamples: data.train.count, validationSamples: data.validation.count, stopReason: stopReason,
            residualQuantiles: pooled,
            residualQuantilesByBand: (0..<hours).map { k in
                var rows = banded[k].map {
                    $0.count >= Result.minimumBandSamples ? quantiles($0, quantileLevels) : pooled[k]
                }
                if recipe.intervalsByTruthBand == true,
                    let bounds = IntervalCalibration.bounds(
                        calibration[k], bands: rows.count, coverage: quantileLevels.last! - quantileLevels.first!,
                        nominal: quantileLevels.first!, minimumSamples: Result.minimumBandSamples,
                        fallback: (pooled[k].first!, pooled[k].last!))
                {
                    for b in rows.indices {
                        let last = rows[b].count - 1
                        rows[b][0] = min(bounds[b].lower, rows[b][min(1, last)])
                        rows[b][last] = max(bounds[b].upper, rows[b][max(0, last - 1)])
                    }
                }
                return rows
            })
    }
}

extension RecursiveTrainer {
    /// Each hour ahead's weight in the objective (summing to 1): equal, or inverse to
    /// persistence's mean squared error there, measured on the training samples in the units of
    /// the error (`value` maps the target scale to them).
    static func horizonWeights(_ data: Prepared, hours: Int, byPersistence: Bool, value: (Double) -> Double) -> [Double]
    {
        guard byPersistence, !data.train.isEmpty else { return [Double](repeating: 1 / Double(hours), count: hours) }
        var sums = [Double](repeating: 0, count: hours)
        for s in data.train {
            let y = data.targets[s.segment]
            let origin = value(y[s.origin])
            for k in 0..<hours {
                let d = value(y[s.origin + 1 + k]) - origin
                sums[k] += d * d
            }
        }
        let inverse = sums.map { 1 / max($0 / Double(data.train.count), 1e-12) }
        let total = inverse.reduce(0, +)
        return inverse.map { $0 / total }
    }
}

/// Linearly interpolated quantiles of `values` at `levels`.
func quantiles(_ values: [Double], _ levels: [Double]) -> [Double] {
    let sorted = values.sorted()
    return levels.map { IntervalCalibration.quantile(sorted: sorted, $0) }
}
