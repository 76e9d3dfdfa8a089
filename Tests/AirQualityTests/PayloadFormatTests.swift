import AirQuality
import Testing

/// Each profile reads payloads in the shape its firmware documents, converts units at the
/// edge, and refuses what it cannot read with the place and the reason.
struct PayloadFormatTests {
    func decode(
        _ profile: PayloadFormat.Profile, _ text: String, quantity: Quantity? = nil,
        edit: (inout PayloadFormat) -> Void = { _ in }
    )
        -> Result<Observation, Rejection>
    {
        var f = PayloadFormat(profile: profile)
        edit(&f)
        return f.decode(Array(text.utf8), station: "s1", quantity: quantity)
    }

    @Test func tasmotaWithPMS5003AndBME280() throws {
        // A Tasmota SENSOR message as the firmware writes it (PMS5003 and BME280 attached).
        let text = """
            {"Time":"2026-03-07T12:54:34","BME280":{"Temperature":20.7,"Humidity":24.4,"DewPoint":-0.4,"Pressure":1013.4},\
            "PMS5003":{"CF1":22,"CF2.5":32,"CF10":49,"PM1":22,"PM2.5":32,"PM10":49,"PB0.3":4146,"PB0.5":934,"PB1":153,\
            "PB2.5":48,"PB5":8,"PB10":2},"PressureUnit":"hPa","TempUnit":"C"}
            """
        let o = try decode(.tasmota, text).get()
        #expect(o.pm25 == 32 && o.temperature == 20.7 && o.humidity == 24.4 && o.dewPoint == -0.4)
        #expect(o.pressure == 1013.4 && o.windSpeed == nil && o.windDirection == nil)
        #expect(o.time == nil, "without a timezone the local Time is not trusted: stamped on arrival")
        // With the device's zone given, its local time is read at that offset.
        let zoned = try decode(.tasmota, text) { $0.timeZoneOffset = 3600 }.get()
        #expect(zoned.time == Int64(1_772_884_474))
        // The Magnus dew point agrees with the one Tasmota computed, to its 0.1 °C.
        #expect(abs(dewPoint(temperature: 20.7, humidity: 24.4) - -0.4) < 0.05)
    }

