import AirQuality
import Foundation
import FuzzSupport

/// The first byte picks the payload profile (and, for single-value profiles, the quantity),
/// the second the station id's length (0-31 bytes, taken next, any bytes); the rest is the
/// payload. It goes through a new engine twice, as a redelivery would, and whatever the
/// engine returns is written out as the daemon would publish it.
let model = try! ModelFile.load(path: FuzzSupport.root + "/models/aqcast-default.json")
let profiles = PayloadFormat.Profile.allCases

let fuzzReadings: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt = { data, size in
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard bytes.count >= 2 else { return 0 }
    var format = PayloadFormat(profile: profiles[Int(bytes[0]) % profiles.count])
    if bytes[0] & 0x80 != 0 {
        format.timeField = "ts"
        format.stationField = "id"
        format.timeZoneOffset = 3600
    }
    let quantity = format.profile.isSingleValue ? Quantity.allCases[Int(bytes[0] >> 3) % Quantity.allCases.count] : nil
    let length = min(Int(bytes[1]) % 32, bytes.count - 2)
    let station = String(decoding: bytes[2..<(2 + length)], as: UTF8.self)
    let payload = Array(bytes[(2 + length)...])
    let engine = ForecastEngine(model: model, modelName: "fuzz", settings: .init())
    for _ in 0..<2 {
        let outcome = engine.ingest(
            station: station, payload: payload, format: format, quantity: quantity, retained: false,
            now: 1_400_000_000)
        if case .accepted(let id, _, let forecast, _, let state) = outcome {
            _ = forecast?.json()
            _ = state?.json(station: id)
        }
    }
    return 0
}

exit(FuzzSupport.run(fuzzReadings))
