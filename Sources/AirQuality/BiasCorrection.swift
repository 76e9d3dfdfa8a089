/// A station's running bias correction: the mean error (forecast minus truth) of the model's
/// own forecasts there over the last `days` days, per hour ahead, taken off its next forecasts.
///
/// A model carries the level of the years it was trained on; a station whose air is cleaner or
/// dirtier than those years, or a sensor that reads high, leaves a steady error that grows with
/// the hours ahead. The correction learns it from the forecasts the station has had, so it
/// follows a season or a change of sensor within weeks. It is shrunk towards zero while few
/// errors are known: `sum / (count + priorPairs)`, so the first day moves a forecast by half
/// its mean error at most. Errors are kept per day of the truth's hour (UTC), a bucket per day
/// and hour ahead, so the state is small and can be logged and read back at a restart.
public struct BiasCorrection: Sendable, Equatable {
    /// The errors of one day (UTC, of the truth's hour) at one hour ahead.
    public struct Bucket: Sendable, Equatable {
        public var day: Int64
        public var sum: Double
        public var count: Int

        public init(day: Int64, sum: Double, count: Int) {
            self.day = day
            self.sum = sum
            self.count = count
        }
    }

    /// One error learnt: the model's own forecast (before the correction) minus the truth.
    public struct Error: Sendable, Equatable {
        public var horizon: Int
        public var day: Int64
        public var error: Double

        public init(horizon: Int, day: Int64, error: Double) {
            self.horizon = horizon
            self.day = day
            self.error = error
        }
    }

    /// The errors' weight against a correction of zero: a day's worth of hourly pairs.
    public static let priorPairs = 24.0

    /// Days of errors the correction averages over.
    public let days: Int
    /// The model whose errors these are (its ``ModelFile/identity(name:)``): another model's
    /// forecasts start a fresh correction.
    public let model: String
    /// Per hour ahead (index 0 = 1 hour), the days' buckets, oldest first.
    public private(set) var buckets: [[Bucket]] = []
    /// The model's own forecasts whose hour has not come yet: by that hour, the value per hour
    /// ahead (index 0 = 1 hour; NaN where that hour ahead did not forecast it).
    private var pending: [Int64: [Double]] = [:]

    public init(days: Int, model: String) {
        self.days = days
        self.model = model
    }

    /// A correction holding logged buckets (``Bucket`` per hour ahead, in any order).
    public init(days: Int, model: String, buckets logged: [(horizon: Int, bucket: Bucket)]) {
        self.init(days: days, model: model)
        for (h, b) in logged {
            guard (1...Forecaster.maximumHorizon).contains(h), (1...100_000).contains(b.count), b.sum.isFinite
            else { continue }
            grow(to: h)
            buckets[h - 1].append(b)
        }
        for h in self.buckets.indices { self.buckets[h].sort { $0.day < $1.day } }
    }

    private mutating func grow(to horizon: Int) {
        while buckets.count < horizon { buckets.append([]) }
    }

    /// Takes the truth of `hour` (its mean PM2.5): each pending forecast of it gives an error.
    /// Returns them, for the log.
    public mutating func observe(hour: Int64, truth: Double) -> [Error] {
        defer { for key in pending.keys.filter({ $0 < hour }) { pending.removeValue(forKey: key) } }
        guard let forecasts = pending.removeValue(forKey: hour), truth.isFinite else { return [] }
        let day = Self.day(of: hour)
        var learnt: [Error] = []
        for (i, value) in forecasts.enumerated() where value.isFinite {
            let e = value - truth
            learnt.append(Error(horizon: i + 1, day: day, error: e))
            add(e, horizon: i + 1, day: day)
        }
        return learnt
    }

    private mutating func add(_ error: Double, horizon: Int, day: Int64) {
        grow(to: horizon)
        let h = horizon - 1
        if let last = buckets[h].indices.last, buckets[h][last].day == day {
            buckets[h][last].sum += error
            buckets[h][last].count += 1
        } else {
            buckets[h].append(Bucket(day: day, sum: error, count: 1))
            let oldest = day - Int64(days)
            buckets[h].removeAll { $0.day <= oldest }
        }
    }

    /// What to add to the model's forecast of each of `hours` hours ahead from `origin`: minus
    /// the shrunk mean error of the last `days` days (up to the origin's day) at that hour ahead.
    public func corrections(from origin: Int64, hours: Int) -> [Double] {
        let today = Self.day(of: origin)
        return (0..<hours).map { i in
            guard i < buckets.count else { return 0 }
            var sum = 0.0
            var count = 0
            for b in buckets[i] where b.day > today - Int64(days) && b.day <= today {
                sum += b.sum
                count += b.count
            }
            return -sum / (Double(count) + Self.priorPairs)
        }
    }

    /// Keeps the model's own forecasts from `origin` (index 0 = 1 hour ahead), to learn from when
    /// their hours come.
    public mutating func expect(from origin: Int64, _ values: [Double]) {
        for (i, v) in values.enumerated() {
            let hour = origin + Int64(i) + 1
            pending[hour, default: []].pad(to: i + 1)
            pending[hour]![i] = v
        }
    }

    /// The same correction, averaging over `days` days from now on: the buckets and pending
    /// forecasts are kept.
    public func with(days: Int) -> BiasCorrection {
        var copy = BiasCorrection(days: days, model: model)
        copy.buckets = buckets
        copy.pending = pending
        return copy
    }

    /// The UTC day (days since 1970) of an hour count since 1970.
    public static func day(of hour: Int64) -> Int64 { hour >= 0 ? hour / 24 : (hour - 23) / 24 }
}

extension Array where Element == Double {
    /// Appends NaN until the array holds `count` values.
    fileprivate mutating func pad(to count: Int) {
        while self.count < count { append(.nan) }
    }
}
