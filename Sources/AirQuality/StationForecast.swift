import Foundation

/// One published forecast.
public struct StationForecast: Sendable, Equatable {
    public var station: String
    public var basedOnHour: Int64
    public var issuedAt: Double
    public var model: String
    public var hours: [ForecastHour]
    public var intervalLevels: (lower: Double, upper: Double)
    /// Where each hour ahead's weather came from; empty when every hour's was held.
    public var hourWeather: [HourWeather] = []
    /// Hours ahead whose weather was not held (from the topic or a service).
    public var weatherSupplied: Int { hourWeather.filter { $0 != .held }.count }
    /// Where the observed inputs came from: the station's own messages, a derived dew point,
    /// a weather source; published as `inputs`.
    public var inputs: InputOrigins
    /// What the model that made it takes: `all`, or `pm25+dew_point+temperature` and the like.
    public var modelInputs: String
    /// The errors of the model's earlier forecasts for the origin hour, learnt by the station's
    /// bias correction as this forecast was made (logged, so a restart keeps them).
    public var biasErrors: [BiasCorrection.Error]

    public init(
        station: String, basedOnHour: Int64, issuedAt: Double, model: String, hours: [ForecastHour],
        intervalLevels: (lower: Double, upper: Double), hourWeather: [HourWeather] = [],
        inputs: InputOrigins = .allFromPayload,
        modelInputs: String = "all", biasErrors: [BiasCorrection.Error] = []
    ) {
        self.biasErrors = biasErrors
        self.modelInputs = modelInputs
        self.inputs = inputs
        self.station = station
        self.basedOnHour = basedOnHour
        self.issuedAt = issuedAt
        self.model = model
        self.hours = hours
        self.intervalLevels = intervalLevels
        self.hourWeather = hourWeather
    }

    public static func == (a: StationForecast, b: StationForecast) -> Bool {
        a.station == b.station && a.basedOnHour == b.basedOnHour && a.issuedAt == b.issuedAt && a.model == b.model
            && a.hours == b.hours && a.intervalLevels == b.intervalLevels && a.hourWeather == b.hourWeather
            && a.inputs == b.inputs && a.modelInputs == b.modelInputs && a.biasErrors == b.biasErrors
    }

    /// The JSON published to the forecast topic, written straight into bytes (this runs for
    /// every completed hour of every station).
    public func json() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + 96 * hours.count)
        func text(_ s: String) { out.append(contentsOf: s.utf8) }
        let issued = Int64(issuedAt.rounded(.down))
        text("{\"station\":")
        appendJSONString(station, to: &out)
        text(",\"issued_at\":\"")
        appendISOTime(issued, to: &out)
        text("\",\"based_on_hour\":\"")
        appendISOTime(basedOnHour * 3600, to: &out)
        text("\",\"model\":")
        appendJSONString(model, to: &out)
        text(",\"model_inputs\":")
        appendJSONString(modelInputs, to: &out)
        if weatherSupplied == 0 {
            text(",\"weather\":\"held at the last observed hour")
        } else {
            text(
                ",\"weather\":\"weather forecast for \(weatherSupplied) of \(hours.count) hours, else held at the last observed hour"
            )
        }
        text("\"")
        // The service's forecast the hours came from, by the newest issue among them.
        if let (area, issued) = hourWeather.compactMap({ w -> (String, Double)? in
            if case .service(let area, let issued) = w { return (area, issued) }
            return nil
        }).max(by: { $0.1 < $1.1 }) {
            text(",\"weather_service\":{\"area\":")
            appendJSONString(area, to: &out)
            text(",\"issued_at\":\"")
            appendISOTime(Int64(issued.rounded(.down)), to: &out)
            text("\"}")
        }
        text(",\"inputs\":")
        inputs.appendJSON(to: &out)
        text(",\"interval\":{\"lower_quantile\":")
        text("\(intervalLevels.lower),\"upper_quantile\":\(intervalLevels.upper)},\"unit\":\"ug/m3\",\"hours\":[")
        for (i, h) in hours.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            text("{\"time\":\"")
            appendISOTime((basedOnHour + Int64(h.horizon)) * 3600, to: &out)
            text("\",\"horizon\":")
            appendInteger(Int64(h.horizon), to: &out)
            text(",\"pm25\":")
            appendTenths(h.pm25, to: &out)
            text(",\"lower\":")
            appendTenths(h.lower, to: &out)
            text(",\"upper\":")
            appendTenths(h.upper, to: &out)
            text(",\"correction\":")
            appendTenths(h.correction, to: &out)
            text(",\"weather\":\"")
            text(i < hourWeather.count ? hourWeather[i].name : "held")
            text("\"}")
        }
        text("]}")
        return out
    }

}

extension ModelFile {
    /// A short identity for published forecasts: file name, recipe, seed, and a hash of the
    /// weights, so two different models never share a name.
    public func identity(name: String) -> String {
        "\(name) \(training.recipe.name)/seed \(training.seed)/\(Self.fingerprint(parameters))"
    }
}

/// What a station is doing, as published (retained) to its state topic when it changes.
public enum StationState: Sendable, Equatable {
    /// How the reason of a station's first state begins: its first reading is in.
    public static let firstReading = "first reading in"

    /// Forecasting with a model that takes `inputs` (``StationForecast/modelInputs``).
    case forecasting(inputs: String)
    case waiting(reason: String, hour: Int64)

    var kind: String {
        switch self {
        case .forecasting: "forecasting"
        case .waiting: "waiting"
        }
    }

    var reason: String? {
        if case .waiting(let reason, _) = self { return reason }
        return nil
    }

    var inputs: String? {
        if case .forecasting(let inputs) = self { return inputs }
        return nil
    }

    /// `{"station": ..., "state": "forecasting", "model_inputs": "all"}` or `{"station": ..., "state": "waiting",
    /// "reason": ..., "hour": ...}`.
    public func json(station: String) -> [UInt8] {
        var out = Array("{\"station\":".utf8)
        appendJSONString(station, to: &out)
        out += Array(",\"state\":\"\(kind)\"".utf8)
        if let inputs {
            out += Array(",\"model_inputs\":".utf8)
            appendJSONString(inputs, to: &out)
        }
        if case .waiting(let reason, let hour) = self {
            out += Array(",\"reason\":".utf8)
            appendJSONString(reason, to: &out)
            out += Array(",\"hour\":\"".utf8)
            appendISOTime(hour * 3600, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
