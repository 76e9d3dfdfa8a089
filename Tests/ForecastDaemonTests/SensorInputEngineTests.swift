import AirQuality
import Foundation
import Synchronization
import Testing

@testable import ForecastDaemon

/// Readings that lack some weather: filled from a weather source, from the station's own
/// earlier messages, or derived; refused with the reason when nothing can fill them; and hours
/// closed by the clock when a sensor stops.
@Suite struct SensorInputEngineTests {
    let start: Int64 = 385_000
    var now: Double { Double(start + 100) * 3600 }

    func engine(_ tweak: (inout ForecastEngine.Settings) -> Void = { _ in }) -> ForecastEngine {
        shippedEngine(tweak)
    }

    /// The roof station's weather-only message for an hour (our JSON without PM2.5).
    func roof(_ hour: Int64) -> [UInt8] {
        Array(
            #"{"time": \#(hour * 3600), "dew_point": -5, "temperature": 3, "pressure": 1018, "wind_direction": "NW", "wind_speed": 2.2}"#
                .utf8)
    }

    /// A Tasmota message with PM2.5, temperature and humidity, at the device's local time UTC+1.
    func tasmota(_ hour: Int64, pm: Double = 30) -> [UInt8] {
        let local = isoHour(hour + 1).dropLast()  // "yyyy-mm-ddThh:00:00"
        return Array(
            #"{"Time":"\#(local)","SDS0X1":{"PM2.5":\#(pm),"PM10":40},"SHT3X":{"Temperature":3.0,"Humidity":60.0,"DewPoint":-4.1},"TempUnit":"C"}"#
                .utf8)
    }

    var tasmotaFormat: PayloadFormat {
        var f = PayloadFormat(profile: .tasmota)
        f.timeZoneOffset = 3600
        return f
    }

    /// A sensor that sends every few seconds, stamped on arrival: the minute's first reading is
    /// counted and logged; the next in that minute is passed over, neither counted nor logged.
    @Test func aSecondReadingInAMinuteStampedOnArrivalIsPassedOverAndNotLogged() {
        let logged = Mutex<[Reading]>([])
        let e = ForecastEngine(
            model: Shipped.model, modelName: "m.json", settings: .init(), fewerInputs: Shipped.fewerInputs,
            onAccepted: { r in logged.withLock { $0.append(r) } })
        let payload = Array(#"{"pm02":7,"atmp":20,"rhum":50}"#.utf8)
        let format = PayloadFormat(profile: .airgradient)
        guard case .accepted = e.ingest(station: "ag", payload: payload, format: format, retained: false, now: now)
        else {
            Issue.record("the minute's first reading was not accepted")
            return
        }
        let again = e.ingest(station: "ag", payload: payload, format: format, retained: false, now: now + 10)
        guard case .passedOver("ag", start + 100) = again else {
            Issue.record("the second reading of the minute was \(again)")
            return
        }
        #expect(logged.withLock { $0.count } == 1)
        guard case .accepted = e.ingest(station: "ag", payload: payload, format: format, retained: false, now: now + 60)
        else {
            Issue.record("the next minute's reading was not accepted")
            return
        }
        #expect(logged.withLock { $0.count } == 2)
    }

    @Test func aTasmotaStationTakesPressureAndWindFromItsWeatherSource() throws {
        let e = engine { $0.defaultWeatherSource = "roof" }
        // Before the source has said anything, the reading is refused and says why.
        let early = e.ingest(station: "t1", payload: tasmota(start), format: tasmotaFormat, retained: false, now: now)
        guard case .rejected(let r) = early else {
            Issue.record("a reading without wind was accepted with no weather to fill it")
            return
        }
        #expect(r.code == .noWeather)
        #expect(
            r.reason
                == "no pressure, wind direction, wind speed: not in the message and weather source 'roof' has sent nothing yet"
        )
        var last: StationForecast?
        for h in 0..<24 {
            guard
                case .accepted(_, _, nil, nil, _) = e.ingest(
                    station: "roof", payload: roof(start + Int64(h)), retained: false, now: now)
            else {
                Issue.record("the weather-only message of the source was refused or forecast")
                return
            }
            guard
                case .accepted(_, _, let f, _, _) = e.ingest(
                    station: "t1", payload: tasmota(start + Int64(h)), format: tasmotaFormat, retained: false, now: now)
            else {
                Issue.record("hour \(h) of t1 refused")
                return
            }
            last = f ?? last
        }
        let forecast = try #require(last, "no forecast after 24 hours")
        #expect(forecast.basedOnHour == start + 23)
        #expect(forecast.inputs.pressure == .source("roof") && forecast.inputs.windSpeed == .source("roof"))
        #expect(forecast.inputs.temperature == .payload && forecast.inputs.dewPoint == .payload)
        let json = try JSONSerialization.jsonObject(with: Data(forecast.json())) as! [String: Any]
        let inputs = try #require(json["inputs"] as? [String: String])
        #expect(inputs["pressure"] == "weather source roof" && inputs["wind_direction"] == "weather source roof")
        #expect(inputs["temperature"] == "station" && inputs["pm25"] == "station")
        // The source sends no PM2.5 and has no forecast of its own.
        #expect(e.status(of: "roof") == "no reading yet")
        // A station that is nobody's source may not leave PM2.5 out.
        guard case .rejected(let noPM) = e.ingest(station: "x", payload: roof(start), retained: false, now: now) else {
            Issue.record("a weather-only message from a station that is no source was accepted")
            return
        }
        #expect(noPM.code == .missingField && noPM.reason == "no PM2.5: field 'pm25' is missing")
    }

