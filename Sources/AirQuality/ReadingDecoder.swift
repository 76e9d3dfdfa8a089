/// Why a payload was not accepted, in words for the journal, with a short machine code.
public struct Rejection: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case tooLarge = "too_large"
        case notJSON = "not_json"
        case notObject = "not_object"
        case missingField = "missing_field"
        case wrongType = "wrong_type"
        case outOfRange = "out_of_range"
        case badTime = "bad_time"
        case badStation = "bad_station"
        case retained = "retained"
        case tooOld = "too_old"
        case future = "future"
        case duplicate = "duplicate"
        case flood = "flood"
        /// The previous process died while handling this very message.
        case poison = "poison"
        /// A reading or weather forecast for a new station past `max_stations`.
        case tooManyStations = "too_many_stations"
        /// A single-value topic whose quantity part is none of the input's names.
        case badTopic = "bad_topic"
        /// A reading whose missing weather no weather source could fill.
        case noWeather = "no_weather"
    }

    public var code: Code
    public var reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }
}

/// Turns an MQTT payload into a ``Reading``, or says precisely what is wrong with it.
///
/// The payload is a JSON object: `time` (ISO 8601 in UTC, or Unix seconds), `pm25` (µg/m³),
/// `dew_point` and `temperature` (°C), `pressure` (hPa), `wind_direction` (a compass word or PRSA
/// code, or degrees) and `wind_speed` (m/s). Unknown fields are ignored.
public enum ReadingDecoder {
    public static let maximumPayloadBytes = 64 * 1024
    public static let maximumStationIDBytes = 64

    /// Valid ranges, chosen wide enough for any real sensor and narrow enough to catch unit
    /// mistakes and garbage.
    public static let ranges: [(field: String, range: ClosedRange<Double>)] = [
        ("pm25", 0...2000), ("dew_point", -80...50), ("temperature", -60...60), ("pressure", 850...1100),
        ("wind_speed", 0...100),
    ]

