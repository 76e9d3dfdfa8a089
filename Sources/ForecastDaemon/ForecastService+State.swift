import AirQuality
import Foundation
import MQTTClient

extension ForecastService {
    /// What changes while the service runs, kept behind one lock (the engine and the MQTT
    /// connection are thread-safe themselves).
    struct Mutable {
        var configuration: DaemonConfiguration
        /// The stations announced to Home Assistant.
        var announced: Set<String> = []
        var connectedBefore = false
        /// New stations said in the journal this minute (``ForecastService/sayNewStation``).
        var newStations = (minuteStart: 0.0, count: 0)
        /// Connections lost soon after they were made (``SessionFlapping``).
        var flapping = SessionFlapping()
        var brokerState = "connecting to the broker"
        /// Which refusals get a journal line this minute (the counters have them all).
        var rejectionLog = RejectionLogLimiter(now: Date().timeIntervalSince1970)
        var connection: MQTTConnection?
        /// Forecasts rebuilt from the log at start, published at the first connection.
        var restored: [StationForecast] = []
        /// The counts the status line's rates were last measured from.
        var previous = (time: ContinuousClock.now, accepted: 0, forecasts: 0)
    }
}
