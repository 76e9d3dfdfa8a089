import AirQuality
import Foundation

/// The MQTT client id when `[broker] client_id` is not set: one per installation and state
/// directory, and the same at every start, so the broker's persistent session (the readings it
/// queues while the daemon restarts) is this daemon's and no other's.
///
/// A fixed default made every daemon `aqcast`: a second one, or a `--broker` typo pointing at a
/// shared broker, took the first one's session and the two flapped. The id is kept in
/// `<state directory>/client-id`: written at the first start as `aqcast-` and 16 hex digits of
/// randomness, or as `aqcast` where the state directory already holds a reading log from a
/// version that used that default (so its session, and what is queued there, carries over).
/// Where the file cannot be written, `aqcast-` and a hash of the host name and state directory.
public enum ClientIdentity {
    public static let file = "client-id"

    public static func resolve(stateDirectory: String) -> String {
        let path = stateDirectory + "/" + file
        if let data = FileManager.default.contents(atPath: path) {
            let id = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if (1...64).contains(id.utf8.count), id.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 }) {
                return id
            }
        }
        let earlier = FileManager.default.fileExists(atPath: stateDirectory + "/readings.sqlite")
        var random = SystemRandomNumberGenerator()
        let id = earlier ? "aqcast" : "aqcast-" + hex(random.next())
        if FileManager.default.createFile(atPath: path, contents: Data((id + "\n").utf8)) { return id }
        var hash = FNV1a()
        hash.add(ProcessInfo.processInfo.hostName.utf8)
        hash.add([0])
        hash.add(stateDirectory.utf8)
        return "aqcast-" + hash.hex
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
