import AirQuality
import Foundation
import MQTTClient

/// What the service publishes: forecasts and states (retained, QoS 1), and the Home Assistant
/// discovery configs of the stations they are for.
extension ForecastService {
    func publish(_ state: StationState, station: String) {
        announce(station)
        try? connection?.publish(
            topic: stateTopic.prefix + station + stateTopic.suffix, payload: state.json(station: station), qos: 1,
            retain: true)
    }

    func publish(_ forecast: StationForecast) {
        announce(forecast.station)
        // What the station's bias correction learnt is kept whether or not the broker takes it.
        readingLog.writer.enqueueBiasErrors(of: forecast)
        let topic = forecastTopic.prefix + forecast.station + forecastTopic.suffix
        do {
            try connection?.publish(topic: topic, payload: forecast.json(), qos: 1, retain: true)
            metrics.published()
            // Logged to be scored once its hours have come (the live accuracy).
            readingLog.writer.enqueueForecast(forecast)
            logger.debug(
                "forecast published",
                metadata: [
                    "station": "\(forecast.station)", "topic": "\(topic)", "hour": "\(isoHour(forecast.basedOnHour))",
                ])
        } catch {
            logger.error(
                "cannot publish forecast: \(error)", metadata: ["station": "\(forecast.station)", "topic": "\(topic)"])
        }
    }

    /// Publishes `station`'s discovery configs the first time it is published for.
    func announce(_ station: String) {
        guard let discovery else { return }
        let new = mutable.withLock { $0.announced.insert(station).inserted }
        guard new else { return }
        publishConfigs(of: station, discovery)
        logger.debug("announced to Home Assistant", metadata: ["station": "\(station)"])
    }

    /// Publishes every announced station's configs again: Home Assistant (re)started. Runs in
    /// the background (``DiscoveryAnnouncer``), paced: no more than ``announcementWindow``
    /// publishes wait for the broker's acknowledgement at a time, so libmosquitto's queue stays
    /// small and the readings' forecasts go out in between.
    func announceAll() async {
        guard let discovery else { return }
        let stations = mutable.withLock { $0.announced }.sorted()
        for station in stations {
            while (connection?.unacknowledgedPublishes ?? 0) > Self.announcementWindow {
                try? await Task.sleep(for: .milliseconds(10))
                if Task.isCancelled { return }
            }
            // A station that expired meanwhile is not announced again.
            guard mutable.withLock({ $0.announced.contains(station) }) else { continue }
            publishConfigs(of: station, discovery)
        }
        logger.info("Home Assistant is online: discovery published again", metadata: ["stations": "\(stations.count)"])
    }

    /// Publishes awaiting the broker's acknowledgement above which an announcement waits.
    static let announcementWindow = 1000

    /// Publishes `station`'s discovery configs (retained).
    private func publishConfigs(of station: String, _ discovery: HomeAssistantDiscovery) {
        for (topic, payload) in discovery.configs(for: station) {
            try? connection?.publish(topic: topic, payload: payload, qos: 1, retain: true)
        }
    }

    /// Removes the entities of stations that left memory (an empty retained config each).
    func withdraw(_ expired: [String]) {
        guard let discovery, !expired.isEmpty else { return }
        let gone = mutable.withLock { m in expired.filter { m.announced.remove($0) != nil } }
        for station in gone {
            for topic in discovery.topics(for: station) {
                try? connection?.publish(topic: topic, payload: [], qos: 1, retain: true)
            }
            logger.info("station expired: removed from Home Assistant", metadata: ["station": "\(station)"])
        }
    }
}
