import AirQuality
import ArgumentParser
import Foundation

/// Where the shipped data set and default model are looked for, first match wins.
enum ShippedFile {
    static let dataName = "PRSA_data_2010.1.1-2014.12.31.csv"
    static let modelName = "aqcast-default.json"

    static var executableDirectory: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    }

    /// This program's own file, however it was started.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    static func candidates(directory: String, name: String) -> [String] {
        [
            "\(directory)/\(name)",
            "\(executableDirectory)/../share/aqcast/\(name)",
            "\(executableDirectory)/../../../\(directory)/\(name)",  // .build/<config>/aqcast in a checkout
            "/usr/local/share/aqcast/\(name)",
            "/usr/share/aqcast/\(name)",
        ]
    }

    static func find(directory: String, name: String, what: String) throws -> String {
        let list = candidates(directory: directory, name: name)
        if let hit = list.first(where: { FileManager.default.isReadableFile(atPath: $0) }) { return hit }
        throw ValidationError("no \(what) found; looked in: \(list.joined(separator: ", "))")
    }

    static func data() throws -> String { try find(directory: "data", name: dataName, what: "PRSA data file") }
    static func model() throws -> String { try find(directory: "models", name: modelName, what: "default model") }
}

/// Options shared by commands that read the PRSA data.
struct DataOptions: ParsableArguments {
    @Option(help: "PRSA-format CSV (default: the shipped Beijing 2010-2014 file).")
    var data: String?

    @Option(help: "First year of the test period; earlier rows train.")
    var testYear: Int = 2014

    func load(normalisation: Normalisation? = nil) throws -> (dataset: PRSADataset, path: String) {
        try Self.load(path: data ?? ShippedFile.data(), testYear: testYear, normalisation: normalisation)
    }

    /// The shipped PRSA file with the course's test year: what a model's course table is
    /// computed on.
    static func course() throws -> PRSADataset { try load(path: ShippedFile.data(), testYear: 2014).dataset }

    static func load(path: String, testYear: Int, normalisation: Normalisation? = nil) throws
        -> (dataset: PRSADataset, path: String)
    {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read data file \(path)")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        return (try PRSADataset(csv: text, file: path, testYear: testYear, normalisation: normalisation), path)
    }
}

func writeText(_ text: String, to path: String) throws {
    do {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
        throw ValidationError("cannot write \(path): \(error.localizedDescription)")
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write((text + "\n").data(using: .utf8)!)
}
