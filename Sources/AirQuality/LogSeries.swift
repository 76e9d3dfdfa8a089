/// The reading log turned into what retraining needs: for every station, runs of consecutive
/// hours ("segments") with the model's six features and next-hour targets, cut at a time into
/// a training side and a newest held-out side.
///
/// Several readings in one hour are averaged (as the daemon's window does); gaps of up to
/// `maximumGapHours` missing hours are filled by linear interpolation, the wind direction carried
/// forward; a longer gap ends a segment. Each segment is a ``PreparedSeries``, as the PRSA file
/// becomes one.
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

    /// Splits at `holdoutHours` before the newest hour in `readings`.
    public init(
        readings: [Reading], holdoutHours: Int, maximumGapHours: Int, steps: Int = PRSADataset.steps,
        minimumRows: Int? = nil
    ) {
        var byStation: [String: [Int64: (sum: [Double], count: Int, wind: WindDirection)]] = [:]
        var newest = Int64.min
        for r in readings {
            newest = max(newest, r.hour)
            // In place: taking the station's table out and back would copy it for every reading.
            if byStation[r.station]?[r.hour] != nil {
                for (i, v) in r.features.enumerated() { byStation[r.station]![r.hour]!.sum[i] += v }
                byStation[r.station]![r.hour]!.count += 1
            } else {
                byStation[r.station, default: [:]][r.hour] = (r.features, 1, r.windDirection)
            }
        }
        splitHour = newest == .min ? 0 : newest - Int64(holdoutHours) + 1
        training = []
        holdout = []
        for station in byStation.keys.sorted() {
            let hours = byStation[station]!
            let rows = hours.keys.sorted().map { hour -> (Int64, [Double]) in
                let slot = hours[hour]!
                var features = slot.sum.map { $0 / Double(slot.count) }
                features[Feature.windDirection.rawValue] = slot.wind.code
                return (hour, features)
            }
            for run in Self.runs(rows, maximumGapHours: maximumGapHours) {
                let before = run.filter { $0.0 < splitHour }
                let after = run.filter { $0.0 >= splitHour }
                for (part, side) in [(before, 0), (after, 1)] where part.count > (minimumRows ?? steps + 1) {
                    let segment = Segment(station: station, firstHour: part[0].0, series: PreparedSeries(rows: part.map(\.1)))
                    if side == 0 { training.append(segment) } else { holdout.append(segment) }
                }
            }
        }
    }

    /// Consecutive hours, short gaps filled, split at long ones.
    static func runs(_ rows: [(Int64, [Double])], maximumGapHours: Int) -> [[(Int64, [Double])]] {
        var out: [[(Int64, [Double])]] = []
        var current: [(Int64, [Double])] = []
        for row in rows {
            if let last = current.last {
                let missing = Int(row.0 - last.0) - 1
                if missing > maximumGapHours {
                    out.append(current)
                    current = []
                } else if missing > 0 {
                    for k in 1...missing {
                        let t = Double(k) / Double(missing + 1)
                        var filled = zip(last.1, row.1).map { $0 + ($1 - $0) * t }
                        filled[Feature.windDirection.rawValue] = last.1[Feature.windDirection.rawValue]
                        current.append((last.0 + Int64(k), filled))
                    }
                }
            }
            current.append(row)
        }
        if !current.isEmpty { out.append(current) }
        return out
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
        return WindowedData(features: features, targets: targets, rows: 0..<targets.count, steps: steps,
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
