import AirQuality
import Foundation
import FuzzSupport

/// The first byte picks the input: even, a weather-topic payload for one station; odd, an
/// answer of the weather forecast service (with the status from the second byte).
let model = try! ModelFile.load(path: FuzzSupport.root + "/models/aqcast-default.json")

let fuzzWeather: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt = { data, size in
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard bytes.count >= 2 else { return 0 }
    let payload = Array(bytes[2...])
    if bytes[0] & 1 == 0 {
        let engine = ForecastEngine(model: model, modelName: "fuzz", settings: .init())
        _ = engine.ingestWeather(station: "s", payload: payload, now: 1_400_000_000)
    } else {
        let status = bytes[1] & 1 == 0 ? 200 : 400 + Int(bytes[1] >> 1)
        _ = OpenMeteo.decode(payload, status: status, pressure: bytes[0] & 2 == 0 ? .surface : .msl)
    }
    return 0
}

exit(FuzzSupport.run(fuzzWeather))
