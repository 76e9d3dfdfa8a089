import Testing

@testable import AirQuality

func reading(
    _ station: String = "s1", hour: Int64, minute: Int64 = 0, pm: Double = 50, temperature: Double = 5,
    direction: WindDirection = .northWest, speed: Double = 2
) -> Reading {
    Reading(
        station: station, time: hour * 3600 + minute * 60, pm25: pm, dewPoint: -10, temperature: temperature,
        pressure: 1015, windDirection: direction, windSpeed: speed)
}

@Suite struct StationWindowTests {
    let base: Int64 = 385_000  // an hour in 2013

    @Test func fullDayGivesTheWindowInOrder() throws {
        var w = StationWindow()
        for h in 0..<24 { _ = w.add(reading(hour: base + Int64(h), pm: Double(h))) }
        let rows = try w.window(endingAt: base + 23).get()
        #expect(rows.count == 24 * 6)
        let pm: [Double] = (0..<24).map { rows[$0 * 6] }
        let expected: [Double] = (0..<24).map { Double($0) }
        #expect(pm == expected)
        #expect(rows[6 * 5 + 4] == WindDirection.northWest.code)
    }

    /// A reload that changes max_gap_hours keeps every hour that still fits: no blind spot.
    @Test(arguments: [0, 1, 6, 12])
    func changingTheGapLimitKeepsTheHeldHours(gap: Int) throws {
        var w = StationWindow(steps: 24, maximumGapHours: 3)
        for h in 0..<30 where h != 27 { _ = w.add(reading(hour: base + Int64(h), pm: Double(h))) }
        w.lastForecastHour = base + 29
        let resized = w.withMaximumGapHours(gap)
        #expect(resized.maximumGapHours == gap && resized.lastForecastHour == base + 29)
        #expect(resized.newestHour == base + 29)
        let rows = resized.window(endingAt: base + 29)
        if gap == 0 {
            // Hour 27 is missing and no gap may be filled now: the window says so.
            #expect(rows.failureDescription?.hasPrefix("gap of 1 hours before") == true)
        } else {
            let pm = try rows.get().enumerated().filter { $0.offset % 6 == 0 }.map(\.element)
            #expect(pm == (6..<30).map { $0 == 27 ? 27 : Double($0) })
        }
        // A duplicate of a kept hour is still recognised.
        var again = resized
        #expect(again.add(reading(hour: base + 29, pm: 5)).failureCode == .duplicate)
    }

    @Test func readingsInOneHourAreAveragedAndDuplicatesChangeNothing() throws {
        var w = StationWindow()
        for h in 0..<23 { _ = w.add(reading(hour: base + Int64(h))) }
        _ = w.add(reading(hour: base + 23, minute: 0, pm: 10))
        _ = w.add(reading(hour: base + 23, minute: 30, pm: 30))
        #expect(w.add(reading(hour: base + 23, minute: 30, pm: 999)).failureCode == .duplicate)
        let rows = try w.window(endingAt: base + 23).get()
        #expect(rows[23 * 6] == 20)
    }

