import AirQuality
import Foundation
import Testing

@testable import ForecastDaemon

enum Shipped {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let modelPath = root.appendingPathComponent("models/aqcast-default.json").path
    static let model = try! ModelFile.load(path: modelPath)
    static let binary = root.appendingPathComponent(".build/debug/aqcast").path
    /// The shipped models for fewer inputs, with their names, most inputs first.
    static let fewerInputs: [(ModelFile, String)] = ["aqcast-pm25-temperature-humidity.json", "aqcast-pm25.json"].map {
        (try! ModelFile.load(path: root.appendingPathComponent("models/\($0)").path), $0)
    }
}

func payload(hour: Int64, minute: Int64 = 0, pm: Double = 80) -> [UInt8] {
    Array(
        """
        {"time": \(hour * 3600 + minute * 60), "pm25": \(pm), "dew_point": -5, "temperature": 3, "pressure": 1018,
         "wind_direction": "NW", "wind_speed": 2.2}
        """.utf8)
}

/// An engine with the shipped model and the default settings as `tweak` leaves them.
func shippedEngine(fewerInputs: Bool = false, _ tweak: (inout ForecastEngine.Settings) -> Void = { _ in })
    -> ForecastEngine
{
    var s = ForecastEngine.Settings()
    tweak(&s)
    return ForecastEngine(
        model: Shipped.model, modelName: "m.json", settings: s, fewerInputs: fewerInputs ? Shipped.fewerInputs : [])
}

@Suite struct ForecastEngineTests {
    let start: Int64 = 385_000
    var now: Double { Double(start + 100) * 3600 }

    func engine(_ tweak: (inout ForecastEngine.Settings) -> Void = { _ in }) -> ForecastEngine {
        shippedEngine(tweak)
    }

    @Test func forecastsOnceTheWindowIsWholeAndSaysWhyBefore() throws {
        let e = engine()
        for h in 0..<23 {
            guard
                case .accepted(_, _, let f, let waiting, _) = e.ingest(
                    station: "s1", payload: payload(hour: start + Int64(h)), retained: false, now: now)
            else {
                Issue.record("hour \(h) rejected")
                return
            }
            #expect(f == nil)
            #expect(waiting?.hasPrefix("window incomplete: \(h + 1) of 24 hours") == true)
        }
        #expect(e.status(of: "s1") == "window incomplete: 23 of 24 hours up to \(isoHour(start + 22))")
        guard
            case .accepted(_, _, let forecast?, nil, _) = e.ingest(
                station: "s1", payload: payload(hour: start + 23), retained: false, now: now)
        else {
            Issue.record("no forecast after 24 hours")
            return
        }
        #expect(forecast.basedOnHour == start + 23 && forecast.hours.count == 8)
        let json = try JSONSerialization.jsonObject(with: Data(forecast.json())) as! [String: Any]
        let hours = json["hours"] as! [[String: Any]]
        #expect(json["station"] as? String == "s1" && hours.count == 8)
        #expect(hours[0]["time"] as? String == isoHour(start + 24) && hours[7]["horizon"] as? Int == 8)
        #expect((json["model"] as? String)?.hasPrefix("m.json \(Shipped.model.training.recipe.name)/seed 1/") == true)
        #expect(e.snapshot().forecasts == 1 && e.snapshot().accepted == 24)
        #expect(e.status(of: "s1") == "forecast from \(isoHour(start + 23))")
    }

