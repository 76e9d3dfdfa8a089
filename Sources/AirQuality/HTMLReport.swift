public struct HTMLReport {
    public init(model: ModelFile, modelPath: String, runs: EvaluationRuns, dataset: PRSADataset) {}
    public func render() -> String { "" }
}
