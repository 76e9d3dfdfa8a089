import AirQuality
import ArgumentParser
import Foundation
import Training

/// Where the shipped data set and default model are looked for, first match wins.
public enum ShippedFile {
    public static let dataName = "PRSA_data_2010.1.1-2014.12.31.csv"
    public static let modelName = "aqcast-default.json"

    public static var executableDirectory: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    }

    public static func candidates(directory: String, name: String) -> [String] {
        [
            "\(directory)/\(name)",
            "\(executableDirectory)/../share/aqcast/\(name)",
            "\(executableDirectory)/../../../\(directory)/\(name)",  // .build/<config>/aqcast in a checkout
            "/usr/local/share/aqcast/\(name)",
            "/usr/share/aqcast/\(name)",
        ]
    }

    public static func find(directory: String, name: String, what: String) throws -> String {
        let list = candidates(directory: directory, name: name)
        if let hit = list.first(where: { FileManager.default.isReadableFile(atPath: $0) }) { return hit }
        throw CommandFailure("no \(what) found; looked in: \(list.joined(separator: ", "))")
    }

    public static func data() throws -> String { try find(directory: "data", name: dataName, what: "PRSA data file") }
    public static func model() throws -> String {
        try find(directory: "models", name: modelName, what: "default model")
    }

    /// The shipped models for fewer inputs, most inputs first.
    public static let fewerInputModelNames = ["aqcast-pm25-temperature-humidity.json", "aqcast-pm25.json"]

    /// The shipped models for fewer inputs that are there.
    public static func fewerInputModels() -> [String] {
        fewerInputModelNames.compactMap { name in
            candidates(directory: "models", name: name).first { FileManager.default.isReadableFile(atPath: $0) }
        }
    }

    /// The histories the shipped model was trained on: the PRSA file and, beside it in
    /// `multisite/`, the other stations' files, in name order.
    public static func histories() throws -> [String] {
        let prsa = try data()
        let folder = URL(fileURLWithPath: prsa).deletingLastPathComponent().appendingPathComponent("multisite").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return [prsa] + names.filter { $0.hasSuffix(".csv") }.sorted().map { folder + "/" + $0 }
    }
}

/// Options shared by commands that read the PRSA data.
public struct DataOptions: ParsableArguments {
    @Option(help: "PRSA-format CSV (default: the shipped Beijing 2010-2014 file).")
    public var data: String?

    @Option(help: "First year of the test period; earlier rows train.")
    public var testYear: Int = 2014

    public init() {}

    public func load(normalisation: Normalisation? = nil) throws -> (dataset: PRSADataset, path: String) {
        try Self.load(path: data ?? ShippedFile.data(), testYear: testYear, normalisation: normalisation)
    }

    /// The shipped PRSA file with the course's test year: what a model's course table is
    /// computed on.
    public static func course() throws -> PRSADataset { try load(path: ShippedFile.data(), testYear: 2014).dataset }

    public static func load(path: String, testYear: Int, normalisation: Normalisation? = nil) throws
        -> (dataset: PRSADataset, path: String)
    {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw CommandFailure("cannot read data file \(path)")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        return (try PRSADataset(csv: text, file: path, testYear: testYear, normalisation: normalisation), path)
    }
}

public func writeText(_ text: String, to path: String) throws {
    do {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
        throw CommandFailure("cannot write \(path): \(error.localizedDescription)")
    }
}

public func printError(_ text: String) {
    FileHandle.standardError.write((text + "\n").data(using: .utf8)!)
}