    @Test func rejectsRetainedFutureDuplicateAndOldReadingsAndCountsThem() {
        let e = engine()
        func code(_ p: [UInt8], retained: Bool = false) -> Rejection.Code? {
            if case .rejected(let r) = e.ingest(station: "s1", payload: p, retained: retained, now: now) {
                return r.code
            }
            return nil
        }
        #expect(code(payload(hour: start), retained: true) == .retained)
        #expect(code(payload(hour: start + 101)) == .future)
        #expect(code(payload(hour: start + 50)) == nil)
        #expect(code(payload(hour: start + 50)) == .duplicate)
        #expect(code(payload(hour: start + 10)) == .tooOld)
        let c = e.snapshot()
        #expect(
            c.rejected[.retained] == 1 && c.rejected[.future] == 1 && c.rejected[.duplicate] == 1
                && c.rejected[.tooOld] == 1)
        #expect(c.accepted == 1 && c.stations == 1)
    }

    @Test func aFloodingStationIsThrottledAndOthersAreNot() {
        let e = engine { $0.stationReadingsPerMinute = 5 }
        var refused = 0
        for m in 0..<20 {
            if case .rejected(let r) = e.ingest(
                station: "loud", payload: payload(hour: start, minute: Int64(m)), retained: false, now: now)
            {
                #expect(r.code == .flood)
                refused += 1
            }
        }
        #expect(refused == 15)
        if case .rejected = e.ingest(station: "quiet", payload: payload(hour: start), retained: false, now: now) {
            Issue.record("a quiet station was throttled")
        }
        // A minute later the loud station has its allowance back.
        if case .rejected = e.ingest(station: "loud", payload: payload(hour: start + 1), retained: false, now: now + 60)
        {
            Issue.record("allowance not refilled")
        }
    }

    /// A replay sends a year of hours in minutes: each reading moves the station's own time on
    /// by an hour, which refills its allowance as an hour of the clock would.
    @Test func aHistoryReplayedFasterThanTheClockIsNotAFlood() {
        let e = engine { $0.stationReadingsPerMinute = 5 }
        var refused = 0
        for h in 0..<500 {
            if case .rejected = e.ingest(
                station: "replay", payload: payload(hour: start - 500 + Int64(h)), retained: false, now: now)
            {
                refused += 1
            }
        }
        #expect(refused == 0)
        #expect(e.snapshot().accepted == 500 && e.snapshot().forecasts == 500 - 23)
        // Many readings for the newest hour are still a flood: 4 tokens were left.
        for m in 1..<20 {
            if case .rejected(let r) = e.ingest(
                station: "replay", payload: payload(hour: start - 1, minute: Int64(m)), retained: false, now: now)
            {
                #expect(r.code == .flood)
                refused += 1
            }
        }
        #expect(refused == 15)
    }

    @Test func anHourCompletesWhenTheNextHourStartsWhenSeveralReadingsAreExpected() {
        let e = engine { $0.readingsPerHour = 4 }
        for h in 0..<24 {
            _ = e.ingest(station: "s", payload: payload(hour: start + Int64(h)), retained: false, now: now)
        }
        #expect(e.snapshot().forecasts == 0)  // hour 23 has 1 of 4 readings
        guard
            case .accepted(_, _, let f?, _, _) = e.ingest(
                station: "s", payload: payload(hour: start + 24), retained: false, now: now)
        else {
            Issue.record("the next hour did not complete hour 23")
            return
        }
        #expect(f.basedOnHour == start + 23)
    }
}

@Suite struct ForecastJSONTests {
    @Test func forecastJSONHasEveryFieldAndExactNumbers() throws {
        let f = StationForecast(
            station: "roof-1", basedOnHour: 1_388_552_400 / 3600, issuedAt: 1_795_804_380.7, model: "m",
            hours: [
                ForecastHour(horizon: 1, pm25: 147.25, lower: 0.04, upper: 1000),
                ForecastHour(horizon: 2, pm25: 9.96, lower: 0, upper: 20.5, correction: -2.5),
            ],
            intervalLevels: (0.05, 0.95))
        let text = String(decoding: f.json(), as: UTF8.self)
        #expect(
            text.hasPrefix(
                #"{"station":"roof-1","issued_at":"2026-11-27T18:33:00Z","based_on_hour":"2014-01-01T05:00:00Z","model":"m","#
            ))
        #expect(
            text.contains(
                #"{"time":"2014-01-01T06:00:00Z","horizon":1,"pm25":147.3,"lower":0.0,"upper":1000.0,"correction":0.0,"weather":"held"}"#
            ))
        #expect(
            text.contains(
                #"{"time":"2014-01-01T07:00:00Z","horizon":2,"pm25":10.0,"lower":0.0,"upper":20.5,"correction":-2.5,"weather":"held"}"#
            ))
        let object = try JSONSerialization.jsonObject(with: Data(f.json())) as? [String: Any]
        #expect((object?["hours"] as? [Any])?.count == 2)
    }
}

