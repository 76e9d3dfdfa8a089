import AirQuality
import Foundation
import Testing

@testable import ForecastDaemon

/// The weather-forecast service's answers as Open-Meteo documents them, read.
@Suite struct OpenMeteoTests {
    let hours: [Int64] = Array(400_000..<400_048)

    @Test func theRequestAsksForTheDocumentedVariablesAndUnits() {
        let url = OpenMeteo.url(
            base: OpenMeteo.endpoint, latitude: 39.93, longitude: 116.42, hours: 48, pressure: .surface)
        #expect(
            url
                == "https://api.open-meteo.com/v1/forecast?latitude=39.93&longitude=116.42"
                + "&hourly=temperature_2m,dew_point_2m,surface_pressure,wind_speed_10m,wind_direction_10m"
                + "&wind_speed_unit=ms&timeformat=unixtime&forecast_hours=48")
        #expect(
            OpenMeteo.url(base: "http://127.0.0.1:9/x?k=1", latitude: 1, longitude: 2, hours: 8, pressure: .msl)
                .hasPrefix(
                    "http://127.0.0.1:9/x?k=1&latitude=1.0&longitude=2.0&hourly=temperature_2m,dew_point_2m,pressure_msl,"
                ))
    }

    @Test func anAnswerBecomesHoursOfRawFeatures() throws {
        let body = Array(openMeteoAnswer(hours: hours, windSpeed: 3.5, windDirection: 200).utf8)
        let read = try OpenMeteo.decode(body, status: 200, pressure: .surface).get()
        #expect(read.count == 48)
        #expect(read[0].hour == 400_000 && read[47].hour == 400_047)
        // Feature order: PM2.5 (0 here), dew point, temperature, pressure, wind code, wind speed.
        #expect(read[0].features == [0, 2, 12, 1012, WindDirection.southWest.code, 3.5])
        // A calm hour is calm whatever the direction says.
        let calm = try OpenMeteo.decode(
            Array(openMeteoAnswer(hours: hours, windSpeed: 0.2).utf8), status: 200, pressure: .surface
        ).get()
        #expect(calm[0].features[Feature.windDirection.rawValue] == WindDirection.calm.code)
    }

    @Test func hoursWithoutEveryValueAreLeftOut() throws {
        var text = openMeteoAnswer(hours: [400_000, 400_001, 400_002])
        text = text.replacingOccurrences(of: "\"dew_point_2m\":[2.0,2.0,2.0]", with: "\"dew_point_2m\":[2.0,null,2.0]")
        let read = try OpenMeteo.decode(Array(text.utf8), status: 200, pressure: .surface).get()
        #expect(read.map(\.hour) == [400_000, 400_002])
    }

    @Test func answersThatCannotBeUsedSayWhy() {
        func why(_ body: String, status: Int = 200, pressure: OpenMeteo.Pressure = .surface) -> String {
            switch OpenMeteo.decode(Array(body.utf8), status: status, pressure: pressure) {
            case .success: "read"
            case .failure(let f): f.description
            }
        }
        let good = openMeteoAnswer(hours: hours)
        #expect(
            why(
                #"{"error":true,"reason":"Cannot initialize WeatherVariable from invalid String value x"}"#, status: 400
            )
                == "HTTP 400: Cannot initialize WeatherVariable from invalid String value x")
        #expect(why("<html>busy</html>", status: 503) == "HTTP 503")
        #expect(why(String(good.prefix(good.count / 2))).hasPrefix("the answer is not a JSON object"))
        #expect(why(good, pressure: .msl) == "field 'hourly.pressure_msl' (an array) is missing")
        #expect(why(#"{"latitude": 1}"#) == "field 'hourly' (an object) is missing")
        #expect(
            why(good.replacingOccurrences(of: "\"temperature_2m\":[12.0,", with: "\"temperature_2m\":["))
                == "field 'hourly.temperature_2m' has 47 values for 48 times")
        #expect(
            why(good.replacingOccurrences(of: "\"surface_pressure\":[1012.0,", with: "\"surface_pressure\":[5.0,"))
                .hasPrefix("hour 0: field 'pressure' is 5.0, outside"))
        #expect(why(openMeteoAnswer(hours: [])) == "no hour has all five values")
        // Values in another unit than asked for are in range, and wrong: refused by the units.
        #expect(
            why(good.replacingOccurrences(of: #""temperature_2m":"°C""#, with: #""temperature_2m":"°F""#))
                == #"hourly_units.temperature_2m is "°F", not "°C" as asked"#)
        #expect(
            why(good.replacingOccurrences(of: #""wind_speed_10m":"m/s""#, with: #""wind_speed_10m":"km/h""#))
                == #"hourly_units.wind_speed_10m is "km/h", not "m/s" as asked"#)
    }
}

/// Areas' weather forecasts in the engine: the hours ahead of each station of the area.
@Suite struct AreaWeatherEngineTests {
    let start: Int64 = 385_000
    var now: Double { Double(start + 100) * 3600 }

    func day(_ e: ForecastEngine, station: String, from: Int64 = 0) -> StationForecast? {
        var last: StationForecast?
        for h in from..<(from + 24) {
            if case .accepted(_, _, let f?, _, _) = e.ingest(
                station: station, payload: payload(hour: start + h), retained: false, now: now)
            {
                last = f
            }
        }
        return last
    }

    func serviceHours(from hour: Int64, count: Int, temperature: Double = 25) -> [ReadingDecoder.WeatherHour] {
        (0..<count).map { k in
            .init(
                time: (hour + Int64(k)) * 3600, features: [0, 10, temperature, 1000, WindDirection.southEast.code, 6])
        }
    }

    @Test func theAreasStationsUseItsForecastAndSaySo() throws {
        let e = shippedEngine { $0.forecastAreas = ["a": "city"] }
        e.storeAreaWeather(serviceHours(from: start + 24, count: 6), area: "city", issuedAt: now - 600)
        let served = try #require(day(e, station: "a"))
        let held = try #require(day(e, station: "b"))
        #expect(served.hourWeather.map(\.name) == Array(repeating: "service", count: 6) + ["held", "held"])
        #expect(served.hourWeather[0] == .service(area: "city", issuedAt: now - 600))
        #expect(held.hourWeather.isEmpty)
        // The same readings: the first hour ahead uses only observed weather, later ones the forecast's.
        #expect(served.hours[0].pm25 == held.hours[0].pm25)
        #expect(served.hours[5].pm25 != held.hours[5].pm25)
        let json = try #require(JSONSerialization.jsonObject(with: Data(served.json())) as? [String: Any])
        let service = try #require(json["weather_service"] as? [String: Any])
        #expect(service["area"] as? String == "city")
        #expect(
            service["issued_at"] as? String
                == isoHour(Int64(now - 600) / 3600).replacingOccurrences(of: ":00:00Z", with: ":50:00Z"))
        #expect(json["weather"] as? String == "weather forecast for 6 of 8 hours, else held at the last observed hour")
        let perHour = (json["hours"] as? [[String: Any]])?.compactMap { $0["weather"] as? String }
        #expect(perHour == Array(repeating: "service", count: 6) + ["held", "held"])
    }

    @Test func theStationsOwnTopicComesBeforeTheArea() throws {
        let e = shippedEngine { $0.defaultForecastArea = "city" }
        e.storeAreaWeather(serviceHours(from: start + 24, count: 8), area: "city", issuedAt: now)
        _ = e.ingest(station: "a", payload: payload(hour: start), retained: false, now: now)
        e.storeWeather(
            [.init(time: (start + 25) * 3600, features: [0, -3, 1, 1020, WindDirection.northWest.code, 2])],
            station: "a", now: now)
        let f = try #require(day(e, station: "a"))
        #expect(f.hourWeather.map(\.name) == ["service", "topic"] + Array(repeating: "service", count: 6))
    }

    @Test func aLaterForecastReplacesTheHoursItCoversAndKeepsTheRest() throws {
        let e = shippedEngine { $0.defaultForecastArea = "city" }
        e.storeAreaWeather(serviceHours(from: start + 24, count: 8), area: "city", issuedAt: now - 3600)
        e.storeAreaWeather(serviceHours(from: start + 28, count: 8, temperature: 5), area: "city", issuedAt: now)
        let f = try #require(day(e, station: "a"))
        // Every hour from the service; the newest issue is what the forecast names.
        #expect(f.hourWeather.allSatisfy { $0 == .service(area: "city", issuedAt: now) })
        // An area's forecast that covers none of a station's hours ahead leaves them held.
        let later = try #require(day(e, station: "b", from: 40))
        #expect(later.hourWeather.allSatisfy { $0 == .held })
    }
}

@Suite struct WeatherForecastConfigurationTests {
    @Test func areasAndTheirStationsAreRead() throws {
        let c = try ConfigurationFile.parse(
            """
            [weather_forecast.beijing]
            latitude = 39.93
            longitude = 116.42
            stations = ["dongsi", "tiantan",]   # a comma may end the list
            url = "http://127.0.0.1:8080/v1/forecast"
            pressure = "msl"
            hours = 24
            refresh_seconds = 1800
            timeout_seconds = 5

            [weather_forecast.rest]
            latitude = -33
            longitude = 151
            """, file: "t.toml")
        #expect(c.weatherForecasts.count == 2)
        let b = c.weatherForecasts[0]
        #expect(b.name == "beijing" && b.latitude == 39.93 && b.longitude == 116.42)
        #expect(b.stations == ["dongsi", "tiantan"] && b.pressure == .msl && b.hours == 24)
        #expect(b.refreshSeconds == 1800 && b.timeoutSeconds == 5)
        #expect(b.requestURL.hasPrefix("http://127.0.0.1:8080/v1/forecast?latitude=39.93&longitude=116.42&"))
        #expect(c.weatherForecasts[1].url == OpenMeteo.endpoint && c.weatherForecasts[1].latitude == -33)
        #expect(c.forecast.forecastArea(of: "dongsi") == "beijing")
        #expect(c.forecast.forecastArea(of: "elsewhere") == "rest")
        #expect(DaemonConfiguration().forecast.forecastArea(of: "x") == nil)
    }

    @Test func mistakesSayWhereAndWhat() {
        func problem(_ text: String) -> String {
            do {
                _ = try ConfigurationFile.parse(text, file: "t.toml")
                return "read"
            } catch {
                return error.description
            }
        }
        #expect(
            problem("[weather_forecast.a]\nlongitude = 1\n") == "t.toml line 1: [weather_forecast.a] needs a latitude")
        #expect(
            problem("[weather_forecast.a]\nlatitude = 91\nlongitude = 1\n")
                == "t.toml line 2, key weather_forecast.a.latitude: must be -90...90, got 91.0")
        #expect(
            problem("[weather_forecast.a]\nlatitude = 1\nlongitude = 1\naltitude = 3\n")
                .hasPrefix(
                    "t.toml line 4, key weather_forecast.a.altitude: unknown key (known in [weather_forecast.NAME]:"))
        #expect(
            problem("[weather_forecast.a]\nlatitude = 1\nlongitude = 1\nstations = \"x\"\n")
                == "t.toml line 4, key weather_forecast.a.stations: expected a list of station ids in quotes, [\"a\", \"b\"]"
        )
        #expect(
            problem("[weather_forecast.a]\nlatitude = 1\nlongitude = 1\nurl = \"ftp://x\"\n")
                == "t.toml line 4, key weather_forecast.a.url: must be an http:// or https:// address without spaces, at most 500 bytes"
        )
        #expect(
            problem(
                "[weather_forecast.a]\nlatitude = 1\nlongitude = 1\n[weather_forecast.b]\nlatitude = 1\nlongitude = 1\n"
            )
            .hasPrefix("t.toml line 4: [weather_forecast.b] has no stations, and neither has [weather_forecast.a]"))
        #expect(
            problem(
                "[weather_forecast.a]\nlatitude = 1\nlongitude = 1\nstations = [\"s\"]\n"
                    + "[weather_forecast.b]\nlatitude = 1\nlongitude = 1\nstations = [\"t\", \"s\"]\n")
                == "t.toml line 8, key weather_forecast.b.stations: station s is already in [weather_forecast.a]")
        #expect(problem("[weather_forecast.]\n").hasPrefix("t.toml line 1: an area's name"))
        // Elsewhere, numbers are still whole numbers.
        #expect(
            problem("[forecast]\nhorizon = 1.5\n")
                == "t.toml line 2, key forecast.horizon: '1.5' is not a whole number (numbers here are integers)")
    }
}
