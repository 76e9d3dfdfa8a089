import AirQuality
import CoreMetrics
import Foundation
import ReadingLog
import Synchronization
import Training

/// What the daemon counts and measures for Prometheus, through swift-metrics: whichever
/// `MetricsFactory` it is given keeps the figures (the program gives it swift-prometheus'
/// registry; without `[metrics] listen`, none). The names follow Prometheus' naming guide: the
/// `aqcast_` prefix, base units in the name (`_seconds`), `_total` on counters, an `_info`
/// gauge of 1 whose labels carry the model and version. Labels take values from fixed sets
/// only (refusal reasons, hours ahead, windows): no station ids, whose number can be large.
public final class DaemonMetrics: Sendable {
    /// A metric family as the endpoint shows it: its name, what it is, its help line, and the
    /// buckets of its histogram.
    public struct Family: Sendable {
        public let name: String
        public let type: String
        public let help: String
        public let buckets: [Duration]

        init(_ name: String, _ type: String, _ help: String, buckets: [Duration] = []) {
            self.name = name
            self.type = type
            self.help = help
            self.buckets = buckets
        }
    }

    static let readingsAccepted = Family(
        "aqcast_readings_accepted_total", "counter", "Readings accepted (and queued for the reading log).")
    static let readingsRefused = Family(
        "aqcast_readings_refused_total", "counter",
        "Payloads refused as readings, by reason (the journal and the reading log's rejected table say which).")
    static let forecastsPublished = Family(
        "aqcast_forecasts_published_total", "counter", "Station forecasts handed to the broker.")
    static let stations = Family(
        "aqcast_stations", "gauge", "Stations held in memory, by state: forecasting, or waiting for a whole window.")
    static let readingToForecast = Family(
        "aqcast_reading_to_forecast_seconds", "histogram",
        "From the arrival of the reading that completed a station's hour to its forecast handed to the broker.",
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1].map { .seconds($0) })
    static let forecastDuration = Family(
        "aqcast_forecast_duration_seconds", "histogram",
        "Time to handle the reading that completed an hour: decoding, the window, and the model's run for every hour ahead.",
        buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1].map { .seconds($0) })
    static let brokerConnected = Family(
        "aqcast_broker_connected", "gauge", "1 while the MQTT connection is up, else 0.")
    static let brokerReconnects = Family(
        "aqcast_broker_reconnects_total", "counter", "Connections to the broker after the first one.")
    static let logPending = Family(
        "aqcast_reading_log_pending_readings", "gauge", "Accepted readings not yet committed to the reading log.")
    static let logCommit = Family(
        "aqcast_reading_log_commit_seconds", "histogram",
        "Time of one commit of the reading log (readings and forecasts).",
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5].map { .seconds($0) })
    static let logDropped = Family(
        "aqcast_reading_log_dropped_readings_total", "counter",
        "Readings dropped because the reading log could not be written for too long (its memory bound).")
    static let modelInfo = Family(
        "aqcast_model_info", "gauge",
        "1 for each model in use: its file, identity (recipe, seed, weights hash) and inputs; role main or fewer_inputs; aqcast's version."
    )
    static let accuracyRMSE = Family(
        "aqcast_accuracy_rmse_grams_per_cubic_meter", "gauge",
        "Live accuracy, pooled over stations: RMSE of the published forecasts (forecaster model) and of persistence, by window and hours ahead, in g/m3 (ug/m3 times 1e-6)."
    )
    static let accuracyMAE = Family(
        "aqcast_accuracy_mae_grams_per_cubic_meter", "gauge",
        "Live accuracy, pooled: mean absolute error of the model and of persistence, by window and hours ahead, in g/m3."
    )
    static let accuracyBias = Family(
        "aqcast_accuracy_bias_grams_per_cubic_meter", "gauge",
        "Live accuracy, pooled: mean of forecast minus truth, by window and hours ahead, in g/m3.")
    static let accuracyGain = Family(
        "aqcast_accuracy_gain_ratio", "gauge",
        "Live accuracy, pooled: 1 - RMSE of the model / RMSE of persistence, by window and hours ahead (above 0: better than persistence)."
    )
    static let accuracyCoverage = Family(
        "aqcast_accuracy_interval_coverage_ratio", "gauge",
        "Live accuracy, pooled: share of true values inside the published interval, by window and hours ahead.")
    static let accuracyScored = Family(
        "aqcast_accuracy_scored_forecasts", "gauge", "Forecast hours scored, pooled, by window and hours ahead.")

    /// Concentrations go out in grams per cubic metre, the base unit Prometheus' naming guide
    /// (and its linter, `promtool check metrics`) asks for.
    static let gramsPerMicrogram = 1e-6

    /// Every family, for the endpoint's help lines and buckets.
    public static let families: [Family] = [
        readingsAccepted, readingsRefused, forecastsPublished, stations, readingToForecast, forecastDuration,
        brokerConnected, brokerReconnects, logPending, logCommit, logDropped, modelInfo, accuracyRMSE, accuracyMAE,
        accuracyBias, accuracyGain, accuracyCoverage, accuracyScored,
    ]

    /// Each family's help line by name, as the endpoint writes them.
    public static let helpLines: [String: String] = Dictionary(
        families.map { ($0.name, $0.help) }, uniquingKeysWith: { first, _ in first })

    /// The buckets of each histogram family by name.
    public static let histogramBuckets: [String: [Duration]] = Dictionary(
        families.filter { !$0.buckets.isEmpty }.map { ($0.name, $0.buckets) }, uniquingKeysWith: { first, _ in first })

    private let factory: any MetricsFactory
    private let acceptedCounter: Counter
    private let refusedCounters: [Rejection.Code: Counter]
    private let publishedCounter: Counter
    private let forecasting: Gauge
    private let waiting: Gauge
    private let latency: CoreMetrics.Timer
    private let forecastTime: CoreMetrics.Timer
    private let connectedGauge: Gauge
    private let reconnects: Counter
    private let pendingGauge: Gauge
    private let commitTimer: CoreMetrics.Timer
    private let droppedCounter: Counter
    /// The reading log's dropped count already added to ``dropped``.
    private let droppedSeen = Mutex(0)
    private let modelGauges = Mutex<[Gauge]>([])
    /// The accuracy gauges, by family name and labels.
    private let accuracyGauges = Mutex<[String: Gauge]>([:])

    /// Metrics kept by `factory` (``NOOPMetricsHandler``: none).
    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.factory = factory
        acceptedCounter = Counter(label: Self.readingsAccepted.name, factory: factory)
        var refused: [Rejection.Code: Counter] = [:]
        for code in Rejection.Code.allCases {
            refused[code] = Counter(
                label: Self.readingsRefused.name, dimensions: [("reason", code.rawValue)], factory: factory)
        }
        refusedCounters = refused
        publishedCounter = Counter(label: Self.forecastsPublished.name, factory: factory)
        forecasting = Gauge(label: Self.stations.name, dimensions: [("state", "forecasting")], factory: factory)
        waiting = Gauge(label: Self.stations.name, dimensions: [("state", "waiting")], factory: factory)
        latency = CoreMetrics.Timer(label: Self.readingToForecast.name, factory: factory)
        forecastTime = CoreMetrics.Timer(label: Self.forecastDuration.name, factory: factory)
        connectedGauge = Gauge(label: Self.brokerConnected.name, factory: factory)
        reconnects = Counter(label: Self.brokerReconnects.name, factory: factory)
        pendingGauge = Gauge(label: Self.logPending.name, factory: factory)
        commitTimer = CoreMetrics.Timer(label: Self.logCommit.name, factory: factory)
        droppedCounter = Counter(label: Self.logDropped.name, factory: factory)
        connectedGauge.record(0)
        forecasting.record(0)
        waiting.record(0)
        pendingGauge.record(0)
    }

    func accepted(_ count: Int = 1) { acceptedCounter.increment(by: count) }
    func refused(_ code: Rejection.Code) { refusedCounters[code]?.increment() }
    func published() { publishedCounter.increment() }
    func forecastHandled(took: Duration) { forecastTime.recordNanoseconds(took.nanoseconds) }
    func readingToForecast(took: Duration) { latency.recordNanoseconds(took.nanoseconds) }
    func broker(connected up: Bool, again: Bool = false) {
        connectedGauge.record(up ? 1 : 0)
        if again { reconnects.increment() }
    }
    func committed(took: Duration) { commitTimer.recordNanoseconds(took.nanoseconds) }

    /// The figures read rather than counted: stations by state and the reading log's queue.
    func refresh(states: (forecasting: Int, waiting: Int), pending: Int, dropped: Int) {
        forecasting.record(states.forecasting)
        waiting.record(states.waiting)
        pendingGauge.record(pending)
        let added = droppedSeen.withLock { seen in
            defer { seen = max(seen, dropped) }
            return max(0, dropped - seen)
        }
        if added > 0 { droppedCounter.increment(by: added) }
    }

    /// The models in use (the configured one first), replacing those of before a reload.
    func models(_ loaded: [(identity: String, file: String, inputs: String)], version: String) {
        modelGauges.withLock { gauges in
            for g in gauges { g.destroy() }
            gauges = loaded.enumerated().map { i, m in
                let g = Gauge(
                    label: Self.modelInfo.name,
                    dimensions: [
                        ("model", m.file), ("identity", m.identity), ("inputs", m.inputs),
                        ("role", i == 0 ? "main" : "fewer_inputs"), ("version", version),
                    ], factory: factory)
                g.record(1)
                return g
            }
        }
    }

    /// The pooled live accuracy by window and hours ahead, concentrations in Prometheus' base
    /// unit (g/m³: the µg/m³ figures times 10⁻⁶). A figure without any scored forecast behind it
    /// is left out (a gauge is never NaN).
    func record(_ live: LiveAccuracy) {
        accuracyGauges.withLock { gauges in
            func set(_ family: Family, _ labels: [(String, String)], _ value: Double?) {
                let key = family.name + labels.map { "\u{1}" + $0.1 }.joined()
                guard let value, value.isFinite else {
                    gauges.removeValue(forKey: key)?.destroy()
                    return
                }
                let gauge =
                    gauges[key]
                    ?? {
                        let g = Gauge(label: family.name, dimensions: labels, factory: factory)
                        gauges[key] = g
                        return g
                    }()
                gauge.record(value)
            }
            for (w, window) in LiveAccuracy.windows.enumerated() {
                let scores = live.scores(w, station: nil)
                for h in 0..<(scores?.byHorizon.count ?? 0) {
                    let s = scores!.byHorizon[h]
                    let some = s.count > 0
                    let labels = [("window", window.name), ("horizon", "\(h + 1)")]
                    set(Self.accuracyScored, labels, Double(s.count))
                    let model = labels + [("forecaster", "model")]
                    let persistence = labels + [("forecaster", "persistence")]
                    set(Self.accuracyRMSE, model, some ? s.rmse * Self.gramsPerMicrogram : nil)
                    set(Self.accuracyRMSE, persistence, some ? s.persistenceRMSE * Self.gramsPerMicrogram : nil)
                    set(Self.accuracyMAE, model, some ? s.mae * Self.gramsPerMicrogram : nil)
                    set(Self.accuracyMAE, persistence, some ? s.persistenceMAE * Self.gramsPerMicrogram : nil)
                    set(Self.accuracyBias, labels, some ? s.bias * Self.gramsPerMicrogram : nil)
                    set(Self.accuracyGain, labels, some ? s.gain / 100 : nil)
                    set(Self.accuracyCoverage, labels, some ? s.coverage : nil)
                }
            }
        }
    }
}

extension Duration {
    /// Whole nanoseconds (what swift-metrics' timers take).
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
