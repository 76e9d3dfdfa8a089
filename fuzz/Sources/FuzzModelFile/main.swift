import AirQuality
import Foundation
import FuzzSupport

/// The bytes as a model file: loaded (its checksum, bounds and probe forecast passed) or
/// refused with a reason.
let fuzzModelFile: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt = { data, size in
    guard let data else { return 0 }
    _ = try? ModelFile.decode(Data(bytes: data, count: size), path: "fuzz.json")
    return 0
}

exit(FuzzSupport.run(fuzzModelFile))
