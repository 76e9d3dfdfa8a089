import AirQuality

/// The reading log turned into what the one-hour recipes retrain on: for every station, runs
/// of consecutive hours ("segments") with the model's six features and next-hour targets, cut
/// at a time into a training side and a newest held-out side. Each segment is a
/// ``PreparedSeries``, as the PRSA file becomes one.
public struct LogSeries: Sendable {
    public struct Segment: Sendable {
        public var station: String
        /// Hours since 1970 of the segment's first row.
        public var firstHour: Int64
        public var series: PreparedSeries
    }

    public var training: [Segment]
    public var holdout: [Segment]
    /// The first held-out hour.
    public var splitHour: Int64

    /// Splits at `holdoutHours` before the newest hour in `readings`; each side's runs are
    /// built by ``TrainingSeries/Builder`` (the same averaging and gap rules as the recursive
    /// trainer's), runs of `minimumRows` rows or fewer (default `steps + 1`) dropped.
    public init(
        readings: [Reading], holdoutHours: Int, maximumGapHours: Int, steps: Int = PRSADataset.steps,
        minimumRows: Int? = nil
    ) {
        let newest = readings.lazy.map(\.hour).max()
        let split = newest.map { $0 - Int64(holdoutHours) + 1 } ?? 0
        splitHour = split
        let f = Feature.allCases.count
        func side(_ hours: Range<Int64>) -> [Segment] {
            let series = TrainingSeries(
                readings: readings, hours: hours, maximumGapHours: maximumGapHours,
                minimumRows: minimumRows ?? steps + 1)
            return series.segments.map { s in
                let rows = (0..<s.rowCount).map { Array(s.raw[($0 * f)..<(($0 + 1) * f)]) }
                return Segment(station: s.station, firstHour: s.firstHour, series: PreparedSeries(rows: rows))
            }
        }
        training = side(Int64.min..<split)
        holdout = side(split..<Int64.max)
    }

    /// Min-max ranges over the training side (the held-out hours are not looked at).
    public func fittedNormalisation() -> Normalisation {
        Normalisation(
            fittedTo: PreparedSeries(
                features: training.flatMap(\.series.features), targets: training.flatMap(\.series.targets)))
    }

    /// All training segments pooled into one window set; no window spans two segments.
    public func trainingWindows(_ normalisation: Normalisation, steps: Int = PRSADataset.steps) -> WindowedData? {
        guard !training.isEmpty else { return nil }
        var features: [Double] = []
        var targets: [Double] = []
        var selection: [Int] = []
        for segment in training {
            let (x, y) = normalisation.normalised(segment.series)
            let first = targets.count
            selection.append(contentsOf: (0..<(y.count - steps)).map { first + $0 })
            features.append(contentsOf: x)
            targets.append(contentsOf: y)
        }
        return WindowedData(
            features: features, targets: targets, rows: 0..<targets.count, steps: steps,
            selection: selection)
    }

    /// Each held-out segment as a window set of its own, for the recursive evaluation, which
    /// needs consecutive windows to be consecutive hours.
    public func holdoutWindows(_ normalisation: Normalisation, steps: Int = PRSADataset.steps) -> [WindowedData] {
        holdout.map {
            let (x, y) = normalisation.normalised($0.series)
            return WindowedData(features: x, targets: y, rows: 0..<y.count, steps: steps)
        }
    }

    public var trainingWindowCount: Int { training.reduce(0) { $0 + $1.series.rowCount - PRSADataset.steps } }
    public var holdoutWindowCount: Int { holdout.reduce(0) { $0 + $1.series.rowCount - PRSADataset.steps } }
}
