/// How one input's payloads are laid out, and how to read an ``Observation`` out of one.
///
/// The profiles follow what the firmware publishes:
/// - `native`: our JSON (``ReadingDecoder``), every field optional but `time`.
/// - `tasmota`: a `tele/<device>/SENSOR` message: `Time` (local time without a zone), one
///   object per sensor (`SDS0X1` or `PMS5003` with `PM2.5`; `BME280`, `SHT3X` and the like with
///   `Temperature`, `Humidity`, `DewPoint`, `Pressure`), `TempUnit` and `PressureUnit`.
/// - `airgradient`: the monitor's local JSON (`pm02`, `pm02Compensated`, `atmp`, `rhum`, ...),
///   no time.
/// - `esphome` and `statestream`: one plain value per topic (ESPHome's
///   `<node>/sensor/<name>/state`, Home Assistant's `<base>/sensor/<entity>/state`); the topic
///   says which quantity it is, the time is the arrival.
/// - `json`: any JSON object, each quantity at a dotted field path, with a time field or none.
public struct PayloadFormat: Sendable, Equatable {
    public enum Profile: String, CaseIterable, Sendable {
        case native, tasmota, airgradient, esphome, statestream, json

        /// One value per message, the quantity named by the topic.
        public var isSingleValue: Bool { self == .esphome || self == .statestream }
    }

    public var profile: Profile
    public var units = PayloadUnits()
    /// For `esphome` and `statestream`, what the topic's `{quantity}` part is for each
    /// quantity; for `json`, each quantity's dotted field path.
    public var names: [Quantity: String]
    /// `json`: the dotted path of the time field (RFC 3339, or Unix seconds or milliseconds);
    /// nil: readings are stamped on arrival.
    public var timeField: String?
    /// `json`: the dotted path of the station id; nil: the station id comes from the topic.
    public var stationField: String?
    /// Seconds east of UTC for times written without a zone (Tasmota's `Time`, a `json` time
    /// field). Nil: Tasmota readings are stamped on arrival, and a `json` time without a zone
    /// is refused.
    public var timeZoneOffset: Int?

    public init(profile: Profile) {
        self.profile = profile
        names = Self.defaultNames(profile)
    }

    /// The quantity names a profile starts with: ESPHome's and Home Assistant's usual object ids.
    public static func defaultNames(_ profile: Profile) -> [Quantity: String] {
        switch profile {
        case .esphome, .statestream:
            [.pm25: "pm_2_5", .temperature: "temperature", .humidity: "humidity", .pressure: "pressure"]
        case .json:
            [.pm25: "pm25", .temperature: "temperature", .humidity: "humidity"]
        default: [:]
        }
    }

    /// Where the payload's PM2.5 is expected, for the refusal when there is none.
    public var pm25Place: String {
        switch profile {
        case .native: "field 'pm25'"
        case .tasmota: "a sensor object with 'PM2.5' (SDS0X1, PMS5003)"
        case .airgradient: "field 'pm02'"
        case .esphome, .statestream: "a '\(names[.pm25] ?? "pm25")' topic"
        case .json: "field '\(names[.pm25] ?? "pm25")'"
        }
    }

    /// Reads `payload`; `station` is the id the topic gave (or empty when `stationField` says
    /// where it is), `quantity` the one the topic named (single-value profiles). Nothing here
    /// can trap, whatever the bytes.
    public func decode(_ payload: [UInt8], station: String, quantity: Quantity? = nil) -> Result<Observation, Rejection>
    {
        if profile.isSingleValue {
            guard let quantity else { return .failure(Rejection(.badTopic, "the topic names no known quantity")) }
            if let problem = ReadingDecoder.validateStation(station) { return .failure(problem) }
            return singleValue(payload, station: station, quantity: quantity)
        }
        let fields: [String: JSONValue]
        switch ReadingDecoder.topLevelObject(payload, station: stationField == nil ? station : "json") {
        case .failure(let r): return .failure(r)
        case .success(let f): fields = f
        }
        let read: Result<Observation, Rejection>
        switch profile {
        case .native: read = ReadingDecoder.observation(fields: fields, station: station)
        case .tasmota: read = tasmota(fields, station: station)
        case .airgradient: read = airGradient(fields, station: station)
        case .json: read = mapped(fields, station: station)
        case .esphome, .statestream: return .failure(Rejection(.notObject, "unreachable"))
        }
        return read.flatMap { o in
            ReadingDecoder.dewPointProblem(dewPoint: o.dewPoint, temperature: o.temperature).map { .failure($0) }
                ?? .success(o)
        }
    }

    /// The name prefixes of the particle sensors Tasmota's drivers put in the SENSOR object
    /// (arendst/Tasmota: xsns_18_pms5003 for Plantower's PMS family, xsns_104_pmsa003i, the Nova
    /// SDS011/SDS021 as `SDS0X1`, xsns_91_vindriktning, and the Sensirion SPS30/SEN5x and
    /// Seeed HM330X drivers): `PM2.5` is taken only from such an object, not from a `BME280`
    /// that claims it.
    static let tasmotaParticleSensors = ["PMS", "SDS", "SPS30", "HM330", "VINDRIKTNING", "SEN5"]

