import Foundation

/// The daemon's core, without I/O: readings in, forecasts and reasons out.
///
/// Holds one ``StationWindow`` per station. When a station's hour is complete — a reading for a
/// later hour arrives, or `readingsPerHour` readings for it did — it forecasts the next hours
/// from the window ending at that hour. Called from one thread at a time (the MQTT network
/// thread); ``snapshot()`` may be called from any thread.
public final class ForecastEngine: @unchecked Sendable {
    // @unchecked: every stored property is read and written under `lock`.
    public struct Settings: Sendable, Equatable {
        public var horizonHours = 8
        public var maximumGapHours = 3
        public var readingsPerHour = 1
        public var maximumFutureSeconds = 600
        public var stationReadingsPerMinute = 600
        /// Stations held at most; a reading or weather forecast for one more is refused.
        public var maximumStations = 100_000
        /// A station that sent nothing for this long leaves memory (its log stays); its next
        /// reading starts a new window.
        public var stationExpiryHours = 168

        public init() {}
    }

    /// Totals since start, for the status line and the journal.
    public struct Counters: Sendable, Equatable {
        public var accepted = 0
        public var forecasts = 0
        public var rejected: [Rejection.Code: Int] = [:]
        public var stations = 0
        public var rejectedTotal: Int { rejected.values.reduce(0, +) }
    }

    public enum Outcome: Sendable {
        case rejected(Rejection)
        /// Counted; `forecast` is set when an hour completed and the window was whole, and
        /// `waiting` says why not when it was not. `state` is set when the station's state
        /// (forecasting, or waiting for a reason) differs from the one last reported.
        case accepted(hour: Int64, forecast: StationForecast?, waiting: String?, state: StationState? = nil)
    }

    struct Station {
        var window: StationWindow
        var tokens: Double
        var lastRefill: Double
        /// Why the last completed hour gave no forecast; nil when it did.
        var waiting: String?
        /// Expected weather by hour, from the weather-forecast topic (raw features).
        var weather: [Int64: [Double]] = [:]
        /// The state last reported for this station.
        var reported: StationState?
    }

    private let lock = NSLock()
    /// Called (under the engine's lock, on the caller's thread) with every accepted reading.
    private let onAccepted: (@Sendable (Reading) -> Void)?
    private var model: ModelFile
    private var modelIdentity: String
    private var forecaster: Forecaster
    private var settings: Settings
    private var stations: [String: Station] = [:]
    private var counters = Counters()
    /// When stations were last looked over for expiry (once a minute of the callers' clock).
    private var lastSweep = -Double.infinity

    public init(
        model: ModelFile, modelName: String, settings: Settings, onAccepted: (@Sendable (Reading) -> Void)? = nil
    ) {
        self.onAccepted = onAccepted
        self.model = model
        self.modelIdentity = model.identity(name: modelName)
        self.forecaster = Forecaster(model: model)
        self.settings = settings
    }

    /// Swaps in a new model and settings (a reload); the station windows are kept, also when the
    /// gap limit changes.
    public func replace(model: ModelFile, modelName: String, settings: Settings) {
        lock.lock()
        defer { lock.unlock() }
        self.model = model
        self.modelIdentity = model.identity(name: modelName)
        self.forecaster = Forecaster(model: model)
        if settings.maximumGapHours != self.settings.maximumGapHours {
            for key in stations.keys {
                stations[key]!.window = stations[key]!.window.withMaximumGapHours(settings.maximumGapHours)
            }
        }
        self.settings = settings
    }

    public func snapshot() -> Counters {
        lock.lock()
        defer { lock.unlock() }
        var c = counters
        c.stations = stations.count
        return c
    }

    /// Why a station has no forecast right now, or nil when it had one for its newest hour.
    public func status(of station: String) -> String? {
        lock.lock()
        defer { lock.unlock() }
        guard let s = stations[station] else { return nil }
        return s.waiting ?? s.window.lastForecastHour.map { "forecast from \(isoHour($0))" }
    }

