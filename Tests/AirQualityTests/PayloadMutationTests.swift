import AirQuality
import Testing

/// Every profile's reader, given tens of thousands of mutations of the payloads the firmware
/// documents (bytes flipped, dropped, repeated, spliced with JSON's special characters): none
/// traps, each answer is an observation whose values are in range or a refusal with a reason.
struct PayloadMutationTests {
    /// A fixed generator, so a failure can be replayed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let seeds: [(PayloadFormat.Profile, String)] = [
        (
            .tasmota,
            #"{"Time":"2026-03-07T12:54:34","BME280":{"Temperature":20.7,"Humidity":24.4,"DewPoint":-0.4,"Pressure":1013.4},"PMS5003":{"CF1":22,"PM2.5":32,"PM10":49},"PressureUnit":"hPa","TempUnit":"C"}"#
        ),
        (
            .airgradient,
            #"{"wifi":-46,"serialno":"ecda3b1eaaaf","pm02":7,"pm02Compensated":5.5,"atmp":25.87,"rhum":43}"#
        ),
        (.esphome, "12.5"),
        (.statestream, "-3.25e1"),
        (
            .json,
            #"{"id":"roof-7","ts":"2024-05-01 10:00:00","sensors":{"pm":{"pm2_5":18},"t":50,"rh":70,"wind":{"deg":"NNE"}}}"#
        ),
        (
            .native,
            #"{"time": "2014-01-01T05:00:00.5+08:00", "pm25": 129.0, "dew_point": -16, "temperature": -4, "pressure": 1020, "wind_direction": "NW", "wind_speed": 1.79}"#
        ),
    ]

    static let specials: [[UInt8]] = [
        Array("\"".utf8), Array("\\u0000".utf8), Array("{".utf8), Array("[".utf8), Array("}".utf8), Array(":".utf8),
        Array("1e309".utf8), Array("-0".utf8), Array("null".utf8), Array("\\ud800".utf8), [0xFF], [0xC3], [0],
        Array("9".utf8), Array("T".utf8), Array("+99:99".utf8),
    ]

    func mutate(_ seed: [UInt8], _ rng: inout SplitMix) -> [UInt8] {
        var b = seed
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let i = b.isEmpty ? 0 : Int.random(in: 0..<b.count, using: &rng)
            switch Int.random(in: 0..<5, using: &rng) {
            case 0 where !b.isEmpty: b[i] = UInt8.random(in: 0...255, using: &rng)
            case 1 where !b.isEmpty: b.remove(at: i)
            case 2: b.insert(contentsOf: Self.specials.randomElement(using: &rng)!, at: i)
            case 3 where !b.isEmpty:
                let end = min(b.count, i + Int.random(in: 1...16, using: &rng))
                b.insert(contentsOf: b[i..<end], at: i)
            default: b = Array(b.prefix(i))
            }
        }
        return b
    }

    @Test(arguments: PayloadMutationTests.seeds.indices)
    func mutatedPayloadsNeverTrapAndAreReadOrRefused(_ index: Int) {
        let (profile, text) = Self.seeds[index]
        var format = PayloadFormat(profile: profile)
        if profile == .json {
            format.stationField = "id"
            format.timeField = "ts"
            format.timeZoneOffset = 3600
            format.names = [
                .pm25: "sensors.pm.pm2_5", .temperature: "sensors.t", .humidity: "sensors.rh",
                .windDirection: "sensors.wind.deg",
            ]
        }
        if profile == .tasmota { format.timeZoneOffset = -18_000 }
        var rng = SplitMix(state: UInt64(index) + 1)
        var read = 0
        for n in 0..<20_000 {
            let payload = mutate(Array(text.utf8), &rng)
            let quantity = Quantity.allCases.randomElement(using: &rng)
            switch format.decode(payload, station: "s1", quantity: quantity) {
            case .success(let o):
                read += 1
                for q in Quantity.allCases where q != .windDirection {
                    guard let v = o[number: q] else { continue }
                    #expect(
                        v.isFinite && ReadingDecoder.range(of: q)?.contains(v) ?? true, "mutation \(n): \(q) = \(v)")
                }
            case .failure(let r):
                #expect(!r.reason.isEmpty, "mutation \(n) refused without a reason")
            }
        }
        // The mutations are mostly small: many still read, so the readers' insides are reached.
        #expect(read > 100, "only \(read) of 20,000 mutations read: the test no longer reaches past the first check")
    }
}