    /// One row of text fields (a CSV line under a column mapping) read as the `json` profile
    /// reads an object: a field that is a number is one, the others text; empty, `NA` and
    /// `NaN` are absent.
    public func decode(textFields: [String: String], station: String) -> Result<Observation, Rejection> {
        var fields: [String: JSONValue] = [:]
        for (key, raw) in textFields {
            let text = raw.trimmingWhitespace()
            if text.isEmpty || text == "NA" || text == "NaN" { continue }
            if let v = decimalValue(text) {
                fields[key] = .number(v)
            } else {
                fields[key] = .string(text)
            }
        }
        return mapped(fields, station: station)
    }

    // MARK: profiles

    private func singleValue(_ payload: [UInt8], station: String, quantity: Quantity) -> Result<Observation, Rejection>
    {
        guard payload.count <= 64 else {
            return .failure(Rejection(.tooLarge, "a single value is \(payload.count) bytes (at most 64)"))
        }
        let text = String(decoding: payload, as: UTF8.self).trimmingWhitespace()
        var o = Observation(station: station)
        if quantity == .windDirection, let d = WindDirection(compass: text) {
            o.windDirection = d
            return .success(o)
        }
        guard let v = decimalValue(text) else {
            return .failure(
                Rejection(.wrongType, "the \(quantity.words) state is '\(printablePrefix(text))', not a number"))
        }
        return set(&o, quantity, v, place: "the \(quantity.words) state").map { o }
    }

    private func tasmota(_ fields: [String: JSONValue], station: String) -> Result<Observation, Rejection> {
        var units = self.units
        if case .string(let t)? = fields["TempUnit"] {
            guard let u = TemperatureUnit(rawValue: t) else {
                return .failure(Rejection(.outOfRange, "TempUnit is '\(printablePrefix(t))', not C, F or K"))
            }
            units.temperature = u
        }
        if case .string(let p)? = fields["PressureUnit"] {
            guard let u = PressureUnit(rawValue: p) else {
                return .failure(
                    Rejection(.outOfRange, "PressureUnit is '\(printablePrefix(p))', not hPa, mmHg or inHg"))
            }
            units.pressure = u
        }
        var o = Observation(station: station)
        if let offset = timeZoneOffset {
            switch time(fields["Time"], name: "Time", offset: offset) {
            case .failure(let r): return .failure(r)
            case .success(let t): o.time = t
            }
        }
        // Sensors in name order, so a payload with two of a kind is read the same every time.
        let sensors = fields.keys.sorted().compactMap { key -> (String, [String: JSONValue])? in
            if case .object(let inner) = fields[key]! { return (key, inner) }
            return nil
        }
        let wanted: [(String, Quantity)] = [
            ("PM2.5", .pm25), ("Temperature", .temperature), ("Humidity", .humidity), ("DewPoint", .dewPoint),
            ("Pressure", .pressure),
        ]
        for (key, q) in wanted {
            guard let (sensor, inner) = sensors.first(where: { $0.1[key] != nil }) else { continue }
            if q == .pm25, !Self.tasmotaParticleSensors.contains(where: { sensor.uppercased().hasPrefix($0) }) {
                return .failure(
                    Rejection(
                        .outOfRange,
                        "'\(printablePrefix(sensor)).PM2.5': \(printablePrefix(sensor)) is not a particle sensor "
                            + "(PM2.5 is read from \(Self.tasmotaParticleSensors.joined(separator: ", ")) objects)"))
            }
            guard case .number(let v) = inner[key]! else {
                return .failure(Rejection(.wrongType, "'\(printablePrefix(sensor)).\(key)' must be a number"))
            }
            let place = "'\(printablePrefix(sensor)).\(key)'"
            if case .failure(let r) = set(&o, q, v, place: place, units: units) { return .failure(r) }
        }
        return .success(o)
    }

    private func airGradient(_ fields: [String: JSONValue], station: String) -> Result<Observation, Rejection> {
        var o = Observation(station: station)
        // The compensated values (corrected for the sensor and its enclosure) where the
        // firmware gives them.
        let wanted: [([String], Quantity)] = [
            (["pm02Compensated", "pm02"], .pm25), (["atmpCompensated", "atmp"], .temperature),
            (["rhumCompensated", "rhum"], .humidity),
        ]
        for (keys, q) in wanted {
            guard let key = keys.first(where: { fields[$0] != nil && fields[$0] != .null }) else { continue }
            guard case .number(let v) = fields[key]! else {
                return .failure(Rejection(.wrongType, "field '\(key)' must be a number"))
            }
            if case .failure(let r) = set(&o, q, v, place: "field '\(key)'") { return .failure(r) }
        }
        return .success(o)
    }