    @Test func aSourceTooLongSilentFillsNothing() throws {
        let e = engine { $0.weatherSources = ["t1": "roof"] }
        _ = e.ingest(station: "roof", payload: roof(start), retained: false, now: now)
        let late = e.ingest(
            station: "t1", payload: tasmota(start + 3), format: tasmotaFormat, retained: false, now: now)
        guard case .rejected(let r) = late else {
            Issue.record("three-hour-old weather was used")
            return
        }
        #expect(r.reason.hasSuffix("weather source 'roof' has sent none within 2 hours of it"))
        #expect(
            e.ingest(station: "t1", payload: tasmota(start + 2), format: tasmotaFormat, retained: false, now: now)
                .isAccepted)
    }

    @Test func anESPHomeStationIsAssembledFromItsTopics() throws {
        let e = engine { $0.defaultWeatherSource = "roof" }
        let f = PayloadFormat(profile: .esphome)
        var last: StationForecast?
        for h in 0..<24 {
            let t = Double(start + Int64(h)) * 3600
            _ = e.ingest(station: "roof", payload: roof(start + Int64(h)), retained: false, now: t)
            // Temperature and humidity first, each on its own topic; then PM2.5.
            #expect(
                e.ingest(
                    station: "esp", payload: Array("3.0".utf8), format: f, quantity: .temperature, readingsPerHour: 1,
                    retained: false, now: t + 10
                ).isAccepted)
            #expect(
                e.ingest(
                    station: "esp", payload: Array("60".utf8), format: f, quantity: .humidity, readingsPerHour: 1,
                    retained: false, now: t + 20
                ).isAccepted)
            guard
                case .accepted(_, _, let forecast, _, _) = e.ingest(
                    station: "esp", payload: Array("30".utf8), format: f, quantity: .pm25, readingsPerHour: 1,
                    retained: false, now: t + 30)
            else {
                Issue.record("PM2.5 of hour \(h) refused")
                return
            }
            last = forecast ?? last
        }
        let forecast = try #require(last)
        #expect(forecast.inputs.temperature == .earlier && forecast.inputs.dewPoint == .derived)
        #expect(forecast.inputs.windDirection == .source("roof"))
    }

    @Test func aSensorSendingEveryTenSecondsIsNotADuplicate() {
        let e = shippedEngine(fewerInputs: true)
        let f = PayloadFormat(profile: .esphome)
        let t = Double(start) * 3600
        for k in 0..<6 {
            let outcome = e.ingest(
                station: "fast", payload: Array("30".utf8), format: f, quantity: .pm25, readingsPerHour: 0,
                retained: false, now: t + Double(k) * 10)
            // The minute's first is counted; the others are passed over, none refused.
            if k == 0 {
                #expect(outcome.isAccepted, "reading \(k) of the minute: \(outcome)")
            } else if case .passedOver = outcome {
            } else {
                Issue.record("reading \(k) of the minute: \(outcome)")
            }
        }
        #expect(e.snapshot().rejected.isEmpty && e.snapshot().accepted == 1)
    }

    @Test func theHourOfAStationThatStopsIsClosedByTheClock() throws {
        // Readings all through each hour, counted by time (readings_per_hour 0).
        let e = engine()
        for h in 0..<24 {
            for m in stride(from: 0, to: 60, by: 10) {
                let t = Double(start + Int64(h)) * 3600 + Double(m) * 60
                _ = e.ingest(
                    station: "s", payload: payload(hour: start + Int64(h), minute: Int64(m)), readingsPerHour: 0,
                    retained: false, now: t)
            }
        }
        // Hour 23's readings are all in, but no reading of hour 24 comes: the sensor stopped.
        let end = Double(start + 24) * 3600
        #expect(e.closeQuietHours(now: end + 30).isEmpty, "closed before the grace period")
        let closed = e.closeQuietHours(now: end + 61)
        #expect(closed.count == 1 && closed.first?.forecast?.basedOnHour == start + 23)
        #expect(e.closeQuietHours(now: end + 120).isEmpty, "the same hour was closed twice")
    }
}

/// Stations that do not send every input: forecast by the shipped model for the inputs they
/// have, which the forecast and the state name.
@Suite struct FewerInputsEngineTests {
    let start: Int64 = 385_000
    var now: Double { Double(start + 100) * 3600 }

