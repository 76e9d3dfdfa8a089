import AirQuality
import Foundation

/// The retrained models in `<state directory>/models`: one file per promoted version
/// (`aqcast-20261127T031500Z.json`), `current.json` (a copy of the version in use, which the
/// daemon loads when no model path is configured) and `changelog.jsonl`, one JSON object a line
/// for every retraining decision and rollback with its figures, all written with
/// ``DurableFile``.
public struct ModelStore: Sendable {
    public let directory: String
    /// Promoted versions kept; older ones are deleted (never the current one).
    public var keep = 5

    public init(stateDirectory: String) {
        directory = stateDirectory + "/models"
    }

    public var currentPath: String { directory + "/current.json" }

    /// What the daemon should load: the promoted model if there is one.
    public static func promotedModel(stateDirectory: String) -> String? {
        let path = ModelStore(stateDirectory: stateDirectory).currentPath
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// One line of the changelog.
    public struct Change: Codable, Sendable, Equatable {
        /// What a retrain or a rollback did, as the changelog spells it.
        public enum Action: String, Codable, Sendable, CaseIterable {
            case promoted
            case refused
            case tooLittleData = "too_little_data"
            case rollback

            /// Whether the change made another model current.
            public var changedModel: Bool {
                switch self {
                case .promoted, .rollback: true
                case .refused, .tooLittleData: false
                }
            }
        }

        public var time: String
        public var action: Action
        /// The version file now current after this change ("" for the shipped model).
        public var current: String
        public var reason: String
        /// RMSE in µg/m³ over forecast hours 1...8 from every held-out origin, through the
        /// daemon's engine, all three on the same forecast hours (older lines: the course's
        /// live protocol in 8-hour blocks).
        public var candidateRMSE: Double?
        public var currentRMSE: Double?
        public var persistenceRMSE: Double?
        public var trainWindows: Int?
        /// Held-out origins scored.
        public var holdoutWindows: Int?
        /// The same RMSEs by hour ahead (index 0: one hour).
        public var candidateRMSEByHour: [Double]?
        public var currentRMSEByHour: [Double]?
        public var persistenceRMSEByHour: [Double]?
        /// The first held-out hour (UTC), how many days were held out and how many stations
        /// were scored.
        public var heldOutFrom: String?
        public var heldOutDays: Int?
        public var scoredStations: Int?
        /// Days of the running bias correction both models were scored with (0: none).
        public var biasCorrectionDays: Int?
        /// Whether the promoted model is the candidate trained again with the held-out weeks
        /// (nil: not tried), and that refit's RMSE on those weeks, which it trained on.
        public var refitted: Bool?
        public var refitRMSE: Double?

        public init(
            time: String, action: Action, current: String, reason: String, candidateRMSE: Double? = nil,
            currentRMSE: Double? = nil, persistenceRMSE: Double? = nil, trainWindows: Int? = nil,
            holdoutWindows: Int? = nil
        ) {
            self.time = time
            self.action = action
            self.current = current
            self.reason = reason
            self.candidateRMSE = candidateRMSE
            self.currentRMSE = currentRMSE
            self.persistenceRMSE = persistenceRMSE
            self.trainWindows = trainWindows
            self.holdoutWindows = holdoutWindows
        }
    }

    public func changes() throws -> [Change] {
        guard let data = FileManager.default.contents(atPath: directory + "/changelog.jsonl") else { return [] }
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated().map { i, line in
            do {
                return try JSONDecoder().decode(Change.self, from: Data(line.utf8))
            } catch {
                throw ModelFileError(
                    path: directory + "/changelog.jsonl", reason: "line \(i + 1) is not a change: \(error)")
            }
        }
    }

    /// The version file in use, or nil for the shipped model.
    public func currentVersion() throws -> String? {
        guard FileManager.default.fileExists(atPath: currentPath) else { return nil }
        let name = try changes().last { $0.action.changedModel }?.current ?? ""
        return name.isEmpty ? nil : name
    }

    /// Promoted version files, oldest first.
    public func versions() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix("aqcast-") && $0.hasSuffix(".json") }.sorted()
    }

    /// Writes `model` as a new version and makes it current; prunes old versions.
    public func promote(_ model: ModelFile, change: Change, now: Date = Date()) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let name = "aqcast-\(Self.stamp(now)).json"
        let data = try model.encoded()
        try DurableFile.write(data, to: directory + "/" + name)
        try DurableFile.write(data, to: currentPath)
        var c = change
        c.current = name
        try record(c)
        for old in versions().dropLast(keep) where old != name {
            try? FileManager.default.removeItem(atPath: directory + "/" + old)
        }
        return name
    }

    /// Goes back to the version before the current one, or to the shipped model when there is
    /// none; returns the version now current (nil: the shipped model).
    public func rollback(now: Date = Date()) throws -> String? {
        guard let current = try currentVersion() else {
            throw ModelFileError(path: currentPath, reason: "nothing to roll back: the shipped model is in use")
        }
        let all = versions()
        let previous = all.firstIndex(of: current).flatMap { $0 > 0 ? all[$0 - 1] : nil }
        if let previous {
            let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + previous))
            _ = try ModelFile.decode(data, path: directory + "/" + previous)
            try DurableFile.write(data, to: currentPath)
        } else {
            try FileManager.default.removeItem(atPath: currentPath)
        }
        try record(
            Change(
                time: Self.isoTime(now), action: .rollback, current: previous ?? "",
                reason: "rolled back from \(current) to \(previous ?? "the shipped model")"))
        return previous
    }

    /// Appends a line to the changelog (and syncs it).
    public func record(_ change: Change) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var line = try encoder.encode(change)
        line.append(0x0A)
        try DurableFile.append(line, to: directory + "/changelog.jsonl")
    }

    static func stamp(_ date: Date) -> String {
        isoTime(date).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
    }

    public static func isoTime(_ date: Date) -> String {
        var out: [UInt8] = []
        appendISOTime(Int64(date.timeIntervalSince1970.rounded(.down)), to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