    @Test func tasmotaWithSDS011InFahrenheitAndMillimetresOfMercury() throws {
        let text = """
            {"Time":"2019-06-05T15:32:30","SDS0X1":{"PM2.5":4.3,"PM10":5.6},\
            "BME280":{"Temperature":68.0,"Humidity":45.2,"DewPoint":46.4,"Pressure":760.0},"PressureUnit":"mmHg","TempUnit":"F"}
            """
        let o = try decode(.tasmota, text).get()
        #expect(o.pm25 == 4.3 && abs(o.temperature! - 20) < 1e-9 && abs(o.dewPoint! - 8) < 1e-9)
        #expect(abs(o.pressure! - 1013.25) < 0.01)
        // A sensor-only message (no PM) is read too: what is missing is decided later.
        let bme = try decode(.tasmota, #"{"Time":"2019-06-05T15:32:30","BME280":{"Temperature":21}}"#).get()
        #expect(bme.pm25 == nil && bme.temperature == 21)
        #expect(decode(.tasmota, #"{"SDS0X1":{"PM2.5":"4.3"}}"#).failureCode == .wrongType)
        #expect(decode(.tasmota, #"{"SDS0X1":{"PM2.5":4},"TempUnit":"R"}"#).failureCode == .outOfRange)
        #expect(decode(.tasmota, #"{"SDS0X1":{"PM2.5":-4}}"#).failureReason?.contains("'SDS0X1.PM2.5'") == true)
    }

    /// Values each in range but impossible together or from their source: humidity 0 (a
    /// broken sensor, whose dew point would be -37.6 °C), a dew point above the temperature
    /// beyond rounding, and PM2.5 in an object that is no particle sensor.
    @Test func impossibleValuesAreRefusedWithTheirReason() {
        let dry = decode(.tasmota, #"{"SDS0X1":{"PM2.5":4},"SHT3X":{"Temperature":20,"Humidity":0}}"#)
        #expect(dry.failureReason == "'SHT3X.Humidity' is 0.0 in the model's unit, outside 1.0...100.0")
        #expect(decode(.airgradient, #"{"pm02":7,"atmp":20,"rhum":0}"#).failureCode == .outOfRange)
        #expect(decode(.airgradient, #"{"pm02":7,"atmp":20,"rhum":1}"#).failureCode == nil)
        let wet = decode(.native, #"{"time":"2014-01-01T05:00:00Z","pm25":5,"dew_point":12.5,"temperature":10}"#)
        #expect(wet.failureReason == "the dew point 12.5 °C is above the temperature 10.0 °C (it can at most equal it)")
        #expect(decode(.tasmota, #"{"BME280":{"Temperature":10,"DewPoint":11.5}}"#).failureCode == .outOfRange)
        // Whole degrees, as the PRSA history rounds them: one degree over is rounding.
        #expect(decode(.native, #"{"time":"2014-01-01T05:00:00Z","dew_point":11,"temperature":10}"#).failureCode == nil)
        let claimed = decode(.tasmota, #"{"BME280":{"Temperature":10,"PM2.5":40}}"#)
        #expect(claimed.failureReason?.hasPrefix("'BME280.PM2.5': BME280 is not a particle sensor") == true)
        for sensor in ["SDS0X1", "PMS5003", "PMS7003", "PMSA003I", "SPS30", "HM330X", "VINDRIKTNING"] {
            #expect(decode(.tasmota, #"{"\#(sensor)":{"PM2.5":4}}"#).failureCode == nil, "\(sensor)")
        }
    }

    @Test func airGradientLocalJSON() throws {
        // The local server's /measures/current document, which the MQTT messages carry too.
        let text = """
            {"wifi":-46,"serialno":"ecda3b1eaaaf","rco2":447,"pm01":3,"pm02":7,"pm10":8,"pm003Count":442,"atmp":25.87,\
            "rhum":43,"tvocIndex":100,"tvoc_raw":33051,"noxIndex":1,"nox_raw":16307,"boot":6,"ledMode":"pm",\
            "firmwareVersion":"3.0.10beta","fwMode":"I-9PSL"}
            """
        let o = try decode(.airgradient, text).get()
        #expect(o.pm25 == 7 && o.temperature == 25.87 && o.humidity == 43 && o.time == nil && o.pressure == nil)
        // Newer firmware adds compensated values; they are taken where present.
        let compensated = try decode(
            .airgradient, #"{"pm02":7,"pm02Compensated":5.2,"atmp":25,"atmpCompensated":23.9,"rhum":43}"#
        ).get()
        #expect(compensated.pm25 == 5.2 && compensated.temperature == 23.9)
        #expect(decode(.airgradient, #"{"pm02":7,"rhum":140}"#).failureCode == .outOfRange)
    }

    /// One range check serves every decoder: the same value out of range is refused by each
    /// with the place it came from and the same range, and a bearing past 360 likewise.
    @Test func everyDecoderRefusesOutOfRangeValuesAlike() {
        let refusals: [(Result<Observation, Rejection>, place: String)] = [
            (decode(.native, #"{"time":"2014-01-01T05:00:00Z","pm25":2500}"#), "field 'pm25'"),
            (decode(.tasmota, #"{"SDS0X1":{"PM2.5":2500}}"#), "'SDS0X1.PM2.5'"),
            (decode(.airgradient, #"{"pm02":2500}"#), "pm02"),
            (decode(.esphome, "2500", quantity: .pm25), "PM2.5 state"),
            (decode(.json, #"{"pm25":2500}"#), "pm25"),
        ]
        for (result, place) in refusals {
            #expect(result.failureCode == .outOfRange, "\(place)")
            let reason = result.failureReason ?? ""
            #expect(reason.contains(place) && reason.contains("2500.0") && reason.contains("0.0...2000.0"), "\(reason)")
        }
        #expect(
            decode(.native, #"{"time":"2014-01-01T05:00:00Z","pm25":5,"wind_direction":400}"#).failureReason?
                .contains("400.0 degrees, outside 0...360") == true)
        #expect(
            decode(.esphome, "400", quantity: .windDirection).failureReason?
                .contains("400.0 degrees, outside 0...360") == true)
        #expect(decode(.native, #"{"time":"2014-01-01T05:00:00Z","pm25":5,"temperature":1e400}"#).failureCode != nil)
    }

    @Test func singleValueTopics() throws {
        #expect(try decode(.esphome, "12.5", quantity: .pm25).get().pm25 == 12.5)
        // Only decimal text is a number: not hexadecimal, not what comes before a NUL byte, not
        // inf or nan; the reason shows the text with its control characters escaped.
        #expect(decode(.esphome, "0x10", quantity: .pm25).failureReason == "the PM2.5 state is '0x10', not a number")
        #expect(
            decode(.esphome, "12\0garbage", quantity: .pm25).failureReason
                == "the PM2.5 state is '12\\x0garbage', not a number")
        for text in ["inf", "nan", "1e", ".", "+", "1.2.3", "1,5"] {
            #expect(decode(.esphome, text, quantity: .pm25).failureReason != nil, "\(text) was read")
        }
        for (text, value) in [("+7", 7.0), ("-3.", -3.0), (".5", 0.5), ("1E1", 10.0), ("2.5e-1", 0.25)] {
            #expect(try decode(.statestream, text, quantity: .temperature).get().temperature == value, "\(text)")
        }
        #expect(try decode(.statestream, " 20.1\n", quantity: .temperature).get().temperature == 20.1)
        let f = try decode(.esphome, "68", quantity: .temperature) { $0.units.temperature = .fahrenheit }.get()
        #expect(abs(f.temperature! - 20) < 1e-9)
        #expect(try decode(.esphome, "NNE", quantity: .windDirection).get().windDirection == .northEast)
        #expect(
            try decode(.esphome, "36", quantity: .windSpeed) { $0.units.windSpeed = .kilometresPerHour }.get().windSpeed
                == 10)
        for bad in ["unavailable", "unknown", "nan", "", "1e999"] {
            let r = decode(.statestream, bad, quantity: .pm25)
            #expect(r.failureCode == .wrongType, "\(bad) was not refused as not a number")
        }
        #expect(decode(.esphome, String(repeating: "1", count: 65), quantity: .pm25).failureCode == .tooLarge)
        #expect(decode(.esphome, "5", quantity: nil).failureCode == .badTopic)
    }

    @Test func genericJSONMapping() throws {
        let text =
            #"{"id":"roof-7","ts":1700000000123,"sensors":{"pm":{"pm2_5":18},"t":50,"rh":70,"p":101200,"wind":{"kmh":18,"deg":200}}}"#
        let o = try decode(.json, text) {
            $0.stationField = "id"
            $0.timeField = "ts"
            $0.names = [
                .pm25: "sensors.pm.pm2_5", .temperature: "sensors.t", .humidity: "sensors.rh", .pressure: "sensors.p",
                .windSpeed: "sensors.wind.kmh", .windDirection: "sensors.wind.deg",
            ]
            $0.units.temperature = .fahrenheit
            $0.units.pressure = .pascal
            $0.units.windSpeed = .kilometresPerHour
        }.get()
        #expect(o.station == "roof-7" && o.time == 1_700_000_000 && o.pm25 == 18)
        #expect(
            abs(o.temperature! - 10) < 1e-9 && o.pressure == 1012 && o.windSpeed == 5 && o.windDirection == .southWest)
        // A local time without a zone is refused unless the input says its zone.
        let local = #"{"pm25":3,"when":"2024-05-01 10:00:00"}"#
        #expect(decode(.json, local) { $0.timeField = "when" }.failureCode == .badTime)
        #expect(
            try decode(.json, local) {
                $0.timeField = "when"
                $0.timeZoneOffset = -18000
            }.get().time == 1_714_575_600)
        #expect(decode(.json, #"{"id":"a/b","pm25":3}"#) { $0.stationField = "id" }.failureCode == .badStation)
    }

    @Test func nativeFieldsAreOptionalButChecked() throws {
        let o = try decode(.native, #"{"time":"2014-01-01T05:00:00Z","pm25":80,"temperature":-3}"#).get()
        #expect(o.pm25 == 80 && o.temperature == -3 && o.dewPoint == nil && o.time == 1_388_552_400)
        #expect(decode(.native, #"{"pm25":80}"#).failureCode == .missingField)
        #expect(decode(.native, #"{"time":0,"pm25":80,"pressure":"x"}"#).failureCode == .wrongType)
    }

    @Test func timeZoneOffsetsAreReadStrictly() {
        #expect(PayloadFormat.offset(parsing: "+08:00") == 28_800)
        #expect(PayloadFormat.offset(parsing: "-05:30") == -19_800)
        #expect(PayloadFormat.offset(parsing: "UTC") == 0)
        for bad in ["+8", "+19:00", "08:00", "+08:60", "Europe/Berlin", ""] {
            #expect(PayloadFormat.offset(parsing: bad) == nil, "\(bad)")
        }
    }
}

extension Result where Failure == Rejection {
    var failureReason: String? {
        if case .failure(let r) = self { return r.reason }
        return nil
    }
}
