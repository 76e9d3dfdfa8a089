import AirQuality
import Testing

@Suite struct RFC3339Tests {
    func seconds(_ s: String) -> Int64? { try? RFC3339.parse(s.utf8).get() }
    func refusal(_ s: String) -> String? {
        if case .failure(let e) = RFC3339.parse(s.utf8) { return e.description }
        return nil
    }

    @Test func readsWhatSensorsSend() {
        // 2014-01-01T05:00:00Z is 1,388,552,400 (16,071 days since 1970, plus 5 hours).
        #expect(seconds("2014-01-01T05:00:00Z") == 1_388_552_400)
        #expect(seconds("2014-01-01t05:00:00z") == 1_388_552_400)
        #expect(seconds("2014-01-01 05:00:00Z") == 1_388_552_400)
        #expect(seconds("2014-01-01T13:00:00+08:00") == 1_388_552_400)
        #expect(seconds("2013-12-31T23:30:00-05:30") == 1_388_552_400)
        #expect(seconds("2014-01-01T05:00:00.999Z") == 1_388_552_400)
        #expect(seconds("2014-01-01T05:00:00.5+00:00") == 1_388_552_400)
        #expect(seconds("2016-02-29T00:00:00Z") == 1_456_704_000)
        #expect(seconds("2000-02-29T00:00:00Z") == 951_782_400)
        #expect(seconds("1970-01-01T00:00:00Z") == 0)
        #expect(seconds("2014-01-01T05:00:00+18:00") == 1_388_487_600)
        // A leap second counts as the next minute's first second.
        #expect(seconds("2016-12-31T23:59:60Z") == 1_483_228_800)
    }

    /// The payload that crashed the daemon inside ICU: a fraction of 35 digits, and longer ones.
    @Test func anyNumberOfFractionDigitsIsRead() {
        #expect(seconds("2014-01-01T05:30:00.11111111111111111111111111111111111Z") == 1_388_554_200)
        let long = "2014-01-01T05:30:00." + String(repeating: "9", count: 40) + "Z"
        #expect(seconds(long) == 1_388_554_200)
        let tooLong = "2014-01-01T05:30:00." + String(repeating: "9", count: 500) + "Z"
        #expect(refusal(tooLong)?.contains("longer than 64") == true)
    }

    @Test func refusesWhatIsNotAValidTime() {
        let cases: [(String, String)] = [
            ("2014-02-30T00:00:00Z", "day 30, but month 2 of 2014 has 28 days"),
            ("2015-02-29T00:00:00Z", "has 28 days"),
            ("2014-04-31T00:00:00Z", "has 30 days"),
            ("2014-13-01T00:00:00Z", "month 13"),
            ("2014-00-01T00:00:00Z", "month 0"),
            ("2014-01-00T00:00:00Z", "day 0"),
            ("2014-01-01T24:00:00Z", "hour 24"),
            ("2014-01-01T05:60:00Z", "minute 60"),
            ("2014-01-01T05:00:61Z", "second 61"),
            ("2014-01-01T05:00:00Zgarbage", "text after the time zone at character 21"),
            ("2014-01-01T05:00:00+30:00", "beyond ±18:00"),
            ("2014-01-01T05:00:00+18:01", "beyond ±18:00"),
            ("2014-01-01T05:00:00+05:60", "offset minutes 60"),
            ("2014-01-01T05:00:00+0800", "':' in the offset"),
            ("2014-01-01T05:00:00", "no time zone"),
            ("2014-01-01T05:00:00.Z", "no fraction digits"),
            ("2014-1-1T5:0:0Z", "2 ASCII digits for the month at character 6"),
            ("２０１４-01-01T05:00:00Z", "4 ASCII digits for the year at character 1"),
            ("2014-01-01", "'T' between the date and the time"),
            ("", "4 ASCII digits for the year"),
            ("2014\n<3>aqcast: FORGED LINE", "'-' after the year at character 5"),
            ("2014-01-01T05:00:00 Z", "time zone"),
        ]
        for (text, reason) in cases {
            let got = refusal(text)
            #expect(got?.contains(reason) == true, "\(text.debugDescription): \(got ?? "accepted")")
        }
    }

    @Test func civilDatesRoundTrip() {
        for days in stride(from: Int64(-800_000), through: 2_000_000, by: 997) {
            let (y, m, d) = civilFromDays(days)
            #expect(daysFromCivil(year: y, month: m, day: d) == days)
            #expect((1...daysInMonth(year: y, month: m)).contains(d))
        }
    }
}
