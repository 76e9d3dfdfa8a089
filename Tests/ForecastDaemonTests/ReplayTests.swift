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
}
