import ForecastDaemon
import Foundation
import FuzzSupport

/// The bytes as a configuration file: read, or refused with a line and a reason.
let fuzzConfiguration: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt = { data, size in
    guard let data else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? ConfigurationFile.parse(text, file: "fuzz.toml")
    return 0
}

exit(FuzzSupport.run(fuzzConfiguration))