    /// Feeds 24 hours of `payload(h)` in `format` and returns the last forecast and state.
    func day(
        _ e: ForecastEngine, station: String, format: PayloadFormat, quantity: Quantity? = nil,
        _ payload: (Int64) -> String
    ) -> (StationForecast?, StationState?) {
        var last: (StationForecast?, StationState?) = (nil, nil)
        for h in 0..<24 {
            let outcome = e.ingest(
                station: station, payload: Array(payload(start + Int64(h)).utf8), format: format, quantity: quantity,
                readingsPerHour: 1, retained: false, now: now)
            guard case .accepted(_, _, let f, _, let state) = outcome else {
                Issue.record("hour \(h) of \(station) refused: \(outcome)")
                return last
            }
            last = (f ?? last.0, state ?? last.1)
        }
        return last
    }

    @Test func eachStationGetsTheModelForTheInputsItHas() throws {
        let e = shippedEngine(fewerInputs: true)
        var json = PayloadFormat(profile: .json)
        json.timeField = "t"
        json.names = [.pm25: "pm", .temperature: "temp", .humidity: "rh"]
        // PM2.5, temperature and humidity: the model for those (the dew point derived).
        let (th, thState) = day(e, station: "th", format: json) {
            #"{"t": \#($0 * 3600), "pm": 40, "temp": 5, "rh": 60}"#
        }
        let thForecast = try #require(th)
        #expect(thForecast.modelInputs == "pm25+dew_point+temperature")
        #expect(thForecast.model.hasPrefix("aqcast-pm25-temperature-humidity.json recursive/seed 1/"))
        #expect(thState == .forecasting(inputs: "pm25+dew_point+temperature"))
        let text = String(decoding: thForecast.json(), as: UTF8.self)
        #expect(text.contains(#""model_inputs":"pm25+dew_point+temperature""#))
        // PM2.5 alone: the model for PM2.5 alone.
        let (pm, _) = day(e, station: "pm", format: json) { #"{"t": \#($0 * 3600), "pm": 40}"# }
        #expect(pm?.modelInputs == "pm25" && pm?.model.hasPrefix("aqcast-pm25.json") == true)
        // All six: the main model.
        let (all, _) = day(e, station: "all", format: PayloadFormat(profile: .native)) {
            String(decoding: payload(hour: $0), as: UTF8.self)
        }
        #expect(all?.modelInputs == "all" && all?.model.hasPrefix("m.json") == true)
        #expect(
            thForecast.hours.count == 8 && thForecast.hours.allSatisfy { $0.lower <= $0.pm25 && $0.pm25 <= $0.upper })
    }

    /// A station id from the payload (the json profile's `station` field) is what the outcome
    /// names: the daemon publishes the station's state under it, not under the topic's empty id.
    @Test func theOutcomeNamesTheStationThePayloadGave() throws {
        let e = shippedEngine(fewerInputs: true)
        var json = PayloadFormat(profile: .json)
        json.timeField = "t"
        json.stationField = "id"
        json.names = [.pm25: "pm", .temperature: "temp", .humidity: "rh"]
        let outcome = e.ingest(
            station: "",
            payload: Array(#"{"id": "node-7", "t": \#(start * 3600), "pm": 40, "temp": 5, "rh": 60}"#.utf8),
            format: json, readingsPerHour: 1, retained: false, now: now)
        guard case .accepted(let station, _, nil, let waiting?, let state?) = outcome else {
            Issue.record("not accepted as the first hour of a window: \(outcome)")
            return
        }
        #expect(station == "node-7")
        #expect(waiting.hasPrefix("window incomplete"))
        #expect(state.json(station: station).starts(with: Array(#"{"station":"node-7","state":"waiting""#.utf8)))
    }

    @Test func aWindowWithSomeHoursLackingAnInputUsesTheModelWithoutIt() throws {
        let e = shippedEngine(fewerInputs: true)
        // Whole readings for 20 hours, then four without pressure and wind.
        for h in 0..<20 {
            _ = e.ingest(station: "s", payload: payload(hour: start + Int64(h)), retained: false, now: now)
        }
        var last: StationForecast?
        for h in 20..<24 {
            let text = #"{"time": \#((start + Int64(h)) * 3600), "pm25": 50, "dew_point": -5, "temperature": 3}"#
            if case .accepted(_, _, let f?, _, _) = e.ingest(
                station: "s", payload: Array(text.utf8), retained: false, now: now)
            {
                last = f
            }
        }
        #expect(last?.modelInputs == "pm25+dew_point+temperature")
        // Without the models for fewer inputs such a reading is refused, as before.
        let plain = shippedEngine()
        let text = #"{"time": \#(start * 3600), "pm25": 50, "dew_point": -5, "temperature": 3}"#
        guard case .rejected(let r) = plain.ingest(station: "s", payload: Array(text.utf8), retained: false, now: now)
        else {
            Issue.record("a reading without wind was accepted with no model to use it")
            return
        }
        #expect(r.code == .missingField)
        #expect(
            r.reason
                == "no pressure, wind direction, wind speed: not in the message and no weather source is set for this station ([weather_sources])"
        )
    }
}

extension ForecastEngine.Outcome {
    var isAccepted: Bool {
        if case .accepted = self { return true }
        return false
    }
}