    /// A station id is 1-64 bytes of printable ASCII except space and the MQTT wildcards and
    /// separator `+ # /`, so it can be used in a topic as it is.
    public static func validateStation(_ id: String) -> Rejection? {
        let bytes = Array(id.utf8)
        if bytes.isEmpty { return Rejection(.badStation, "station id is empty") }
        if bytes.count > maximumStationIDBytes {
            return Rejection(.badStation, "station id is \(bytes.count) bytes long (at most \(maximumStationIDBytes))")
        }
        if let bad = bytes.first(where: {
            $0 <= 0x20 || $0 >= 0x7F || $0 == UInt8(ascii: "+")
                || $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: "/")
        }) {
            return Rejection(
                .badStation,
                "station id holds the byte 0x\(String(bad, radix: 16)) (allowed: printable ASCII except space, +, #, /)"
            )
        }
        return nil
    }

    /// The payload's fields, after the checks every payload gets: station id, size, JSON, object.
    static func topLevelObject(_ payload: [UInt8], station: String) -> Result<[String: JSONValue], Rejection> {
        if let problem = validateStation(station) { return .failure(problem) }
        guard payload.count <= maximumPayloadBytes else {
            return .failure(Rejection(.tooLarge, "payload is \(payload.count) bytes (at most \(maximumPayloadBytes))"))
        }
        guard let object = JSONScanner.parse(payload) else {
            return .failure(Rejection(.notJSON, "payload is not valid JSON"))
        }
        guard case .object(let fields) = object else {
            return .failure(Rejection(.notObject, "payload is JSON but not an object"))
        }
        return .success(fields)
    }

    static func decode(fields: [String: JSONValue], station: String) -> Result<Reading, Rejection> {
        func number(_ q: Quantity) -> Result<Double, Rejection> {
            guard let raw = fields[q.rawValue] else {
                return .failure(Rejection(.missingField, "field '\(q.rawValue)' is missing"))
            }
            guard case .number(let v) = raw else {
                return .failure(Rejection(.wrongType, "field '\(q.rawValue)' must be a number"))
            }
            return checked(q, v, place: "field '\(q.rawValue)'")
        }
        do throws(Rejection) {
            let time = try parseTime(fields["time"]).get()
            let pm25 = try number(.pm25).get()
            let dew = try number(.dewPoint).get()
            let temperature = try number(.temperature).get()
            let pressure = try number(.pressure).get()
            let speed = try number(.windSpeed).get()
            var direction = try parseDirection(fields["wind_direction"]).get()
            if speed < WindDirection.calmBelow { direction = .calm }
            if let problem = dewPointProblem(dewPoint: dew, temperature: temperature) { throw problem }
            return .success(
                Reading(
                    station: station, time: time, pm25: pm25, dewPoint: dew, temperature: temperature,
                    pressure: pressure, windDirection: direction, windSpeed: speed))
        } catch {
            return .failure(error)
        }
    }

    /// The valid range of a quantity, in the model's unit. Relative humidity starts at 1 %:
    /// air at 0 % does not occur outdoors, and a sensor that reads 0 is broken (its dew point,
    /// -37.6 °C at 20 °C by the Magnus formula, was once taken as weather).
    public static func range(of q: Quantity) -> ClosedRange<Double>? {
        q == .humidity ? 1...100 : ranges.first { $0.field == q.rawValue }?.range
    }

    /// How far a dew point may sit above the temperature: none physically (saturated air has
    /// them equal), 1 °C for sensors that round each to whole degrees (the PRSA history has one
    /// such hour).
    public static let dewPointAboveTemperature = 1.0

    /// The refusal of a dew point above the temperature beyond rounding, when both are given.
    public static func dewPointProblem(dewPoint: Double?, temperature: Double?) -> Rejection? {
        guard let d = dewPoint, let t = temperature, d > t + dewPointAboveTemperature else { return nil }
        return Rejection(
            .outOfRange, "the dew point \(d) °C is above the temperature \(t) °C (it can at most equal it)")
    }

    /// `v` when it is finite and within the quantity's range (``range(of:)``), else the refusal
    /// that says which and names `place` ("field 'pm25'", "the temperature state"). Every
    /// decoder checks a value here, after converting it to the model's unit (`converted`, which
    /// the refusal then mentions).
    static func checked(_ q: Quantity, _ v: Double, place: String, converted: Bool = false) -> Result<Double, Rejection>
    {
        guard v.isFinite else { return .failure(Rejection(.outOfRange, "\(place) is not finite")) }
        if let r = range(of: q), !r.contains(v) {
            let unit = converted ? " in the model's unit" : ""
            return .failure(
                Rejection(.outOfRange, "\(place) is \(v)\(unit), outside \(r.lowerBound)...\(r.upperBound)"))
        }
        return .success(v)
    }

    /// A bearing in degrees (0...360) as a wind direction, else the refusal naming `place`.
    static func bearing(_ v: Double, place: String) -> Result<WindDirection, Rejection> {
        guard v.isFinite, (0...360).contains(v) else {
            return .failure(Rejection(.outOfRange, "\(place) is \(v) degrees, outside 0...360"))
        }
        return .success(WindDirection(degrees: v))
    }

    /// Our JSON as an observation: `time` is required, every other field is optional but
    /// checked like a reading's when present (a missing one may come from a weather source).
    static func observation(fields: [String: JSONValue], station: String) -> Result<Observation, Rejection> {
        var o = Observation(station: station)
        do throws(Rejection) {
            o.time = try parseTime(fields["time"]).get()
            for q in [Quantity.pm25, .dewPoint, .temperature, .humidity, .pressure, .windSpeed] {
                guard let raw = fields[q.rawValue], raw != .null else { continue }
                guard case .number(let v) = raw else {
                    throw Rejection(.wrongType, "field '\(q.rawValue)' must be a number")
                }
                o[number: q] = try checked(q, v, place: "field '\(q.rawValue)'").get()
            }
            if let raw = fields["wind_direction"], raw != .null { o.windDirection = try parseDirection(raw).get() }
        } catch {
            return .failure(error)
        }
        return .success(o)
    }

    /// One hour of a weather forecast: Unix time and the six raw features (PM2.5 set to 0).
    public struct WeatherHour: Sendable, Equatable {
        public var time: Int64
        public var features: [Double]
        public var hour: Int64 { hourContaining(time) }

        public init(time: Int64, features: [Double]) {
            self.time = time
            self.features = features
        }
    }

    /// A weather forecast for a station: `{"hours": [{"time": ..., "dew_point": ...,
    /// "temperature": ..., "pressure": ..., "wind_direction": ..., "wind_speed": ...}, ...]}`,
    /// each hour checked like a reading's weather, at most 48 hours.
    public static func decodeWeather(_ payload: [UInt8], station: String) -> Result<[WeatherHour], Rejection> {
        let top: [String: JSONValue]
        switch topLevelObject(payload, station: station) {
        case .failure(let r): return .failure(r)
        case .success(let fields): top = fields
        }
        guard case .array(let items)? = top["hours"] else {
            return .failure(Rejection(.missingField, "field 'hours' (an array) is missing"))
        }
        guard items.count <= 48 else { return .failure(Rejection(.outOfRange, "more than 48 hours")) }
        var out: [WeatherHour] = []
        for (n, item) in items.enumerated() {
            guard case .object(var fields) = item else {
                return .failure(Rejection(.wrongType, "hours[\(n)] is not an object"))
            }
            fields["pm25"] = .number(0)
            switch decode(fields: fields, station: station) {
            case .failure(let r): return .failure(Rejection(r.code, "hours[\(n)]: \(r.reason)"))
            case .success(let r): out.append(WeatherHour(time: r.time, features: r.features))
            }
        }
        return .success(out)
    }

    static func parseDirection(_ raw: JSONValue?, name: String = "wind_direction") -> Result<WindDirection, Rejection> {
        guard let raw else { return .failure(Rejection(.missingField, "field '\(name)' is missing")) }
        if case .string(let word) = raw {
            guard let d = WindDirection(compass: word) else {
                return .failure(
                    Rejection(
                        .outOfRange,
                        "field '\(name)' is '\(word.prefix(20))', not a compass point (N, NNE, ..., NNW), PRSA code or degrees"
                    ))
            }
            return .success(d)
        }
        if case .number(let v) = raw { return bearing(v, place: "field '\(name)'") }
        return .failure(Rejection(.wrongType, "field '\(name)' must be a compass word or degrees"))
    }

    /// RFC 3339 (`2014-01-01T05:00:00Z`, any fraction digits, offsets within ±18:00; see
    /// ``RFC3339``) or Unix seconds.
    static func parseTime(_ raw: JSONValue?, name: String = "time") -> Result<Int64, Rejection> {
        guard let raw else { return .failure(Rejection(.missingField, "field '\(name)' is missing")) }
        if case .number(let v) = raw {
            guard v.isFinite, abs(v) < 1e11 else {
                return .failure(Rejection(.badTime, "field '\(name)' is not a usable Unix time"))
            }
            return .success(Int64(v.rounded(.down)))
        }
        if case .string(let s) = raw {
            return RFC3339.parse(s.utf8).mapError {
                Rejection(.badTime, "field '\(name)' \($0) (expected RFC 3339, e.g. 2014-01-01T05:00:00Z)")
            }
        }
        return .failure(Rejection(.wrongType, "field '\(name)' must be an RFC 3339 string or Unix seconds"))
    }
}

/// Any JSON value: a number is never a Bool and the other way round.
enum JSONValue: Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}
