import Foundation
import Synchronization

/// The daemon's core, without I/O: readings in, forecasts and reasons out.
///
/// Holds one ``StationWindow`` per station. When a station's hour is complete — a reading for a
/// later hour arrives, or `readingsPerHour` readings for it did — it forecasts the next hours
/// from the window ending at that hour. Called from one thread at a time (the MQTT network
/// thread); ``snapshot()`` may be called from any thread. Its state is a ``Core`` behind one
/// `Mutex`: each call takes it for the whole of its work.
public final class ForecastEngine: Sendable {
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
        /// `station` is the station's id, from the topic or (for a profile that carries it) the payload.
        case accepted(
            station: String, hour: Int64, forecast: StationForecast?, waiting: String?, state: StationState? = nil)
        /// Neither counted nor refused: a reading stamped on arrival in a minute already
        /// counted (a sensor sending every few seconds). It is not logged either, so live
        /// accuracy and retraining average exactly the readings the window used.
        case passedOver(station: String, hour: Int64)
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
        /// The latest value of each quantity, for stations that send one per message and for
        /// weather sources; nil for the rest (they need none).
        var held: HeldValues?
        /// Where the latest reading's weather inputs came from.
        var origins = InputOrigins.allFromPayload
        /// Readings that complete an hour, for this station's input; nil: the engine's setting,
        /// 0: only a later hour or the clock completes it.
        var readingsPerHour: Int?
        /// The newest hour a forecast was tried from (it may have waited).
        var attemptedHour: Int64?
        /// The running correction of this station's forecasts by their own mean error; nil
        /// until its first forecast, or with the correction off.
        var bias: BiasCorrection?
    }

    /// The engine's state and what changes it, reached only under the lock.
    let core: Mutex<Core>

    /// `fewerInputs`: models for stations that do not send every input the main model takes,
    /// each with its name (their windows must be as long as the main model's). `onAccepted` is
    /// called with every accepted reading, under the engine's lock, on the caller's thread.
    public init(
        model: ModelFile, modelName: String, settings: Settings, fewerInputs: [(ModelFile, String)] = [],
        onAccepted: (@Sendable (Reading) -> Void)? = nil
    ) {
        core = Mutex(
            Core(
                model: model, modelName: modelName, settings: settings, fewerInputs: fewerInputs,
                onAccepted: onAccepted))
    }

    /// Swaps in a new model and settings (a reload); the station windows are kept, also when the
    /// gap limit changes.
    public func replace(model: ModelFile, modelName: String, settings: Settings) {
        core.withLock { $0.replace(model: model, modelName: modelName, settings: settings) }
    }

    public func snapshot() -> Counters { core.withLock { $0.snapshot() } }

    /// How many stations held are forecasting (their state last said so) and how many are
    /// waiting (for a whole window, or not yet heard from for a whole hour).
    public func stationStates() -> (forecasting: Int, waiting: Int) { core.withLock { $0.stationStates() } }

    /// Why a station has no forecast right now, or nil when it had one for its newest hour.
    public func status(of station: String) -> String? { core.withLock { $0.status(of: station) } }

    /// Handles one payload for `station` in `format` (`quantity`: the one a single-value
    /// topic named); `now` is the wall clock in Unix seconds, and the time of a payload without
    /// one. `readingsPerHour` overrides the engine's setting for this station (0: hours are
    /// complete when a later one starts or the clock passes their end).
    public func ingest(
        station: String, payload: [UInt8], format: PayloadFormat = PayloadFormat(profile: .native),
        quantity: Quantity? = nil, readingsPerHour: Int? = nil, retained: Bool, now: Double
    ) -> Outcome {
        core.withLock {
            $0.ingest(
                station: station, payload: payload, format: format, quantity: quantity,
                readingsPerHour: readingsPerHour, retained: retained, now: now)
        }
    }

    /// Handles one decoded reading (a history replayed by the backtest: the same path as a
    /// live payload's from here on); `now` is the clock the reading is judged by.
    public func ingest(_ reading: Reading, now: Double) -> Outcome { core.withLock { $0.ingest(reading, now: now) } }

    /// The stations that left memory since the last call.
    public func takeExpired() -> [String] { core.withLock { $0.takeExpired() } }

    /// The stations that reported their first state since the last call, with that state.
    public func takeNewStations() -> [(station: String, state: StationState)] {
        core.withLock { c in
            defer { c.newStations = [] }
            return c.newStations
        }
    }

    /// Rebuilds station windows from logged readings (oldest first) and the stations' bias
    /// corrections from their logged errors, and forecasts at once from each station's newest
    /// hour whose window is whole; nothing is counted or logged again.
    public func restore(
        _ readings: [Reading], bias: [String: BiasCorrection] = [:], now: Double
    ) -> [StationForecast] {
        core.withLock { $0.restore(readings, bias: bias, now: now) }
    }

    /// The hours of quiet stations that ended `hourCloseSeconds` ago and were not yet tried:
    /// each is complete now, so a sensor that stops does not leave its last hour open.
    public func closeQuietHours(now: Double) -> [(station: String, forecast: StationForecast?, state: StationState?)] {
        core.withLock { $0.closeQuietHours(now: now) }
    }

    /// The stations, their windows and counts, the models and settings: everything the engine
    /// keeps. Used by one caller at a time, under ``ForecastEngine``'s lock.
    final class Core {
        /// Called (under the engine's lock, on the caller's thread) with every accepted reading.
        let onAccepted: (@Sendable (Reading) -> Void)?
        /// The configured model first, then the models for fewer inputs, most inputs first: each
        /// station is forecast by the first whose inputs its window has.
        var models: [Loaded]
        /// The models for fewer inputs, kept over a reload.
        let fallbacks: [Loaded]
        var model: ModelFile { models[0].file }
        var settings: Settings {
            didSet { sources = settings.weatherSourceIDs }
        }
        /// ``Settings/weatherSourceIDs``, kept so that a reading need not build it.
        var sources: Set<String> = []
        var stations: [String: Station] = [:]
        /// Stations that left memory (``Settings/stationExpiryHours``) since ``takeExpired()``
        /// last asked (the first 100,000 of them when nobody asks).
        var expired: [String] = []
        /// Stations that reported their first state since ``takeNewStations()`` last asked (the
        /// first 1,000 of them when nobody asks).
        var newStations: [(station: String, state: StationState)] = []
        /// The latest weather forecast of each area (`[weather_forecast.NAME]`), by area name.
        var areas: [String: AreaWeather] = [:]
        var counters = Counters()
        /// When stations were last looked over for expiry (once a minute of the callers' clock).
        var lastSweep = -Double.infinity

        /// The engine's arguments, as its own initialiser takes them.
        init(
            model: ModelFile, modelName: String, settings: Settings, fewerInputs: [(ModelFile, String)] = [],
            onAccepted: (@Sendable (Reading) -> Void)? = nil
        ) {
            self.onAccepted = onAccepted
            fallbacks = fewerInputs.filter { $0.0.steps == model.steps }.map { Loaded($0.0, name: $0.1) }
                .sorted { $0.features.count > $1.features.count }
            models = [Loaded(model, name: modelName)] + fallbacks
            self.settings = settings
            sources = settings.weatherSourceIDs
        }

        /// Swaps in a new model and settings (a reload); the station windows are kept, also when the
        /// gap limit changes.
        func replace(model: ModelFile, modelName: String, settings: Settings) {
            models = [Loaded(model, name: modelName)] + fallbacks.filter { $0.file.steps == model.steps }
            if settings.maximumGapHours != self.settings.maximumGapHours {
                for key in stations.keys {
                    stations[key]!.window = stations[key]!.window.withMaximumGapHours(settings.maximumGapHours)
                }
            }
            self.settings = settings
        }

        func snapshot() -> Counters {
            var c = counters
            c.stations = stations.count
            return c
        }

        /// How many stations held are forecasting (their state last said so) and how many are
        /// waiting (for a whole window, or not yet heard from for a whole hour).
        func stationStates() -> (forecasting: Int, waiting: Int) {
            var forecasting = 0
            for s in stations.values {
                if case .forecasting = s.reported { forecasting += 1 }
            }
            return (forecasting, stations.count - forecasting)
        }

        /// Why a station has no forecast right now, or nil when it had one for its newest hour.
        func status(of station: String) -> String? {
            guard let s = stations[station] else { return nil }
            return s.waiting ?? s.window.lastForecastHour.map { "forecast from \(isoHour($0))" }
        }

    }
}
