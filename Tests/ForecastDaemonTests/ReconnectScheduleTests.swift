import Testing

@testable import MQTTClient

/// When the connection tries again after failures in a row: a quarter of a second first, then
/// the minimum delay doubling up to the maximum.
@Suite struct ReconnectScheduleTests {
    @Test func theFirstRetryIsQuickAndTheRestBackOff() {
        let delays = (1...9).map { MQTTConnection.retryDelay(failures: $0, minimum: 1, maximum: 60) }
        #expect(delays == [0.25, 1, 2, 4, 8, 16, 32, 60, 60])
        #expect(MQTTConnection.retryDelay(failures: 1, minimum: 1, maximum: 0) == 0)
        #expect(MQTTConnection.retryDelay(failures: 3, minimum: 2, maximum: 60) == 4)
    }
}
