import AirQuality
import Foundation
import Logging
import ServiceLifecycle

/// Fetches each area's hourly weather forecast from its service (`[weather_forecast.NAME]`)
/// and gives it to the engine, which uses it for the hours ahead of the area's stations.
///
/// Each area is fetched at start (in the background: the daemon does not wait for the
/// network) and then every `refresh_seconds`; a failed fetch is tried again after a minute,
/// doubling up to `refresh_seconds`. While it fails, the stations use what the last forecast
/// still covers and hold the weather for the hours after it: the journal says so once at
/// warning level, and again (notice) when a forecast comes back; each forecast's hours say
/// which weather they had.
public struct WeatherForecastService: Service {
    public let areas: [WeatherForecastArea]
    let engine: ForecastEngine
    let logger: Logger
    /// The bounded GETs (at most ``OpenMeteo/maximumBytes`` of body, decompressed, within each
    /// area's `timeout_seconds` in all, no redirect followed).
    let http: BoundedHTTPGet

    public typealias Failure = BoundedHTTPGet.Failure

    init(areas: [WeatherForecastArea], engine: ForecastEngine, logger: Logger) {
        self.areas = areas
        self.engine = engine
        self.logger = logger
        http = BoundedHTTPGet(maximumBytes: OpenMeteo.maximumBytes)
    }

    /// Runs until the graceful shutdown, also without areas (a service that returns early
    /// would end the group).
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            for area in areas { group.addTask { await follow(area) } }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        await http.shutdown()
    }

    /// Fetches one area's forecast until cancelled.
    func follow(_ area: WeatherForecastArea) async {
        let refresh = Double(area.refreshSeconds)
        var failures = 0
        var fetched = 0
        while !Task.isCancelled {
            let wait: Double
            switch await forecast(area) {
            case .success(let hours):
                let now = Date().timeIntervalSince1970
                engine.storeAreaWeather(hours, area: area.name, issuedAt: now)
                fetched += 1
                let first = hours.first.map { isoHour($0.hour) } ?? "-"
                let last = hours.last.map { isoHour($0.hour) } ?? "-"
                let metadata: Logger.Metadata = [
                    "area": "\(area.name)", "hours": "\(hours.count)", "from": "\(first)", "to": "\(last)",
                ]
                if failures > 0 {
                    logger.notice("weather forecast back for area \(area.name)", metadata: metadata)
                } else if fetched == 1 {
                    logger.info("weather forecast fetched for area \(area.name)", metadata: metadata)
                } else {
                    logger.debug("weather forecast fetched for area \(area.name)", metadata: metadata)
                }
                failures = 0
                wait = refresh
            case .failure(let why):
                failures += 1
                wait = min(refresh, min(60, refresh) * Double(1 << min(failures - 1, 20)))
                if failures == 1 {
                    let text =
                        "weather forecast for area \(area.name) failed: \(why); its stations use the last forecast "
                        + "while it lasts, then held weather; trying again in \(Int(wait)) s, then less often"
                    logger.warning(
                        "\(text)",
                        metadata: ["area": "\(area.name)", "reason": "\(why)"])
                } else {
                    logger.debug(
                        "weather forecast for area \(area.name) failed again: \(why)",
                        metadata: ["area": "\(area.name)", "failures": "\(failures)"])
                }
            }
            try? await Task.sleep(for: .seconds(wait))
        }
    }

    /// One fetch of `area`'s forecast, read.
    func forecast(_ area: WeatherForecastArea) async -> Result<[ReadingDecoder.WeatherHour], Failure> {
        switch await http.get(area.requestURL, timeout: Double(area.timeoutSeconds)) {
        case .failure(let f): return .failure(f)
        case .success(let (status, body)):
            // The service's own words (its `reason`) go to the journal escaped.
            return OpenMeteo.decode(body, status: status, pressure: area.pressure).mapError {
                Failure(description: BoundedHTTPGet.printable($0.description))
            }
        }
    }
}
