import AirQuality
import DeepRNN

extension ModelFile {
    /// Evaluates a training result on the data set's test windows and packs it into a model file.
    public init(
        trained result: TrainingResult, dataset: PRSADataset, recipe: TrainingRecipe, seed: UInt64,
        dataSource: String
    ) {
        let runs = EvaluationRuns(network: result.network, test: dataset.test, normalisation: dataset.normalisation)
        func label(_ r: PRSARecord) -> String { r.hourLabel + ":00" }
        let info = TrainingInfo(
            recipe: recipe, seed: seed, dataSource: dataSource, firstHour: label(dataset.records[0]),
            lastHour: label(dataset.records[dataset.trainRowCount - 1]), trainWindows: result.trainWindowCount,
            validationWindows: result.validationWindowCount, bestEpoch: result.bestEpoch, history: result.history,
            stopReason: result.stopReason)
        self.init(
            network: result.network, steps: PRSADataset.steps, normalisation: dataset.normalisation, training: info,
            evaluation: runs.summary,
            residualQuantiles: ResidualQuantiles(
                levels: EvaluationSummary.quantileLevels, byHorizon: runs.liveResidualQuantiles))
    }
}

extension ModelFile {
    /// Packs a model trained on the recursive objective, with its course evaluation on the PRSA
    /// test year (`course`, prepared with the course's ranges) and its log-space intervals.
    public init(
        recursive result: RecursiveTrainer.Result, encoding: InputEncoding, recipe: TrainingRecipe, seed: UInt64,
        dataSource: String, firstHour: Int64, lastHour: Int64, course: PRSADataset
    ) {
        let norm = result.normalisation
        let runs = Self.courseRuns(
            network: result.network, normalisation: norm, encoding: encoding, dataset: course)
        let info = TrainingInfo(
            recipe: recipe, seed: seed, dataSource: dataSource, firstHour: isoHour(firstHour),
            lastHour: isoHour(lastHour), trainWindows: result.trainSamples, validationWindows: result.validationSamples,
            bestEpoch: result.bestEpoch, history: result.history, stopReason: result.stopReason)
        self.init(
            network: result.network, steps: PRSADataset.steps, normalisation: norm, training: info,
            evaluation: runs.summary,
            residualQuantiles: ResidualQuantiles(
                levels: EvaluationSummary.quantileLevels, byHorizon: result.residualQuantiles,
                space: encoding.pm25 == .log1p ? .log1p : nil, bandEdges: PM25Bands.upperEdges,
                byBand: result.residualQuantilesByBand),
            encoding: encoding)
    }
}

extension ModelFile {
    /// The course's evaluation (its recursive protocol on the PRSA test year, docs/course.md). A model of
    /// the course's encoding runs on `dataset` prepared with its own ranges; one of another
    /// encoding runs on its own inputs and is reported on `dataset`'s ranges (prepare it with
    /// the course's), so the R² and losses mean what the course's do.
    public func courseRuns(_ dataset: PRSADataset) -> EvaluationRuns {
        Self.courseRuns(network: network, normalisation: normalisation, encoding: encoding, dataset: dataset)
    }

    static func courseRuns(
        network: StackedRNN, normalisation norm: Normalisation, encoding: InputEncoding?, dataset: PRSADataset
    ) -> EvaluationRuns {
        guard let encoding else { return EvaluationRuns(network: network, test: dataset.test, normalisation: norm) }
        let series = dataset.series
        let x = norm.normalised(inputs: encoding.encode(series.features))
        let y = series.targets.map { norm.target.normalise(encoding.scaled(pm25: $0)) }
        let test = WindowedData(
            features: x, targets: y, rows: dataset.trainRowCount..<series.rowCount, steps: PRSADataset.steps)
        let reported = dataset.normalisation
        return EvaluationRuns(network: network, segments: [test], normalisation: norm, reportedIn: reported) {
            reported.target.normalise(encoding.unscaled(pm25: norm.target.denormalise($0)))
        }
    }
}

extension EvaluationSummary {
    /// A table a person can read: model beside persistence for each protocol and horizon.
    public func table() -> String {
        func pad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
        var out = "test windows: \(testWindows)\n\n"
        out += "protocol  p | model loss    R^2     RMSE | persistence loss    R^2     RMSE | RMSE gain\n"
        for r in protocols {
            let gain = (1 - r.modelRmse / r.persistenceRmse) * 100
            out += pad(r.weather.rawValue, 8) + pad("\(r.p)", 3) + " | "
            out += pad(formatFixed(r.model.loss, 6), 10) + pad(formatFixed(r.model.r2, 4), 8)
            out += pad(formatFixed(r.modelRmse, 1), 9) + " | "
            out += pad(formatFixed(r.persistence.loss, 6), 16) + pad(formatFixed(r.persistence.r2, 4), 8)
            out += pad(formatFixed(r.persistenceRmse, 1), 9) + " | " + pad(formatFixed(gain, 1) + "%", 9) + "\n"
        }
        out += "\nRMSE (ug/m3) by horizon, 8-hour blocks\n"
        out += "hour |  oracle model  persistence |  live model  persistence\n"
        for (o, l) in zip(oracleHorizons, liveHorizons) {
            out += pad("\(o.horizon)", 4) + " | " + pad(formatFixed(o.modelRmse, 1), 13)
            out += pad(formatFixed(o.persistenceRmse, 1), 13) + " | " + pad(formatFixed(l.modelRmse, 1), 11)
            out += pad(formatFixed(l.persistenceRmse, 1), 13) + "\n"
        }
        return out
    }
}
