import RealModule

/// How a model turns the six raw features of an hour (``Feature`` order: PM2.5 µg/m³, dew
/// point, temperature, pressure, the PRSA wind code, wind speed) into its inputs, and its
/// output back into µg/m³.
///
/// The course's encoding feeds the raw values (the wind as its ordinal code, which puts SW at
/// 12, past every code the PRSA file has). Ours takes PM2.5 as `log(1 + x)`, since its errors
/// grow with its level, and the wind direction as the east and north components of a unit
/// vector (zero when calm), so no direction lies outside what training saw and neighbours are
/// neighbours. The target is on the PM2.5 input's scale, so a forecast is fed back as it is.
public struct InputEncoding: Codable, Sendable, Equatable {
    public enum Scale: String, Codable, Sendable {
        case linear
        case log1p
    }

    public enum Wind: String, Codable, Sendable {
        /// The course's ordinal code: cv 0, NE 3, SE 6, NW 9, SW 12.
        case code
        /// East and north components of the direction's unit vector, (0, 0) when calm.
        case vector
    }

    /// The weather inputs a model takes besides PM2.5.
    public enum WeatherInput: String, Codable, Sendable, CaseIterable {
        case dewPoint = "dew_point"
        case temperature
        case pressure
        case windDirection = "wind_direction"
        case windSpeed = "wind_speed"
    }

    public var pm25: Scale
    public var wind: Wind
    /// The weather inputs taken, in ``Feature`` order; nil: all five (every model before
    /// models for fewer inputs, whose files do not have the key).
    public var weather: [WeatherInput]?

    public init(pm25: Scale, wind: Wind, weather: [WeatherInput]? = nil) {
        self.pm25 = pm25
        self.wind = wind
        self.weather = weather.map { w in WeatherInput.allCases.filter { w.contains($0) } }
    }

    /// The weather inputs taken, all five when the file does not say.
    public var weatherInputs: [WeatherInput] { weather ?? WeatherInput.allCases }

    /// Whether the model takes `input`.
    public func takes(_ input: WeatherInput) -> Bool { weather?.contains(input) ?? true }

    /// A short name for what the model takes: `all`, `pm25+dew_point+temperature`, `pm25`.
    public var inputsName: String {
        weather == nil || weather == WeatherInput.allCases
            ? "all" : (["pm25"] + weatherInputs.map(\.rawValue)).joined(separator: "+")
    }

    /// The course's: the six raw features as they are.
    public static let course = InputEncoding(pm25: .linear, wind: .code)
    /// The project's: PM2.5 in log space, the wind as a vector.
    public static let logVector = InputEncoding(pm25: .log1p, wind: .vector)

    /// The model's input names, in order.
    public var names: [String] {
        let pm = pm25 == .log1p ? "log1p_pm25" : "pm25"
        let wind = self.wind == .code ? ["wind_direction_code"] : ["wind_east", "wind_north"]
        var out = [pm]
        for input in weatherInputs {
            if input == .windDirection { out += wind } else { out.append(input.rawValue) }
        }
        return out
    }

    public var count: Int { 1 + weatherInputs.count + (takes(.windDirection) && wind == .vector ? 1 : 0) }

    /// Where PM2.5 is among the inputs (the fed-back input).
    public var pm25Index: Int { 0 }

    /// PM2.5 (µg/m³) on the model's scale.
    @inlinable public func scaled(pm25 value: Double) -> Double {
        pm25 == .log1p ? Double.log(onePlus: max(0, value)) : value
    }

    /// A value on the model's PM2.5 scale back in µg/m³.
    @inlinable public func unscaled(pm25 value: Double) -> Double {
        pm25 == .log1p ? Double.expMinusOne(value) : value
    }

    /// Appends the inputs of one raw row (six values in ``Feature`` order) to `out`.
    public func append(raw row: some Collection<Double>, to out: inout [Double]) {
        var i = row.startIndex
        func next() -> Double {
            defer { i = row.index(after: i) }
            return row[i]
        }
        out.append(scaled(pm25: next()))
        for input in WeatherInput.allCases {
            let v = next()
            guard takes(input) else { continue }
            if input == .windDirection { appendWind(code: v, to: &out) } else { out.append(v) }
        }
    }

    private func appendWind(code: Double, to out: inout [Double]) {
        if wind == .code {
            out.append(code)
        } else {
            let (east, north) = Self.vector(code: code)
            out.append(east)
            out.append(north)
        }
    }

    /// The inputs of `rows` raw rows, row-major.
    public func encode(_ raw: [Double]) -> [Double] {
        let f = Feature.allCases.count
        var out: [Double] = []
        out.reserveCapacity(raw.count / f * count)
        for r in 0..<(raw.count / f) { append(raw: raw[(r * f)..<((r + 1) * f)], to: &out) }
        return out
    }

    /// The unit vector (east, north) of a PRSA wind code's quadrant centre; (0, 0) for calm.
    static func vector(code: Double) -> (Double, Double) {
        let s = 0.5.squareRoot()
        switch code {
        case 3: return (s, s)  // NE
        case 6: return (s, -s)  // SE
        case 9: return (-s, s)  // NW
        case 12: return (-s, -s)  // SW
        default: return (0, 0)  // cv
        }
    }
}