    private func mapped(_ fields: [String: JSONValue], station: String) -> Result<Observation, Rejection> {
        let root = JSONValue.object(fields)
        var o = Observation(station: station)
        if let path = stationField {
            guard case .string(let id)? = root.at(path: path) else {
                return .failure(Rejection(.missingField, "field '\(path)' (the station id, a string) is missing"))
            }
            if let problem = ReadingDecoder.validateStation(id) { return .failure(problem) }
            o.station = id
        } else if let problem = ReadingDecoder.validateStation(station) {
            return .failure(problem)
        }
        if let path = timeField {
            switch time(root.at(path: path), name: path, offset: timeZoneOffset) {
            case .failure(let r): return .failure(r)
            case .success(let t): o.time = t
            }
        }
        for q in Quantity.allCases {
            guard let path = names[q], let value = root.at(path: path), value != .null else { continue }
            if q == .windDirection {
                switch ReadingDecoder.parseDirection(value, name: path) {
                case .failure(let r): return .failure(r)
                case .success(let d): o.windDirection = d
                }
                continue
            }
            guard case .number(let v) = value else {
                return .failure(Rejection(.wrongType, "field '\(path)' must be a number"))
            }
            if case .failure(let r) = set(&o, q, v, place: "field '\(path)'") { return .failure(r) }
        }
        return .success(o)
    }

    // MARK: values

    /// Converts `v` from this input's unit (or `units`, those a message named for itself),
    /// checks its range and stores it.
    private func set(
        _ o: inout Observation, _ q: Quantity, _ raw: Double, place: String, units: PayloadUnits? = nil
    ) -> Result<Void, Rejection> {
        let units = units ?? self.units
        var v = raw
        switch q {
        case .temperature, .dewPoint: v = units.temperature.celsius(raw)
        case .pressure: v = units.pressure.hectopascals(raw)
        case .windSpeed: v = units.windSpeed.metresPerSecond(raw)
        case .windDirection:
            return ReadingDecoder.bearing(raw, place: place).map { o.windDirection = $0 }
        default: break
        }
        return ReadingDecoder.checked(q, v, place: place, converted: true).map { o[number: q] = $0 }
    }

    /// A time field: RFC 3339, one without a zone read at `offset`, or Unix seconds (values
    /// past 10^11 taken as milliseconds).
    private func time(_ raw: JSONValue?, name: String, offset: Int?) -> Result<Int64, Rejection> {
        switch raw {
        case .number(let v)? where v.isFinite && abs(v) >= 1e11 && abs(v) < 1e14:
            return .success(Int64((v / 1000).rounded(.down)))
        case .string(let s)? where offset != nil && !Self.hasZone(s):
            return ReadingDecoder.parseTime(.string(s + Self.offsetText(offset!)), name: name)
        default:
            return ReadingDecoder.parseTime(raw, name: name)
        }
    }

    /// Whether an RFC 3339-like time ends in `Z` or a `±hh:mm` offset.
    static func hasZone(_ s: String) -> Bool {
        let b = Array(s.utf8.suffix(6))
        if let last = b.last, last == UInt8(ascii: "Z") || last == UInt8(ascii: "z") { return true }
        return b.count == 6 && (b[0] == UInt8(ascii: "+") || b[0] == UInt8(ascii: "-")) && b[3] == UInt8(ascii: ":")
    }

    /// `+08:00` for 28,800 seconds.
    public static func offsetText(_ seconds: Int) -> String {
        let m = abs(seconds) / 60
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return (seconds < 0 ? "-" : "+") + two(m / 60) + ":" + two(m % 60)
    }

    /// `+08:00`, `-05:30`, `Z` or `UTC` as seconds east of UTC, or nil.
    public static func offset(parsing text: String) -> Int? {
        if text == "Z" || text == "UTC" { return 0 }
        let b = Array(text.utf8)
        guard b.count == 6, b[0] == UInt8(ascii: "+") || b[0] == UInt8(ascii: "-"), b[3] == UInt8(ascii: ":"),
            let h = Int(String(decoding: b[1...2], as: UTF8.self)),
            let m = Int(String(decoding: b[4...5], as: UTF8.self)),
            h <= 18, m <= 59, h * 60 + m <= 18 * 60
        else { return nil }
        return (b[0] == UInt8(ascii: "-") ? -1 : 1) * (h * 3600 + m * 60)
    }
}

extension JSONValue {
    /// The value at a dotted path (`sensors.pm.value`), or nil; a key that holds the dots
    /// itself (`PM2.5`) is found first.
    func at(path: String) -> JSONValue? {
        if case .object(let fields) = self, let whole = fields[path] { return whole }
        var here = self
        for key in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard case .object(let fields) = here, let next = fields[String(key)] else { return nil }
            here = next
        }
        return here
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let bytes = Array(utf8)
        func space(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        guard let first = bytes.firstIndex(where: { !space($0) }), let last = bytes.lastIndex(where: { !space($0) })
        else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }
}

/// At most 20 characters of outside text, for a refusal's reason (escaped where it goes out).
func printablePrefix(_ s: String) -> String {
    String(
        s.unicodeScalars.prefix(20).map {
            $0.value < 0x20 || $0.value == 0x7F ? "\\x\(String($0.value, radix: 16))" : String($0)
        }
        .joined())
}
