import Foundation
import MQTTClient

/// Hands received messages from the MQTT network thread to one worker thread, in arrival order.
///
/// libmosquitto acknowledges a QoS 1 message before handing it over, but writes the
/// acknowledgements only between reads; had the network thread decoded, forecast and published
/// each message itself, the broker would wait for a whole batch's acknowledgements while the
/// daemon worked, and the daemon would wait for the next batch while the broker sent it. With
/// the work on a thread of its own both go on at once. The queue is bounded: when the worker
/// falls `capacity` messages behind, the network thread waits, and the broker holds the rest.
final class MessageQueue: @unchecked Sendable {
    // @unchecked: `items` and `closed` are guarded by `condition`.
    private let condition = NSCondition()
    private var items: [MQTTMessage] = []
    private var closed = false
    private let capacity: Int
    private let finished = DispatchSemaphore(value: 0)

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// Queues a message; waits while the queue is full.
    func put(_ message: MQTTMessage) {
        condition.lock()
        while items.count >= capacity, !closed { condition.wait() }
        items.append(message)
        condition.broadcast()
        condition.unlock()
    }

    /// Starts the worker, which calls `handle` for every message in order.
    func start(_ handle: @escaping @Sendable (MQTTMessage) -> Void) {
        let thread = Thread { [self] in
            var batch: [MQTTMessage] = []
            while true {
                condition.lock()
                while items.isEmpty, !closed { condition.wait() }
                if items.isEmpty {
                    condition.unlock()
                    break
                }
                swap(&batch, &items)
                condition.broadcast()
                condition.unlock()
                for m in batch { handle(m) }
                batch.removeAll(keepingCapacity: true)
            }
            finished.signal()
        }
        thread.name = "readings"
        thread.start()
    }

    /// Handles what is still queued, then stops the worker.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
        finished.wait()
    }
}
