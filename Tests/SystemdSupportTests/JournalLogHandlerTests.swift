import AQCastTestSupport
import Foundation
import Logging
import Testing

@testable import SystemdSupport

@Suite struct StandardErrorLineTests {
    /// A reading's time of `2014\n<3>aqcast: FORGED LINE` once printed a line of its own that
    /// looked like our error entry; now control characters are shown, not obeyed.
    @Test func textFromOutsideCannotStartALineOfItsOwn() {
        let line = JournalLogHandler.standardErrorLine(
            priority: 4, identifier: "aqcast",
            message: "reading rejected: field 'time' is '2014\n<3>aqcast: FORGED LINE'",
            metadata: [("station", "a\u{1B}[31mred"), ("topic", #"aq/x\y/reading"#)])
        #expect(
            line
                == #"<4>aqcast: reading rejected: field 'time' is '2014\n<3>aqcast: FORGED LINE' station=a\x1b[31mred topic=aq/x\\y/reading"#
                + "\n")
        #expect(line.filter { $0 == "\n" }.count == 1)
    }
}

@Suite struct JournalDatagramTests {
    /// An entry for a socket of one's own goes out in the native protocol, a value with a
    /// newline in its length-prefixed form, and reads back field for field.
    @Test func anEntryReachesASocketOfOnesOwnFieldForField() throws {
        let path = NSTemporaryDirectory() + "aqcast-journal-test-\(UUID().uuidString.prefix(8)).socket"
        let fd = try bindDatagram(path)
        defer {
            close(fd)
            unlink(path)
        }
        let fields = [("MESSAGE", "two\nlines"), ("PRIORITY", "6"), ("STATION", "a=b")]
        #expect(JournalLogHandler.sendDatagram(fields, to: path) == 0)
        let received = try #require(receiveDatagram(fd, seconds: 5))
        #expect(FakeJournal.parse(received) == ["MESSAGE": "two\nlines", "PRIORITY": "6", "STATION": "a=b"])
        #expect(JournalLogHandler.sendDatagram(fields, to: path + ".missing") == -ENOENT)
    }
}

@Suite struct SharedLogLevelTests {
    /// A reload sets the shared level for every logger; a level one logger sets for itself (the
    /// metrics server quietens hummingbird's lines to warning) stays its own.
    @Test func aLoggersOwnLevelLeavesTheOthersOnTheSharedOne() {
        let shared = SharedLogLevel(.info)
        var quiet = Logger(label: "quiet") { JournalLogHandler(label: $0, level: shared) }
        let daemon = Logger(label: "daemon") { JournalLogHandler(label: $0, level: shared) }
        quiet.logLevel = .warning
        #expect(quiet.logLevel == .warning)
        #expect(daemon.logLevel == .info)
        #expect(shared.value == .info)
        shared.value = .debug
        #expect(daemon.logLevel == .debug)
        #expect(quiet.logLevel == .warning)
        #expect(Logger(label: "plain") { JournalLogHandler(label: $0) }.logLevel == .info)
    }
}