    /// A reading without an input (its weather source not heard from yet, after a restart)
    /// leaves that input's mean to the readings that had it; an hour where none had it has
    /// none. Readings stamped on arrival may come several a minute: passed over, not refused.
    @Test func aMissingInputLeavesTheHoursMeanToTheReadingsThatHadIt() throws {
        var w = StationWindow()
        var bare = reading(hour: base, minute: 0, temperature: 4)
        bare.pressure = .nan
        bare.windSpeed = .nan
        _ = w.add(bare)
        _ = w.add(reading(hour: base, minute: 1, temperature: 6))
        var late = reading(hour: base, minute: 2, temperature: 8)
        late.pressure = .nan
        late.windSpeed = .nan
        late.windDirection = .calm
        _ = w.add(late)
        var alone = reading(hour: base + 1)
        alone.pressure = .nan
        _ = w.add(alone)
        var short = StationWindow(steps: 2)
        _ = short.add(bare)
        _ = short.add(reading(hour: base, minute: 1, temperature: 6))
        _ = short.add(late)
        _ = short.add(alone)
        let rows = try short.window(endingAt: base + 1).get()
        let f = Feature.allCases.count
        #expect(rows[Feature.temperature.rawValue] == 6, "the mean of all three")
        #expect(rows[Feature.pressure.rawValue] == 1015 && rows[Feature.windSpeed.rawValue] == 2)
        #expect(
            rows[Feature.windDirection.rawValue] == WindDirection.northWest.code, "the direction of a reading with wind"
        )
        #expect(rows[f + Feature.pressure.rawValue].isNaN, "no reading of that hour had a pressure")
        // Two in one minute: refused as a duplicate when the time is the sensor's own, passed
        // over when stamped on arrival.
        #expect(w.add(reading(hour: base, minute: 1)).failureCode == .duplicate)
        #expect(try w.add(reading(hour: base, minute: 1), skipSameMinute: true).get() == .passedOver(hour: base))
    }

    @Test func lateReadingForAHeldHourUpdatesIt() throws {
        var w = StationWindow()
        for h in 0..<24 { _ = w.add(reading(hour: base + Int64(h), pm: 40)) }
        _ = w.add(reading(hour: base + 20, minute: 10, pm: 60))
        #expect(try w.window(endingAt: base + 23).get()[20 * 6] == 50)
    }

    @Test func readingOlderThanTheWindowIsRefused() {
        var w = StationWindow(steps: 24, maximumGapHours: 3)
        _ = w.add(reading(hour: base + 100))
        #expect(w.add(reading(hour: base + 100 - 28)).failureCode == .tooOld)
        if case .failure = w.add(reading(hour: base + 100 - 27)) { Issue.record("hour within the slots refused") }
    }

    @Test func shortGapIsInterpolatedAndLongGapStopsTheWindow() throws {
        var w = StationWindow(steps: 24, maximumGapHours: 3)
        for h in 0..<24 where !(10...12).contains(h) { _ = w.add(reading(hour: base + Int64(h), pm: Double(h * 10))) }
        let rows = try w.window(endingAt: base + 23).get()
        #expect(abs(rows[11 * 6] - 110) < 1e-9)  // linear from 90 at hour 9 to 130 at hour 13
        var v = StationWindow(steps: 24, maximumGapHours: 3)
        for h in 0..<24 where !(10...13).contains(h) { _ = v.add(reading(hour: base + Int64(h))) }
        let problem = v.window(endingAt: base + 23)
        guard case .failure(let why) = problem else {
            Issue.record("a 4-hour gap was accepted")
            return
        }
        #expect(why.description.hasPrefix("gap of 4 hours before"))
    }

    @Test func tooFewHoursSayWhy() {
        var w = StationWindow()
        for h in 0..<5 { _ = w.add(reading(hour: base + Int64(h))) }
        guard case .failure(let why) = w.window(endingAt: base + 4) else {
            Issue.record("5 hours made a window")
            return
        }
        #expect(why.description == "window incomplete: 5 of 24 hours up to \(isoHour(base + 4))")
    }

    @Test func hourLabelsAreUTCDates() {
        #expect(isoHour(0) == "1970-01-01T00:00:00Z")
        #expect(isoHour(1_388_552_400 / 3600) == "2014-01-01T05:00:00Z")
        #expect(isoHour(1_709_164_800 / 3600 + 23) == "2024-02-29T23:00:00Z")
    }
}

extension Result where Failure == Rejection {
    var failureCode: Rejection.Code? {
        if case .failure(let r) = self { return r.code }
        return nil
    }
}

extension Result where Failure == StationWindow.Incomplete {
    var failureDescription: String? {
        if case .failure(let why) = self { return why.description }
        return nil
    }
}

@Suite struct ReadingDecoderTests {
    /// A native payload's reading, after the checks every payload gets.
    func decode(_ json: String, station: String = "s1") -> Result<Reading, Rejection> {
        ReadingDecoder.topLevelObject(Array(json.utf8), station: station).flatMap {
            ReadingDecoder.decode(fields: $0, station: station)
        }
    }

    let good =
        #"{"time": "2014-01-01T05:00:00Z", "pm25": 129.0, "dew_point": -16, "temperature": -4, "pressure": 1020, "wind_direction": "NW", "wind_speed": 1.79}"#

