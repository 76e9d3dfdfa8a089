import AQCastTestSupport
import Foundation
import Testing

/// `aqcast replay` counts only what the broker acknowledged.
@Suite struct ReplayTests {
    @Test func aBrokerThatIsNotThereIsAnErrorWithItsAddressAndReason() throws {
        let port = freePort()  // nothing listens there
        let run = try ChildProcess(
            Shipped.binary,
            [
                "replay", "--broker", "127.0.0.1:\(port)", "--from", "2014-01-01T00", "--hours", "5", "--speed",
                "3600000",
                "--acknowledgement-wait-seconds", "2",
            ])
        #expect(run.wait(seconds: 60) == 1, "\(run.output)")
        #expect(run.output.contains("the broker at 127.0.0.1:\(port) acknowledged 0 of 5 readings: "), "\(run.output)")
        #expect(!run.output.contains("sent 5 readings"), "\(run.output)")
    }

    @Test func everyReadingTheBrokerTookIsCounted() throws {
        let broker = try Broker()
        let inbox = Inbox()
        let subscriber = try client(broker, id: "t-replay-sub", inbox: inbox, subscribe: "aq/+/reading")
        defer { withExtendedLifetime(subscriber) {} }
        let run = try ChildProcess(
            Shipped.binary,
            [
                "replay", "--broker", "127.0.0.1:\(broker.port)", "--station", "replayed", "--from", "2014-01-01T00",
                "--hours", "12", "--speed", "3600000",
            ])
        #expect(run.wait(seconds: 60) == 0, "\(run.output)")
        let received = inbox.wait(seconds: 10, topic: "aq/replayed/reading", count: 12)
        #expect(
            run.output.contains(
                "sent \(received.count) readings to aq/replayed/reading, all acknowledged by 127.0.0.1:\(broker.port)"),
            "\(run.output)")
        #expect(received.count >= 11, "a 2014-01-01 hour or so may lack PM2.5; got \(received.count)")
    }

    /// A range whose hours all lack PM2.5 sends nothing, and says so with a failure, whether or
    /// not a broker is there (it said "sent 0 readings ..., all acknowledged" and exited 0).
    @Test func aRangeWithoutPM25SendsNothingAndSaysSo() throws {
        let broker = try Broker()
        // 2010-01-01 00:00-04:00: PM2.5 is NA in the shipped file.
        let arguments = [
            "--from", "2010-01-01T00", "--hours", "4", "--speed", "3600000", "--acknowledgement-wait-seconds", "2",
        ]
        let reached = try ChildProcess(Shipped.binary, ["replay", "--broker", "127.0.0.1:\(broker.port)"] + arguments)
        #expect(reached.wait(seconds: 60) == 1, "\(reached.output)")
        #expect(
            reached.output.contains("nothing sent: the 4 hours from 2010-01-01T00 have no PM2.5"), "\(reached.output)")
        let port = freePort()  // nothing listens there
        let absent = try ChildProcess(Shipped.binary, ["replay", "--broker", "127.0.0.1:\(port)"] + arguments)
        #expect(absent.wait(seconds: 60) == 1, "\(absent.output)")
        #expect(
            absent.output.contains("nothing sent, and the broker at 127.0.0.1:\(port) could not be reached"),
            "\(absent.output)")
    }
}
