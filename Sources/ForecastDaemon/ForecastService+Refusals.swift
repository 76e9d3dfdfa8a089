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
