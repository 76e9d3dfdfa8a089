/// The last hours of one station's readings, hour by hour, as the model's input window.
///
/// Readings are averaged into hourly slots (the wind direction is the latest reading's). A late
/// reading for an hour still held updates that hour; a second reading in the same minute of the
/// same hour counts as a duplicate and changes nothing; a reading older than the slots held is
/// refused. Missing hours of up to `maximumGapHours` are interpolated when the window is read;
/// a longer gap means no window until enough hours have passed since it. Small: a few dozen
/// bytes an hour, so a daemon can hold many thousands of stations.
public struct StationWindow: Sendable {
    struct Slot: Sendable {
        var hour: Int32 = -1
        var count: UInt16 = 0
        var direction: UInt8 = 0
        var pm25: Float = 0
        var dewPoint: Float = 0
        var temperature: Float = 0
        var pressure: Float = 0
        var windSpeed: Float = 0
        /// Bit m set: a reading for minute m of the hour was counted.
        var minutes: UInt64 = 0
        /// Readings that had each weather input (dew point, temperature, pressure, wind): a
        /// reading without one (a weather source not heard from yet) leaves that mean alone.
        var dewPointCount: UInt16 = 0
        var temperatureCount: UInt16 = 0
        var pressureCount: UInt16 = 0
        var windCount: UInt16 = 0
    }

    public let steps: Int
    public let maximumGapHours: Int
    private var slots: ContiguousArray<Slot>
    /// The newest hour holding a reading.
    public private(set) var newestHour: Int64?
    /// The newest hour a forecast was made from.
    public var lastForecastHour: Int64?

    public init(steps: Int = 24, maximumGapHours: Int = 3) {
        precondition(steps >= 1 && maximumGapHours >= 0)
        self.steps = steps
        self.maximumGapHours = maximumGapHours
        slots = ContiguousArray(repeating: Slot(), count: steps + maximumGapHours + 1)
    }

    /// Hours held, oldest first, that count for the window ending at the newest hour.
    public var heldHours: Int {
        guard let newest = newestHour else { return 0 }
        return slots.filter { $0.hour >= 0 && Int64($0.hour) > newest - Int64(slots.count) }.count
    }

    private func index(_ hour: Int64) -> Int { Int(hour % Int64(slots.count)) }

    public enum Outcome: Sendable, Equatable {
        /// Counted into `hour`; `readings` is that hour's count so far.
        case counted(hour: Int64, readings: Int)
        /// Not counted: a reading stamped on arrival in a minute of `hour` already counted.
        case passedOver(hour: Int64)
    }

    /// The same hours under another gap limit (a reload that changes `max_gap_hours`): every
    /// held hour that still fits is kept, so the station goes on forecasting.
    public func withMaximumGapHours(_ gap: Int) -> StationWindow {
        var fresh = StationWindow(steps: steps, maximumGapHours: gap)
        fresh.lastForecastHour = lastForecastHour
        guard let newest = newestHour else { return fresh }
        fresh.newestHour = newest
        for slot in slots where slot.hour >= 0 && Int64(slot.hour) > newest - Int64(fresh.slots.count) {
            fresh.slots[fresh.index(Int64(slot.hour))] = slot
        }
        return fresh
    }

