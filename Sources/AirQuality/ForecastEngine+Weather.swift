import Foundation

/// Where a forecast hour's weather came from.
public enum HourWeather: Sendable, Equatable {
    /// Held at the last observed hour.
    case held
    /// The station's weather-forecast topic.
    case topic
    /// The weather forecast service of `area`, in its forecast issued (fetched) at `issuedAt`.
    case service(area: String, issuedAt: Double)

    /// As published per hour: `held`, `topic`, `service`.
    public var name: String {
        switch self {
        case .held: "held"
        case .topic: "topic"
        case .service: "service"
        }
    }
}

/// An area's latest weather forecast from its service: raw features by hour.
struct AreaWeather {
    var hours: [Int64: [Double]]
    var issuedAt: Double
}

extension ForecastEngine {
    /// Stores a station's weather forecast for the hours ahead; returns how many hours it holds
    /// now. Hours already observed are dropped; a later forecast for an hour replaces an earlier.
    /// Retained weather forecasts are fine: a forecast is naturally the latest state.
    public func ingestWeather(station: String, payload: [UInt8], now: Double) -> Result<Int, Rejection> {
        core.withLock { $0.ingestWeather(station: station, payload: payload, now: now) }
    }

    /// Stores a station's expected weather for the hours ahead, as ``ingestWeather(station:payload:now:)``
    /// does once the payload is read (the backtest gives it the history's observed weather).
    public func storeWeather(_ hours: [ReadingDecoder.WeatherHour], station: String, now: Double) {
        core.withLock { $0.storeWeather(hours, station: station, now: now) }
    }

    /// Stores an area's weather forecast from its service (`issuedAt`: when it was fetched),
    /// for every station of the area: its hours replace those of the area's last forecast, which
    /// keeps the hours the new one does not cover (a forecast that stops coming is used while its
    /// hours last, then the weather is held); the newest 96 hours are kept.
    public func storeAreaWeather(_ hours: [ReadingDecoder.WeatherHour], area: String, issuedAt: Double) {
        core.withLock { $0.storeAreaWeather(hours, area: area, issuedAt: issuedAt) }
    }
}

extension ForecastEngine.Core {
    /// Stores a station's weather forecast for the hours ahead; returns how many hours it holds
    /// now. Hours already observed are dropped; a later forecast for an hour replaces an earlier.
    /// Retained weather forecasts are fine: a forecast is naturally the latest state.
    func ingestWeather(station: String, payload: [UInt8], now: Double) -> Result<Int, Rejection> {
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
    func storeWeather(_ hours: [ReadingDecoder.WeatherHour], station: String, now: Double) {
        store(hours, station: station, now: now)
    }

    func store(_ hours: [ReadingDecoder.WeatherHour], station: String, now: Double) {
        if stations[station] == nil { stations[station] = newStation(now: now) }
        let newest = stations[station]!.window.newestHour ?? .min
        for h in hours where h.hour > newest { stations[station]!.weather[h.hour] = h.features }
        Self.keepNewestHours(&stations[station]!.weather)
    }

    /// Expected weather is kept for this many hours at most (the newest).
    static let keptWeatherHours = 96

    /// Drops all but the newest ``keptWeatherHours`` hours of `weather`.
    static func keepNewestHours(_ weather: inout [Int64: [Double]]) {
        guard weather.count > keptWeatherHours else { return }
        let keep = Set(weather.keys.sorted().suffix(keptWeatherHours))
        weather = weather.filter { keep.contains($0.key) }
    }

    /// Stores an area's weather forecast from its service (`issuedAt`: when it was fetched),
    /// for every station of the area: its hours replace those of the area's last forecast, which
    /// keeps the hours the new one does not cover (a forecast that stops coming is used while its
    /// hours last, then the weather is held); the newest 96 hours are kept.
    func storeAreaWeather(_ hours: [ReadingDecoder.WeatherHour], area: String, issuedAt: Double) {
        var stored = areas[area] ?? AreaWeather(hours: [:], issuedAt: issuedAt)
        for h in hours { stored.hours[h.hour] = h.features }
        Self.keepNewestHours(&stored.hours)
        stored.issuedAt = issuedAt
        areas[area] = stored
    }

    /// The weather expected for each hour after `hour` (nil: held) and where it came from: the
    /// station's own weather-forecast topic first, then its area's service; nil when there is
    /// neither (every hour held).
    func expectedWeather(_ s: inout ForecastEngine.Station, station: String, after hour: Int64) -> (
        [[Double]?]?, [HourWeather]
    ) {
        let area = settings.forecastArea(of: station).flatMap { name in areas[name].map { (name, $0) } }
        guard !s.weather.isEmpty || area != nil else { return (nil, []) }
        if !s.weather.isEmpty { s.weather = s.weather.filter { $0.key > hour } }
        var expected: [[Double]?] = []
        var sources: [HourWeather] = []
        for k in 1...settings.horizonHours {
            let t = hour + Int64(k)
            if let w = s.weather[t] {
                expected.append(w)
                sources.append(.topic)
            } else if let (name, forecast) = area, let w = forecast.hours[t] {
                expected.append(w)
                sources.append(.service(area: name, issuedAt: forecast.issuedAt))
            } else {
                expected.append(nil)
                sources.append(.held)
            }
        }
        return (expected, sources)
    }
}
