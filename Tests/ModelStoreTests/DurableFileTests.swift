import Foundation
import Testing

@testable import ModelStore

/// Durable writes: the file is whole after a write, and a failure names the file and the step.
@Suite struct DurableFileTests {
    let folder = NSTemporaryDirectory() + "aqcast-durable-\(UUID().uuidString)"

    @Test func aWriteReplacesTheFileWhole() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/model.json"
        try DurableFile.write(Data("first".utf8), to: path)
        try DurableFile.write(Data("second".utf8), to: path)
        #expect(FileManager.default.contents(atPath: path) == Data("second".utf8))
        try DurableFile.append(Data(" and more".utf8), to: path)
        #expect(FileManager.default.contents(atPath: path) == Data("second and more".utf8))
        // No temporary file is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["model.json"])
    }

    @Test func aFailureNamesTheFileAndTheStep() {
        let path = folder + "/missing/model.json"
        #expect(throws: DurableFileError(path: path + ".tmp-\(getpid())", step: "create", code: ENOENT)) {
            try DurableFile.write(Data("x".utf8), to: path)
        }
        let error = DurableFileError(path: path, step: "open", code: ENOENT)
        #expect(error.description == "cannot open \(path): No such file or directory")
        #expect(throws: error) { try DurableFile.append(Data("x".utf8), to: path) }
    }
}