@Suite struct JSONEscapingTests {
    /// Station ids may hold `"` and `\`; reasons and model names are free text. Every payload
    /// parses back, and says what it was given, not what a crafted id makes it say.
    @Test(arguments: [#"x","station":"beijing"#, #"a\b"#, #"q"\""#])
    func hostileStationIdsComeBackAsThemselves(station: String) throws {
        let f = StationForecast(
            station: station, basedOnHour: 390_000, issuedAt: 1.4e9, model: "m \"x\"\n\u{1B}é🙂",
            hours: [ForecastHour(horizon: 1, pm25: 1, lower: 0, upper: 2)], intervalLevels: (0.05, 0.95))
        let object = try JSONSerialization.jsonObject(with: Data(f.json())) as? [String: Any]
        #expect(object?["station"] as? String == station)
        #expect(object?["model"] as? String == "m \"x\"\n\u{1B}é🙂")
        #expect(f.json().allSatisfy { $0 < 0x80 })
        let state = StationState.waiting(reason: "gap \"5\"\t\\ \u{7}", hour: 390_000).json(station: station)
        let back = try JSONSerialization.jsonObject(with: Data(state)) as? [String: Any]
        #expect(back?["station"] as? String == station)
        #expect(back?["reason"] as? String == "gap \"5\"\t\\ \u{7}")
    }
}

@Suite struct WeatherForecastTests {
    let start: Int64 = 385_000
    var now: Double { Double(start + 100) * 3600 }

    func weather(from hour: Int64, count: Int, temperature: Double, direction: String = "SE") -> [UInt8] {
        // A dew point above the temperature is refused, so it stays at least 2 °C below.
        let dewPoint = min(10, temperature - 2)
        let hours = (0..<count).map { k in
            "{\"time\": \((hour + Int64(k)) * 3600), \"dew_point\": \(dewPoint), \"temperature\": \(temperature), \"pressure\": 1000, \"wind_direction\": \"\(direction)\", \"wind_speed\": 6}"
        }
        return Array("{\"hours\": [\(hours.joined(separator: ","))]}".utf8)
    }

    func forecast(_ e: ForecastEngine, station: String) -> StationForecast? {
        var last: StationForecast?
        for h in 0..<24 {
            if case .accepted(_, _, let f?, _, _) = e.ingest(
                station: station, payload: payload(hour: start + Int64(h)), retained: false, now: now)
            {
                last = f
            }
        }
        return last
    }

    @Test func suppliedWeatherIsUsedAndSaidSo() throws {
        let e = ForecastEngine(model: Shipped.model, modelName: "m", settings: .init())
        let held = try #require(forecast(e, station: "a"))
        #expect(String(decoding: held.json(), as: UTF8.self).contains("\"weather\":\"held at the last observed hour\""))
        // Station b: the same readings, and a forecast of a warm, windy south-easterly.
        _ = e.ingest(station: "b", payload: payload(hour: start), retained: false, now: now)
        let stored = e.ingestWeather(
            station: "b", payload: weather(from: start + 24, count: 8, temperature: 25), now: now)
        #expect(try stored.get() == 8)
        let supplied = try #require(forecast(e, station: "b"))
        #expect(supplied.weatherSupplied == 8)
        #expect(String(decoding: supplied.json(), as: UTF8.self).contains("weather forecast for 8 of 8 hours"))
        // Hour 1 uses only observed weather; later hours see the forecast weather.
        #expect(supplied.hours[0].pm25 == held.hours[0].pm25)
        #expect(supplied.hours[7].pm25 != held.hours[7].pm25)
    }

    @Test func pastHoursAreDroppedAndBadForecastsRefused() throws {
        let e = ForecastEngine(model: Shipped.model, modelName: "m", settings: .init())
        _ = e.ingest(station: "c", payload: payload(hour: start + 10), retained: false, now: now)
        #expect(
            try e.ingestWeather(station: "c", payload: weather(from: start + 5, count: 10, temperature: 5), now: now)
                .get() == 4)
        let missing = e.ingestWeather(station: "c", payload: Array(#"{"hour": []}"#.utf8), now: now)
        #expect(missing.failureCode == .missingField)
        let bad = e.ingestWeather(station: "c", payload: weather(from: start + 20, count: 3, temperature: 99), now: now)
        guard case .failure(let r) = bad else {
            Issue.record("99 °C accepted")
            return
        }
        #expect(r.reason.hasPrefix("hours[0]: field 'temperature' is 99.0"))
    }
}

extension Result where Failure == Rejection {
    var failureCode: Rejection.Code? {
        if case .failure(let r) = self { return r.code }
        return nil
    }
}

@Suite struct StationStateTests {
    let start: Int64 = 385_000

    @Test func stateIsReportedWhenItChanges() throws {
        let e = ForecastEngine(model: Shipped.model, modelName: "m", settings: .init())
        let now = Double(start + 100) * 3600
        var states: [StationState] = []
        for h in 0..<26 {
            if case .accepted(_, _, _, _, let state?) = e.ingest(
                station: "s", payload: payload(hour: start + Int64(h)), retained: false, now: now)
            {
                states.append(state)
            }
        }
        // Waiting once (the reason names when forecasts start, with no running count, so it is
        // not republished with every reading), then forecasting once, then no change.
        #expect(states.count == 2)
        #expect(
            states[0] == .waiting(reason: "window incomplete: forecasts start at \(isoHour(start + 23))", hour: start))
        #expect(states.last == .forecasting(inputs: "all"))
        let json = try JSONSerialization.jsonObject(with: Data(states[0].json(station: "s"))) as? [String: String]
        #expect(
            json == [
                "station": "s", "state": "waiting",
                "reason": "window incomplete: forecasts start at \(isoHour(start + 23))", "hour": isoHour(start),
            ])
        #expect(
            String(decoding: StationState.forecasting(inputs: "all").json(station: "s"), as: UTF8.self)
                == #"{"station":"s","state":"forecasting","model_inputs":"all"}"#)
    }
}

@Suite struct RejectionLogLimiterTests {
    @Test func boundsLinesPerStationAndInAllAndCountsWhatItHoldsBack() {
        var limiter = RejectionLogLimiter(now: 0)
        // One station: 30 lines, the rest held back.
        var verdicts = (0..<40).map { _ in limiter.admit(station: "loud", code: .notJSON) }
        #expect(verdicts.filter { $0 == .log }.count == 30)
        #expect(verdicts[30] == .holdBack(first: true) && verdicts[31] == .holdBack(first: false))
        // Ids that change with every message: 70 more lines make the minute's 100, no more.
        verdicts = (0..<500).map { limiter.admit(station: "id-\($0)", code: .badStation) }
        #expect(verdicts.filter { $0 == .log }.count == 70)
        #expect(!verdicts.contains(.holdBack(first: true)), "the minute already said it holds lines back")
        #expect(limiter.endedMinute(now: 59.9) == nil, "the minute is not over")
        #expect(limiter.endedMinute(now: 60) == [.notJSON: 10, .badStation: 430])
        // A new minute: lines again, and nothing to report for a quiet one.
        #expect(limiter.admit(station: "loud", code: .notJSON) == .log)
        #expect(limiter.endedMinute(now: 130) == nil)
    }

