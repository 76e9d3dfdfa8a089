import AirQuality
import Foundation
import Logging
import MQTTClient

/// Refused payloads: each recorded in the reading log's table, and told to the journal within
/// the limiter's allowance (the rest summed up once a minute).
extension ForecastService {
    /// Logs a refused reading (in the reading log's table, and in the journal within the limits).
    func refuse(
        _ message: MQTTMessage, _ r: Rejection, station: String? = nil, now: Double = Date().timeIntervalSince1970
    ) {
        metrics.refused(r.code)
        let station =
            station ?? pattern?.station(in: message.topic) ?? weatherPattern?.station(in: message.topic) ?? ""
        logWriter.enqueueRejected(
            .init(
                arrived: now, station: RejectionLogLimiter.printable(station),
                topic: RejectionLogLimiter.printable(message.topic),
                code: r.code.rawValue, reason: r.reason, payloadBytes: message.payload.count))
        guard shouldLogRejection(station: station, code: r.code, now: now) else { return }
        logger.warning(
            "reading rejected: \(r.reason)",
            metadata: [
                "station": "\(RejectionLogLimiter.printable(station))",
                "topic": "\(RejectionLogLimiter.printable(message.topic))",
                "reason": "\(r.code.rawValue)",
            ])
    }

    /// A new station's first reading, at info level: at most ``newStationLinesPerMinute`` lines
    /// a minute (ids that change with every message must not flood the journal), then one line
    /// that says the rest are not logged.
    func sayNewStation(_ station: String, state: StationState, now: Double) {
        let reason: String
        switch state {
        case .waiting(let why, _): reason = why
        case .forecasting(let inputs): reason = "forecasting from \(inputs)"
        }
        let n = mutable.withLock { m -> Int in
            if now - m.newStations.minuteStart >= 60 { m.newStations = (now, 0) }
            m.newStations.count += 1
            return m.newStations.count
        }
        if n <= Self.newStationLinesPerMinute {
            logger.info(
                "new station: \(reason)",
                metadata: ["station": "\(RejectionLogLimiter.printable(station))"])
        } else if n == Self.newStationLinesPerMinute + 1 {
            logger.info(
                "more new stations this minute than the journal takes; the rest are not logged (aqcast_stations counts them)"
            )
        }
    }

    static let newStationLinesPerMinute = 20

    /// Says, at warning level, that the in-flight record (``InFlightMessage``) cannot be had and why.
    static func warnWithoutPoisonProtection(_ why: String, path: String? = nil, logger: Logger) {
        var metadata: Logger.Metadata = ["reason": "in_flight"]
        if let path { metadata["path"] = "\(path)" }
        logger.warning(
            "running without poison-message protection: \(why); a message that kills the process would be handed over again at every start",
            metadata: metadata)
    }

    func shouldLogRejection(station: String, code: Rejection.Code, now: Double) -> Bool {
        reportHeldBackRejections(now: now)
        let verdict = mutable.withLock { $0.rejectionLog.admit(station: station, code: code) }
        if verdict == .holdBack(first: true) {
            logger.warning(
                "more refused readings than the journal takes this minute; the rest are counted, not logged",
                metadata: ["per_station": "\(RejectionLogLimiter.perStation)", "total": "\(RejectionLogLimiter.total)"])
        }
        return verdict == .log
    }

    /// The counts of the refusals held back in the minute that ended, as one line.
    func reportHeldBackRejections(now: Double = Date().timeIntervalSince1970) {
        guard let counts = mutable.withLock({ $0.rejectionLog.endedMinute(now: now) }) else { return }
        var metadata: Logger.Metadata = ["held_back": "\(counts.values.reduce(0, +))"]
        for (code, n) in counts { metadata[code.rawValue] = "\(n)" }
        logger.warning(
            "refused readings not logged in the last minute: \(counts.values.reduce(0, +))", metadata: metadata)
    }
}