    @Test func aDewPointAboveTheTemperatureIsRefused() {
        let wet = good.replacingOccurrences(of: #""dew_point": -16"#, with: #""dew_point": -2.5"#)
        #expect(decode(wet).failureCode == .outOfRange)
        #expect(
            decode(good.replacingOccurrences(of: #""dew_point": -16"#, with: #""dew_point": -3"#)).failureCode == nil)
    }

    @Test func decodesTheDocumentedPayload() throws {
        let r = try decode(good).get()
        #expect(r.time == 1_388_552_400 && r.pm25 == 129 && r.windDirection == .northWest && r.windSpeed == 1.79)
        let unix = try decode(good.replacingOccurrences(of: #""2014-01-01T05:00:00Z""#, with: "1388552400")).get()
        #expect(unix.time == r.time)
    }

    @Test func compassWordsAndDegreesMapToPRSAQuadrants() throws {
        #expect(WindDirection(compass: "NNE") == .northEast)
        #expect(WindDirection(compass: "SSW") == .southWest)
        #expect(WindDirection(compass: "cv") == .calm)
        #expect(WindDirection(degrees: 300) == .northWest && WindDirection(degrees: 135) == .southEast)
        let degrees = try decode(good.replacingOccurrences(of: #""NW""#, with: "200")).get()
        #expect(degrees.windDirection == .southWest)
        let calm = try decode(good.replacingOccurrences(of: "1.79", with: "0.2")).get()
        #expect(calm.windDirection == .calm)
    }

    @Test(arguments: [
        ("not json", Rejection.Code.notJSON),
        ("[1, 2]", .notObject),
        (#"{"time": "2014-01-01T05:00:00Z"}"#, .missingField),
        (
            #"{"time": "2014-01-01T05:00:00Z", "pm25": "high", "dew_point": 1, "temperature": 1, "pressure": 1000, "wind_direction": "N", "wind_speed": 1}"#,
            .wrongType
        ),
        (
            #"{"time": "2014-01-01T05:00:00Z", "pm25": true, "dew_point": 1, "temperature": 1, "pressure": 1000, "wind_direction": "N", "wind_speed": 1}"#,
            .wrongType
        ),
        (
            #"{"time": "2014-01-01T05:00:00Z", "pm25": -1, "dew_point": 1, "temperature": 1, "pressure": 1000, "wind_direction": "N", "wind_speed": 1}"#,
            .outOfRange
        ),
        (
            #"{"time": "2014-01-01T05:00:00Z", "pm25": 5, "dew_point": 1, "temperature": 1, "pressure": 700, "wind_direction": "N", "wind_speed": 1}"#,
            .outOfRange
        ),
        (
            #"{"time": "2014-01-01T05:00:00Z", "pm25": 5, "dew_point": 1, "temperature": 1, "pressure": 1000, "wind_direction": "UP", "wind_speed": 1}"#,
            .outOfRange
        ),
        (
            #"{"time": "yesterday", "pm25": 5, "dew_point": 1, "temperature": 1, "pressure": 1000, "wind_direction": "N", "wind_speed": 1}"#,
            .badTime
        ),
        (
            #"{"time": 1e300, "pm25": 5, "dew_point": 1, "temperature": 1, "pressure": 1000, "wind_direction": "N", "wind_speed": 1}"#,
            .badTime
        ),
        (
            #"{"time": 1388552400, "pm25": NaN, "dew_point": 1, "temperature": 1, "pressure": 1000, "wind_direction": "N", "wind_speed": 1}"#,
            .notJSON
        ),
    ])
    func badPayloadsSayWhatIsWrong(_ payload: String, _ code: Rejection.Code) {
        #expect(decode(payload).failureCode == code, "\(payload)")
    }

    @Test func oversizedPayloadAndBadStationIdsAreRefused() {
        let big = "{\"x\": \"" + String(repeating: "a", count: 70_000) + "\"}"
        #expect(decode(big).failureCode == .tooLarge)
        for bad in ["", String(repeating: "x", count: 65), "a/b", "a+b", "a#", "a b", "a\u{7}b", "é"] {
            #expect(decode(good, station: bad).failureCode == .badStation, "\(bad.debugDescription)")
        }
        #expect(ReadingDecoder.validateStation(String(repeating: "x", count: 64)) == nil)
    }
}

@Suite struct JSONScannerTests {
    @Test func acceptsJSONAndRefusesWhatIsNot() {
        let good = [
            #"{"a": 1, "b": [true, false, null, -0.5e3], "c": {"d": "x\"\u00e9\ud83d\ude00"}}"#, "  7 ", #""s""#, "[]",
            "{}",
        ]
        for text in good { #expect(JSONScanner.parse(Array(text.utf8)) != nil, "\(text)") }
        let bad = [
            "", "{", #"{"a":}"#, #"{"a": 1,}"#, "[1,]", "01", "1.", "-", "NaN", "Infinity", "nul", #"{"a": 1} x"#,
            "\"tab\there\"", #""\x""#, #""\ud800""#, "{a: 1}", "'s'",
        ]
        for text in bad { #expect(JSONScanner.parse(Array(text.utf8)) == nil, "\(text.debugDescription)") }
    }

    @Test func decodesEscapesAndNumbers() {
        guard
            case .object(let o)? = JSONScanner.parse(Array(#"{"s": "a\\b\/\n\u00e9\ud83d\ude00", "n": -12.5e-1}"#.utf8))
        else {
            Issue.record("not an object")
            return
        }
        if case .string(let s)? = o["s"] { #expect(s == "a\\b/\n\u{e9}\u{1F600}") } else { Issue.record("no string") }
        if case .number(let n)? = o["n"] { #expect(n == -1.25) } else { Issue.record("no number") }
    }
}