    @Test func aFloodingStationGetsOneLineAMinute() {
        var limiter = RejectionLogLimiter(now: 0)
        #expect(limiter.admit(station: "s", code: .flood) == .log)
        #expect(limiter.admit(station: "s", code: .flood) == .holdBack(first: true))
        #expect(limiter.admit(station: "s", code: .notJSON) == .log)
        // Refused new stations share one line a minute, whatever their ids.
        #expect(limiter.admit(station: "new-1", code: .tooManyStations) == .log)
        #expect(limiter.admit(station: "new-2", code: .tooManyStations) == .holdBack(first: false))
    }
}

@Suite struct StationBoundTests {
    let start: Int64 = 385_000
    var now: Double { Double(start + 100) * 3600 }

    func engine(maximum: Int, expiryHours: Int = 168) -> ForecastEngine {
        var s = ForecastEngine.Settings()
        s.maximumStations = maximum
        s.stationExpiryHours = expiryHours
        return ForecastEngine(model: Shipped.model, modelName: "m.json", settings: s)
    }

    /// Past max_stations a new station is refused with its own code (no state, no memory);
    /// the stations already held go on.
    @Test func aNewStationPastTheBoundIsRefusedAndTheOthersGoOn() {
        let e = engine(maximum: 3)
        for name in ["a", "b", "c"] {
            guard
                case .accepted(_, _, _, _, let state?) = e.ingest(
                    station: name, payload: payload(hour: start), retained: false, now: now)
            else {
                Issue.record("\(name) was not accepted with a state")
                return
            }
            #expect(String(decoding: state.json(station: name), as: UTF8.self).contains(#""state":"waiting""#))
        }
        guard case .rejected(let r) = e.ingest(station: "d", payload: payload(hour: start), retained: false, now: now)
        else {
            Issue.record("a fourth station was accepted")
            return
        }
        #expect(r.code == .tooManyStations && r.reason.contains("max_stations"))
        if case .failure(let w) = e.ingestWeather(station: "e", payload: Array(#"{"hours": []}"#.utf8), now: now) {
            #expect(w.code == .tooManyStations)
        } else {
            Issue.record("a weather forecast made a fourth station")
        }
        #expect(e.snapshot().stations == 3 && e.snapshot().rejected[.tooManyStations] == 2)
        if case .rejected = e.ingest(station: "a", payload: payload(hour: start + 1), retained: false, now: now) {
            Issue.record("a held station was refused")
        }
    }

    /// A station silent for station_expiry_hours leaves memory and makes room; its next reading
    /// starts a new window.
    @Test func aSilentStationExpiresAndMakesRoom() {
        let e = engine(maximum: 2, expiryHours: 2)
        _ = e.ingest(station: "quiet", payload: payload(hour: start), retained: false, now: now)
        _ = e.ingest(station: "busy", payload: payload(hour: start), retained: false, now: now)
        let later = now + 2 * 3600 + 61
        guard case .accepted = e.ingest(station: "new", payload: payload(hour: start + 2), retained: false, now: later)
        else {
            Issue.record("no room made by the expired stations")
            return
        }
        #expect(e.snapshot().stations == 1)
        guard
            case .accepted(_, _, _, let waiting?, _) = e.ingest(
                station: "quiet", payload: payload(hour: start + 3), retained: false, now: later)
        else {
            Issue.record("the expired station's reading was refused")
            return
        }
        #expect(waiting.hasPrefix("window incomplete: 1 of 24 hours"), "\(waiting)")
    }
}
