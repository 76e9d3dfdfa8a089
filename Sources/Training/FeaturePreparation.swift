import AirQuality

/// PRSA rows turned into the course's feature matrix and integer targets (docs/course.md steps 1-5, 7).
public struct PreparedSeries: Sendable {
    /// Row-major, `rowCount x Feature.allCases.count`, unnormalised, rounded to Float as the
    /// course's float32 arrays are.
    public var features: [Double]
    /// The target of each row: next hour's PM2.5 truncated to an integer (µg/m³).
    public var targets: [Double]
    public var rowCount: Int { targets.count }
    public static let featureCount = Feature.allCases.count

    public func feature(_ f: Feature, row: Int) -> Double { features[row * Self.featureCount + f.rawValue] }

    public init(features: [Double], targets: [Double]) {
        precondition(features.count == targets.count * Self.featureCount)
        self.features = features
        self.targets = targets
    }

    public init(records: [PRSARecord]) {
        precondition(records.count >= 2, "need at least two rows")
        let pm = Self.interpolate(records.map(\.pm25))
        let speed = Self.deaccumulatedWindSpeed(records)
        self.init(
            rows: records.enumerated().map { r, rec in
                [pm[r], rec.dewPoint, rec.temperature, rec.pressure, rec.windDirection.code, speed[r]]
            })
    }

    /// Consecutive hourly rows of the six raw features, in ``Feature`` order: the features
    /// rounded to Float (as the course's float32 arrays are), and each row's target next hour's
    /// PM2.5 truncated to an integer. The last row has no next hour; its target extrapolates,
    /// and no window ends on it.
    public init(rows: [[Double]]) {
        precondition(rows.count >= 2, "need at least two rows")
        let pm = rows.map { $0[Feature.pm25.rawValue] }
        let targets = pm.indices.map { r -> Double in
            let next = r + 1 < pm.count ? pm[r + 1] : 2 * pm[r] - pm[r - 1]
            return Double(Int32(next.rounded(.towardZero)))
        }
        self.init(features: rows.flatMap { $0.map { Double(Float($0)) } }, targets: targets)
    }

    /// Fills missing values by linear interpolation between the previous valid value and the next
    /// one; before the first row the previous value is taken as 0; after the last valid value
    /// that value is carried forward.
    public static func interpolate(_ values: [Double?]) -> [Double] {
        var out = [Double](repeating: 0, count: values.count)
        var previousIndex = -1
        var previousValue = 0.0
        var i = 0
        while i < values.count {
            if let v = values[i] {
                out[i] = v
                previousIndex = i
                previousValue = v
                i += 1
                continue
            }
            var j = i
            while j < values.count, values[j] == nil { j += 1 }
            if j == values.count {
                for k in i..<j { out[k] = previousValue }
            } else {
                let next = values[j]!
                let span = Double(j - previousIndex)
                for k in i..<j { out[k] = previousValue + (next - previousValue) * Double(k - previousIndex) / span }
            }
            i = j
        }
        return out
    }

    /// Undoes the PRSA accumulation of wind speed: where the direction is the previous row's,
    /// the hour's value is the difference of the raw cumulated values, else the raw value.
    public static func deaccumulatedWindSpeed(_ records: [PRSARecord]) -> [Double] {
        records.indices.map { r in
            if r > 0, records[r].windDirection == records[r - 1].windDirection {
                return records[r].cumulatedWindSpeed - records[r - 1].cumulatedWindSpeed
            }
            return records[r].cumulatedWindSpeed
        }
    }
}

extension Normalisation {
    /// Ranges over every row of the series, as the course does (train and test together).
    public init(fittedTo series: PreparedSeries) {
        let n = PreparedSeries.featureCount
        let features = (0..<n).map { f in
            MinMaxRange(covering: stride(from: f, to: series.features.count, by: n).lazy.map { series.features[$0] })
        }
        self.init(features: features, target: MinMaxRange(covering: series.targets))
    }

    /// The series' features and targets, normalised (row-major features, as in the series).
    public func normalised(_ series: PreparedSeries) -> (features: [Double], targets: [Double]) {
        (normalised(inputs: series.features), series.targets.map { target.normalise($0) })
    }
}
