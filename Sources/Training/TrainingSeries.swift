import AirQuality

/// Hourly histories of many stations, as runs of consecutive hours, raw (before any input
/// encoding): what the recursive trainer learns from.
public struct TrainingSeries: Sendable {
    /// One station's run of consecutive hours (short gaps filled).
    public struct Segment: Sendable {
        public var station: String
        public var firstHour: Int64
        /// Raw rows, six features each in ``Feature`` order.
        public var raw: [Double]
        public var rowCount: Int { raw.count / Feature.allCases.count }
        public var lastHour: Int64 { firstHour + Int64(rowCount) - 1 }
    }

    public var segments: [Segment]

    public init(segments: [Segment]) { self.segments = segments }

    /// The readings of the hours in `hours` (any order), through a ``Builder``.
    public init(
        readings: [Reading], hours: Range<Int64> = Int64.min..<Int64.max, maximumGapHours: Int = 3,
        minimumRows: Int = Builder.defaultMinimumRows
    ) {
        let kept = readings.indices.filter { hours.contains(readings[$0].hour) }.sorted {
            let a = readings[$0]
            let b = readings[$1]
            return (a.station, a.hour, $0) < (b.station, b.hour, $1)
        }
        var builder = Builder(maximumGapHours: maximumGapHours, minimumRows: minimumRows)
        for i in kept { builder.add(readings[i]) }
        self = builder.finish()
    }

    public var rowCount: Int { segments.reduce(0) { $0 + $1.rowCount } }

    /// Origins the recursive trainer can draw: hours with `steps` rows up to them and `hours`
    /// after them in the same run.
    public func originCount(steps: Int, hours: Int) -> Int {
        segments.reduce(0) { $0 + max(0, $1.rowCount - steps - hours + 1) }
    }
}

extension TrainingSeries {
    /// Builds the series one reading at a time from readings grouped by station and in hour
    /// order within a station, as the reading log's cursor hands them over, so that no more
    /// than one hour of readings is held besides the rows built.
    ///
    /// The rules are the daemon's window's (``StationWindow``), so a model retrained on the log
    /// sees its hours as the daemon will: the readings of one hour are averaged, the wind
    /// direction is the hour's latest reading's, gaps of up to `maximumGapHours` missing hours
    /// are filled by ``Feature/interpolatedRow(from:to:at:)``, and a longer gap ends a run. Runs
    /// of `minimumRows` rows or fewer are dropped. Two differences stay: the rows are rounded
    /// to Float after filling (the window keeps Float means), and only readings with every
    /// input are taken (the window averages each input over the readings that had it).
    public struct Builder: Sendable {
        public let maximumGapHours: Int
        public let minimumRows: Int
        private var segments: [Segment] = []
        private var run: Segment?
        private var station = ""
        private var hour = Int64.min
        private var sum: [Double] = []
        private var count = 0
        private var wind = WindDirection.calm
        /// The run's newest row before rounding.
        private var lastRow: [Double] = []
        /// Readings that came out of order (an earlier hour of the station) and were left out.
        public private(set) var outOfOrder = 0
        /// Readings without some weather input (stations forecast by a model for fewer
        /// inputs), left out: the six-input model learns from whole rows only.
        public private(set) var incomplete = 0

        /// Runs this short or shorter are dropped unless a caller says otherwise.
        public static let defaultMinimumRows = 32

        public init(maximumGapHours: Int, minimumRows: Int = defaultMinimumRows) {
            self.maximumGapHours = maximumGapHours
            self.minimumRows = minimumRows
        }

        public mutating func add(_ r: Reading) {
            guard r.features.allSatisfy(\.isFinite) else {
                incomplete += 1
                return
            }
            if count > 0, r.station == station, r.hour == hour {
                for (i, v) in r.features.enumerated() { sum[i] += v }
                count += 1
                wind = r.windDirection
                return
            }
            if count > 0, r.station == station, r.hour < hour {
                outOfOrder += 1
                return
            }
            closeHour()
            if r.station != station { closeRun() }
            station = r.station
            hour = r.hour
            sum = r.features
            count = 1
            wind = r.windDirection
        }

        public mutating func finish() -> TrainingSeries {
            closeHour()
            closeRun()
            return TrainingSeries(segments: segments)
        }

        private mutating func closeHour() {
            guard count > 0 else { return }
            var row = sum.map { $0 / Double(count) }
            let w = Feature.windDirection.rawValue
            row[w] = wind.code
            count = 0
            // The rows are kept rounded to Float, as the course's float32 arrays (and
            // ``PreparedSeries``) are; gaps are filled from the unrounded rows either side.
            func rounded(_ values: [Double]) -> [Double] { values.map { Double(Float($0)) } }
            defer { lastRow = row }
            // No copy of the run is held while it grows: that would copy its rows every hour.
            let lastHour = run.map { $0.station == station ? $0.lastHour : Int64.min } ?? Int64.min
            guard lastHour != Int64.min, hour - lastHour - 1 <= Int64(maximumGapHours) else {
                closeRun()
                run = Segment(station: station, firstHour: hour, raw: rounded(row))
                return
            }
            let missing = Int(hour - lastHour) - 1
            for k in stride(from: 1, through: missing, by: 1) {
                run!.raw += rounded(
                    Feature.interpolatedRow(from: lastRow, to: row, at: Double(k) / Double(missing + 1)))
            }
            run!.raw += rounded(row)
        }

        private mutating func closeRun() {
            if let current = run, current.rowCount > minimumRows { segments.append(current) }
            run = nil
        }
    }
}
