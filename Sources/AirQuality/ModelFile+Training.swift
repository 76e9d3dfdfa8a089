import DeepRNN

extension ModelFile {
    /// Evaluates a training result on the data set's test windows and packs it into a model file.
    public init(trained result: TrainingResult, dataset: PRSADataset, recipe: TrainingRecipe, seed: UInt64,
                dataSource: String) {
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