    /// Adds a reading, or says why it was not counted. `skipSameMinute`: a second reading in a
    /// minute already counted is passed over without a refusal (readings stamped on arrival,
    /// which a sensor sends every few seconds and a redelivery cannot repeat).
    public mutating func add(_ r: Reading, skipSameMinute: Bool = false) -> Result<Outcome, Rejection> {
        let hour = r.hour
        guard hour >= 0, hour < Int64(Int32.max) else {
            return .failure(Rejection(.badTime, "time \(r.time) is outside the years 1970-245000"))
        }
        if let newest = newestHour, hour <= newest - Int64(slots.count) {
            return .failure(
                Rejection(
                    .tooOld,
                    "reading for \(Self.label(hour)) is older than the \(slots.count) hours held (newest \(Self.label(newest)))"
                ))
        }
        let i = index(hour)
        if slots[i].hour != Int32(hour) { slots[i] = Slot(hour: Int32(hour)) }
        let minute = UInt64(((r.time % 3600) + 3600) % 3600 / 60)
        if slots[i].minutes & (1 << minute) != 0, skipSameMinute {
            return .success(.passedOver(hour: hour))
        }
        if slots[i].minutes & (1 << minute) != 0 {
            return .failure(
                Rejection(.duplicate, "a reading for \(Self.label(hour)) minute \(minute) was already counted"))
        }
        slots[i].minutes |= 1 << minute
        let n = Float(slots[i].count)
        func mean(_ old: Float, _ new: Double) -> Float { (old * n + Float(new)) / (n + 1) }
        slots[i].pm25 = mean(slots[i].pm25, r.pm25)
        /// The mean of the readings that had the input; NaN while none had.
        func mean(_ old: inout Float, _ count: inout UInt16, _ new: Double) {
            guard new.isFinite else {
                if count == 0 { old = .nan }
                return
            }
            let k = Float(count)
            old = count == 0 ? Float(new) : (old * k + Float(new)) / (k + 1)
            count &+= 1
        }
        var slot = slots[i]
        mean(&slot.dewPoint, &slot.dewPointCount, r.dewPoint)
        mean(&slot.temperature, &slot.temperatureCount, r.temperature)
        mean(&slot.pressure, &slot.pressureCount, r.pressure)
        let hadWind = slot.windCount > 0
        mean(&slot.windSpeed, &slot.windCount, r.windSpeed)
        if r.windSpeed.isFinite || !hadWind {
            slot.direction = UInt8(WindDirection.allCases.firstIndex(of: r.windDirection)!)
        }
        slot.count += 1
        slots[i] = slot
        if newestHour.map({ hour > $0 }) ?? true { newestHour = hour }
        return .success(.counted(hour: hour, readings: Int(slots[i].count)))
    }

    /// Why there is no window ending at an hour.
    public struct Incomplete: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        /// The part that stays the same while the window fills (no running count): what a
        /// station's published state says, so it is not republished with every reading.
        public var summary: String

        public init(description: String, summary: String? = nil) {
            self.description = description
            self.summary = summary ?? description
        }
    }

    /// The `steps` hours ending at `end`, six raw features each, oldest first, with gaps of up
    /// to `maximumGapHours` filled by ``Feature/interpolatedRow(from:to:at:)``.
    public func window(endingAt end: Int64) -> Result<[Double], Incomplete> {
        let first = end - Int64(steps) + 1
        func slot(_ hour: Int64) -> Slot? {
            guard hour >= 0, let newest = newestHour, hour > newest - Int64(slots.count) else { return nil }
            let s = slots[index(hour)]
            return s.hour == Int32(hour) && s.count > 0 ? s : nil
        }
        guard slot(end) != nil else {
            return .failure(Incomplete(description: "no reading for \(Self.label(end))"))
        }
        // The last present hour at or before the window's first hour, for interpolating into it.
        var previous: Int64? = nil
        var h = first
        while h >= first - Int64(maximumGapHours) - 1 {
            if slot(h) != nil {
                previous = h
                break
            }
            h -= 1
        }
        var rows: [Double] = []
        rows.reserveCapacity(steps * Feature.allCases.count)
        var hour = first
        while hour <= end {
            if let s = slot(hour) {
                rows += Self.features(s)
                previous = hour
                hour += 1
                continue
            }
            var next = hour + 1
            while next <= end, slot(next) == nil { next += 1 }
            let gap = next - (previous ?? next) - 1
            guard let p = previous, gap <= Int64(maximumGapHours) else {
                let missing = next - hour
                if previous == nil {
                    return .failure(
                        Incomplete(
                            description:
                                "window incomplete: \(end - next + 1) of \(steps) hours up to \(Self.label(end))",
                            summary: "window incomplete: forecasts start at \(Self.label(next + Int64(steps) - 1))"))
                }
                return .failure(
                    Incomplete(
                        description:
                            "gap of \(missing) hours before \(Self.label(next)) (interpolated up to \(maximumGapHours))"
                    ))
            }
            let a = Self.features(slot(p)!)
            let b = Self.features(slot(next)!)
            while hour < next {
                let w = Double(hour - p) / Double(next - p)
                if hour >= first { rows += Feature.interpolatedRow(from: a, to: b, at: w) }
                hour += 1
            }
        }
        return .success(rows)
    }

    static func features(_ s: Slot) -> [Double] {
        [
            Double(s.pm25), Double(s.dewPoint), Double(s.temperature), Double(s.pressure),
            WindDirection.allCases[Int(s.direction)].code, Double(s.windSpeed),
        ]
    }

    /// `yyyy-mm-ddThh:00Z` for an hour count since 1970.
    public static func label(_ hour: Int64) -> String { isoHour(hour) }
}
