/// Where one of a reading's weather inputs came from.
public enum InputOrigin: Sendable, Equatable {
    /// The message itself.
    case payload
    /// An earlier message of the same station (one value per topic, as ESPHome sends).
    case earlier
    /// Dew point from temperature and relative humidity (Magnus).
    case derived
    /// The latest readings of a weather source station.
    case source(String)
    /// Nowhere: the station is forecast by a model that does without it.
    case missing
}

/// Where each weather input of a station's latest reading came from.
public struct InputOrigins: Sendable, Equatable {
    public var dewPoint = InputOrigin.payload
    public var temperature = InputOrigin.payload
    public var pressure = InputOrigin.payload
    public var windDirection = InputOrigin.payload
    public var windSpeed = InputOrigin.payload

    public init() {}

    public static let allFromPayload = InputOrigins()

    /// `{"pm25":"station","dew_point":"derived from temperature and humidity",...}`, each
    /// source's id escaped.
    public func appendJSON(to out: inout [UInt8]) {
        out += Array("{\"pm25\":\"station\"".utf8)
        for (name, origin) in [
            ("dew_point", dewPoint), ("temperature", temperature), ("pressure", pressure),
            ("wind_direction", windDirection), ("wind_speed", windSpeed),
        ] {
            out += Array(",\"\(name)\":".utf8)
            switch origin {
            case .payload: out += Array("\"station\"".utf8)
            case .earlier: out += Array("\"station, an earlier message\"".utf8)
            case .derived: out += Array("\"derived from temperature and humidity\"".utf8)
            case .source(let id): appendJSONString("weather source " + id, to: &out)
            case .missing: out += Array("\"none\"".utf8)
            }
        }
        out.append(UInt8(ascii: "}"))
    }
}

/// The latest value of each quantity a station sent, and when: what fills in a reading's
/// missing weather, for the station's own later messages and for the stations it is the
/// weather source of.
public struct HeldValues: Sendable, Equatable {
    private var values: [Double] = Array(repeating: .nan, count: Quantity.allCases.count)
    private var times: [Int64] = Array(repeating: .min, count: Quantity.allCases.count)

    public init() {}

    private static func index(_ q: Quantity) -> Int { Quantity.allCases.firstIndex(of: q)! }

    public mutating func take(_ o: Observation, at time: Int64) {
        for q in Quantity.allCases {
            guard let v = o[number: q] else { continue }
            values[Self.index(q)] = v
            times[Self.index(q)] = time
        }
    }

    /// The value of `q` sent at most `maximumAge` seconds before or after `time`.
    public func value(_ q: Quantity, at time: Int64, maximumAge: Int64) -> Double? {
        let i = Self.index(q)
        guard times[i] != .min, times[i] >= time - maximumAge, times[i] <= time + maximumAge else { return nil }
        return values[i]
    }
}

/// Makes a full ``Reading`` from an observation with PM2.5: each weather input from the
/// payload, else from the station's own earlier messages (within an hour), else derived (dew
/// point from temperature and humidity), else from its weather source (within two hours).
public enum ReadingAssembly {
    /// How old a station's own earlier value may be to complete a message (ESPHome publishes
    /// each sensor on its own, every few seconds to minutes).
    public static let ownMaximumAge: Int64 = 3600
    /// How old a weather source's value may be: a source reporting hourly can miss one hour.
    public static let sourceMaximumAge: Int64 = 7200

    /// A reading made from an observation: inputs found nowhere are NaN and listed.
    public struct Assembled: Sendable {
        public var reading: Reading
        public var origins: InputOrigins
        public var missing: [Quantity]
    }

    /// `o` must hold PM2.5.
    public static func complete(
        _ o: Observation, time: Int64, own: HeldValues?, source: (id: String, held: HeldValues?)?
    ) -> Assembled {
        var origins = InputOrigins()
        func find(_ q: Quantity, _ origin: inout InputOrigin) -> Double? {
            if let v = o[number: q] {
                origin = .payload
                return v
            }
            if let v = own?.value(q, at: time, maximumAge: ownMaximumAge) {
                origin = .earlier
                return v
            }
            return nil
        }
        /// The dew point from the temperature and humidity `value` gives, when it gives both.
        func derivedDewPoint(_ value: (Quantity) -> Double?) -> Double? {
            guard let t = value(.temperature), let rh = value(.humidity) else { return nil }
            return dewPoint(temperature: t, humidity: rh)
        }
        func fromSource(_ q: Quantity, _ origin: inout InputOrigin) -> Double? {
            guard let source, let held = source.held else { return nil }
            origin = .source(source.id)
            let value = { (q: Quantity) in held.value(q, at: time, maximumAge: sourceMaximumAge) }
            return value(q) ?? (q == .dewPoint ? derivedDewPoint(value) : nil)
        }
        let temperature = find(.temperature, &origins.temperature) ?? fromSource(.temperature, &origins.temperature)
        var dew = find(.dewPoint, &origins.dewPoint)
        if dew == nil,
            let derived = derivedDewPoint({ o[number: $0] ?? own?.value($0, at: time, maximumAge: ownMaximumAge) })
        {
            dew = derived
            origins.dewPoint = .derived
        }
        if dew == nil { dew = fromSource(.dewPoint, &origins.dewPoint) }
        let pressure = find(.pressure, &origins.pressure) ?? fromSource(.pressure, &origins.pressure)
        var speed = find(.windSpeed, &origins.windSpeed) ?? fromSource(.windSpeed, &origins.windSpeed)
        var code = find(.windDirection, &origins.windDirection) ?? fromSource(.windDirection, &origins.windDirection)
        // The wind is both or neither.
        if speed == nil || code == nil {
            speed = nil
            code = nil
        }
        var missing: [Quantity] = []
        if temperature == nil {
            missing.append(.temperature)
            origins.temperature = .missing
        }
        if dew == nil {
            missing.append(.dewPoint)
            origins.dewPoint = .missing
        }
        if pressure == nil {
            missing.append(.pressure)
            origins.pressure = .missing
        }
        if code == nil {
            missing += [.windDirection, .windSpeed]
            origins.windDirection = .missing
            origins.windSpeed = .missing
        }
        var direction = code.flatMap { c in WindDirection.allCases.first { $0.code == c } } ?? .calm
        if let speed, speed < WindDirection.calmBelow { direction = .calm }
        let reading = Reading(
            station: o.station, time: time, pm25: o.pm25 ?? .nan, dewPoint: dew ?? .nan,
            temperature: temperature ?? .nan, pressure: pressure ?? .nan, windDirection: direction,
            windSpeed: speed ?? .nan)
        return Assembled(reading: reading, origins: origins, missing: missing)
    }

    /// Why a reading lacking `missing` was refused, naming the weather source's part in it.
    public static func refusal(missing: [Quantity], source: (id: String, held: HeldValues?)?) -> Rejection {
        let what = missing.map(\.words).joined(separator: ", ")
        let whence: String
        if let source {
            whence =
                source.held == nil
                ? "and weather source '\(source.id)' has sent nothing yet"
                : "and weather source '\(source.id)' has sent none within \(sourceMaximumAge / 3600) hours of it"
        } else {
            whence = "and no weather source is set for this station ([weather_sources])"
        }
        return Rejection(.noWeather, "no \(what): not in the message \(whence)")
    }
}
