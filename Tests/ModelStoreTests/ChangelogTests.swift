import Foundation
import Testing

@testable import ModelStore

/// The models' changelog: each action as the file spells it, and a line that is not a change
/// refused with its number.
@Suite struct ChangelogTests {
    let state = NSTemporaryDirectory() + "aqcast-changelog-\(UUID().uuidString)"

    @Test func actionsAreWrittenAndReadAsTheChangelogSpellsThem() throws {
        let store = ModelStore(stateDirectory: state)
        for action in ModelStore.Change.Action.allCases {
            try store.record(.init(time: "2026-12-04T19:00:00Z", action: action, current: "", reason: "r"))
        }
        #expect(try store.changes().map(\.action) == ModelStore.Change.Action.allCases)
        let text = try String(contentsOfFile: state + "/models/changelog.jsonl", encoding: .utf8)
        #expect(text.contains(#""action":"too_little_data""#), "\(text)")
    }

    @Test func anUnknownActionIsRefusedWithItsLine() throws {
        let store = ModelStore(stateDirectory: state)
        try store.record(.init(time: "2026-12-04T19:00:00Z", action: .refused, current: "", reason: ""))
        let path = state + "/models/changelog.jsonl"
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"time":"t","action":"deleted","current":"","reason":""}"#.utf8))
        try handle.close()
        #expect(throws: (any Error).self) { try store.changes() }
        do {
            _ = try store.changes()
        } catch {
            #expect("\(error)".contains("line 2 is not a change"), "\(error)")
        }
    }
}
