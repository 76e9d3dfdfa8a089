import AirQuality

/// The PRSA series prepared, normalised and split into training and test windows (docs/course.md 1-9).
public struct PRSADataset: Sendable {
    public static let steps = 24
    public var records: [PRSARecord]
    public var series: PreparedSeries
    public var normalisation: Normalisation
    /// Rows before `trainRowCount` train, the rest test.
    public var trainRowCount: Int
    public var train: WindowedData
    public var test: WindowedData

    /// Prepares `records`, splitting at the first row of `testYear` (2014 for the course).
    /// `normalisation` defaults to ranges fitted over all rows (the course's choice); pass a
    /// model's own ranges to evaluate that model.
    public init(
        records: [PRSARecord], testYear: Int = 2014, normalisation: Normalisation? = nil, source: String = "data"
    )
        throws(DataFileError)
    {
        guard let split = records.firstIndex(where: { $0.year >= testYear }) else {
            throw DataFileError(file: source, line: 0, reason: "no rows from \(testYear) on to test with")
        }
        guard split > Self.steps, records.count - split > Self.steps else {
            throw DataFileError(
                file: source, line: 0, reason: "need more than \(Self.steps) rows on each side of the split")
        }
        self.records = records
        let series = PreparedSeries(records: records)
        let normalisation = normalisation ?? Normalisation(fittedTo: series)
        self.series = series
        self.normalisation = normalisation
        if let problem = normalisation.validationProblem() {
            throw DataFileError(file: source, line: 0, reason: problem)
        }
        trainRowCount = split
        let (x, y) = normalisation.normalised(series)
        train = WindowedData(features: x, targets: y, rows: 0..<split, steps: Self.steps)
        test = WindowedData(features: x, targets: y, rows: split..<records.count, steps: Self.steps)
    }

    /// Reads and prepares a PRSA CSV.
    public init(csv text: String, file: String, testYear: Int = 2014, normalisation: Normalisation? = nil)
        throws(DataFileError)
    {
        try self.init(
            records: try PRSAReader.parse(text, file: file), testYear: testYear, normalisation: normalisation,
            source: file)
    }
}