    /// Handles one payload for `station`; `now` is the wall clock in Unix seconds.
    public func ingest(station: String, payload: [UInt8], retained: Bool, now: Double) -> Outcome {
        lock.lock()
        defer { lock.unlock() }
        if retained {
            return reject(Rejection(.retained, "retained message (left on the broker earlier), not a live reading"))
        }
        let reading: Reading
        switch ReadingDecoder.decode(payload, station: station) {
        case .failure(let r): return reject(r)
        case .success(let r): reading = r
        }
        return ingestLocked(reading, now: now)
    }

    /// Handles one decoded reading (a history replayed by the backtest: the same path as a
    /// live payload's from here on); `now` is the clock the reading is judged by.
    public func ingest(_ reading: Reading, now: Double) -> Outcome {
        lock.lock()
        defer { lock.unlock() }
        return ingestLocked(reading, now: now)
    }

    private func ingestLocked(_ reading: Reading, now: Double) -> Outcome {
        let station = reading.station
        if Double(reading.time) > now + Double(settings.maximumFutureSeconds) {
            return reject(
                Rejection(
                    .future,
                    "time \(isoHour(reading.hour)) is more than \(settings.maximumFutureSeconds) s ahead of this clock")
            )
        }
        if let refused = admit(station, now: now) { return reject(refused) }
        // In place: a copy of the station would copy its window on every reading.
        return update(&stations[station]!, with: reading, now: now)
    }

    /// Makes room for `station` if it is new: drops the stations that expired, then refuses a
    /// new one past ``Settings/maximumStations``.
    private func admit(_ station: String, now: Double) -> Rejection? {
        if now - lastSweep >= 60 {
            lastSweep = now
            let limit = Double(settings.stationExpiryHours) * 3600
            stations = stations.filter { now - $0.value.lastRefill <= limit }
        }
        guard stations[station] == nil else { return nil }
        guard stations.count < settings.maximumStations else {
            return Rejection(
                .tooManyStations,
                "already \(settings.maximumStations) stations (max_stations); readings for a new one are refused")
        }
        stations[station] = newStation(now: now)
        return nil
    }

    /// Rebuilds station windows from logged readings (oldest first) and forecasts at once from
    /// each station's newest hour whose window is whole; nothing is counted or logged again.
    public func restore(_ readings: [Reading], now: Double) -> [StationForecast] {
        lock.lock()
        defer { lock.unlock() }
        for r in readings {
            guard admit(r.station, now: now) == nil else { continue }
            _ = stations[r.station]!.window.add(r)
        }
        var out: [StationForecast] = []
        for key in stations.keys.sorted() {
            guard let hour = stations[key]!.window.newestHour,
                case .success(let rows) = stations[key]!.window.window(endingAt: hour)
            else { continue }
            let hours = forecaster.forecast(window: rows, hours: settings.horizonHours)
            stations[key]!.window.lastForecastHour = hour
            stations[key]!.reported = .forecasting
            out.append(
                StationForecast(
                    station: key, basedOnHour: hour, issuedAt: now, model: modelIdentity, hours: hours,
                    intervalLevels: forecaster.intervalLevels))
        }
        return out
    }

    /// Stores a station's weather forecast for the hours ahead; returns how many hours it holds
    /// now. Hours already observed are dropped; a later forecast for an hour replaces an earlier.
    /// Retained weather forecasts are fine: a forecast is naturally the latest state.
    public func ingestWeather(station: String, payload: [UInt8], now: Double) -> Result<Int, Rejection> {
        lock.lock()
        defer { lock.unlock() }
        let hours: [ReadingDecoder.WeatherHour]
        switch ReadingDecoder.decodeWeather(payload, station: station) {
        case .failure(let r):
            counters.rejected[r.code, default: 0] += 1
            return .failure(r)
        case .success(let h): hours = h
        }
        if let refused = admit(station, now: now) {
            counters.rejected[refused.code, default: 0] += 1
            return .failure(refused)
        }
        store(hours, station: station, now: now)
        return .success(stations[station]!.weather.count)
    }

    /// Stores a station's expected weather for the hours ahead, as ``ingestWeather(station:payload:now:)``
    /// does once the payload is read (the backtest gives it the history's observed weather).
    public func storeWeather(_ hours: [ReadingDecoder.WeatherHour], station: String, now: Double) {
        lock.lock()
        defer { lock.unlock() }
        store(hours, station: station, now: now)
    }

    private func store(_ hours: [ReadingDecoder.WeatherHour], station: String, now: Double) {
        if stations[station] == nil { stations[station] = newStation(now: now) }
        let newest = stations[station]!.window.newestHour ?? .min
        for h in hours where h.hour > newest { stations[station]!.weather[h.hour] = h.features }
        if stations[station]!.weather.count > 96 {
            let keep = stations[station]!.weather.keys.sorted().suffix(96)
            stations[station]!.weather = stations[station]!.weather.filter { keep.contains($0.key) }
        }
    }

    private func update(_ s: inout Station, with reading: Reading, now: Double) -> Outcome {
        // Token bucket: a minute's allowance, refilled continuously, by the clock or by the
        // station's own time moving on, whichever went further: a history replayed faster than
        // real time (an hour of data a millisecond) is not a flood, while a live sensor's hours
        // move only as fast as the clock, so many readings for its current hour still are.
        let rate = Double(settings.stationReadingsPerMinute) / 60
        let dataSeconds = s.window.newestHour.map { reading.hour > $0 ? Double(reading.hour - $0) * 3600 : 0 } ?? 0
        s.tokens = min(
            Double(settings.stationReadingsPerMinute), s.tokens + max(0, now - s.lastRefill, dataSeconds) * rate)
        s.lastRefill = now
        guard s.tokens >= 1 else {
            return reject(
                Rejection(.flood, "more than \(settings.stationReadingsPerMinute) readings a minute from this station"))
        }
        s.tokens -= 1
        let previousNewest = s.window.newestHour
        let counted: Int
        switch s.window.add(reading) {
        case .failure(let r):
            return reject(r)
        case .success(.counted(_, let readings)):
            counted = readings
        }
        counters.accepted += 1
        onAccepted?(reading)
        // Which hour, if any, is now complete and not yet forecast from.
        var complete: Int64?
        if counted >= settings.readingsPerHour, reading.hour == s.window.newestHour {
            complete = reading.hour
        } else if let p = previousNewest, reading.hour > p {
            complete = p
        }
        var forecast: StationForecast?
        var waiting: String?
        var summary: String?
        if let hour = complete, hour > (s.window.lastForecastHour ?? .min) {
            switch s.window.window(endingAt: hour) {
            case .success(let rows):
                var expected: [[Double]?]?
                var supplied = 0
                if !s.weather.isEmpty {
                    s.weather = s.weather.filter { $0.key > hour }
                    expected = (1...settings.horizonHours).map { s.weather[hour + Int64($0)] }
                    supplied = expected!.compactMap { $0 }.count
                }
                let hours = forecaster.forecast(window: rows, hours: settings.horizonHours, weather: expected)
                forecast = StationForecast(
                    station: reading.station, basedOnHour: hour, issuedAt: now, model: modelIdentity, hours: hours,
                    intervalLevels: forecaster.intervalLevels, weatherSupplied: supplied)
                s.window.lastForecastHour = hour
                s.waiting = nil
                counters.forecasts += 1
            case .failure(let why):
                waiting = why.description
                summary = why.summary
                s.waiting = why.description
            }
        }
        var changed: StationState?
        let now: StationState? =
            forecast != nil
            ? .forecasting : (summary ?? waiting).map { .waiting(reason: $0, hour: complete ?? reading.hour) }
        if let now, now.kind != s.reported?.kind || now.reason != s.reported?.reason {
            s.reported = now
            changed = now
        }
        return .accepted(hour: reading.hour, forecast: forecast, waiting: waiting, state: changed)
    }

    private func newStation(now: Double) -> Station {
        Station(
            window: StationWindow(steps: model.steps, maximumGapHours: settings.maximumGapHours),
            tokens: Double(settings.stationReadingsPerMinute), lastRefill: now, waiting: "no reading yet")
    }

    private func reject(_ r: Rejection) -> Outcome {
        counters.rejected[r.code, default: 0] += 1
        return .rejected(r)
    }
}
