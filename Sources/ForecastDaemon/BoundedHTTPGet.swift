import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOHTTPCompression

/// HTTP GETs of a service's answer with a bound on everything the service controls: the
/// body is read as a stream and given up at `maximumBytes` (counted after decompression, so a
/// small gzip bomb is stopped at the same size as a large plain body), the whole fetch, body
/// included, ends at `timeout` seconds (a body trickled a byte a second is cut off there), and
/// redirects are not followed (an answer that moves elsewhere is an answer we did not ask for).
///
/// Built on swift-server's AsyncHTTPClient, which streams bodies and decompresses with a limit
/// (swift-nio-extras' `NIOHTTPDecompression.DecompressionLimit.size`), where Foundation's
/// URLSession on Linux reads a body whole before it can be looked at. One client (one
/// connection pool) serves every fetch; ``shutdown()`` closes it.
public final class BoundedHTTPGet: Sendable {
    private let client: HTTPClient
    let maximumBytes: Int

    /// Why an answer could not be had, in words for the journal.
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    public init(maximumBytes: Int) {
        self.maximumBytes = maximumBytes
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, decompression: .enabled(limit: .size(maximumBytes)))
        configuration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Closes the connection pool; no fetch may follow.
    public func shutdown() async {
        try? await client.shutdown()
    }

    /// The status and body of a GET of `url`, or why there is none, within `timeout` seconds
    /// in all and at most ``maximumBytes`` of (decompressed) body.
    public func get(_ url: String, timeout: Double) async -> Result<(status: Int, body: [UInt8]), Failure> {
        let limit = maximumBytes
        let deadline = NIODeadline.now() + .milliseconds(Int64(max(0.001, timeout) * 1000))
        return await withTaskGroup(of: Result<(status: Int, body: [UInt8]), Failure>?.self) { group in
            group.addTask { [client] in
                await Self.fetch(client, url, deadline: deadline, limit: limit)
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(Int64(max(0.001, timeout) * 1000)))
                return Task.isCancelled ? nil : .failure(Failure(description: "no answer within the timeout"))
            }
            var outcome: Result<(status: Int, body: [UInt8]), Failure> = .failure(Failure(description: "cancelled"))
            for await result in group {
                if let result {
                    outcome = result
                    break
                }
            }
            group.cancelAll()
            return outcome
        }
    }

    private static func fetch(_ client: HTTPClient, _ url: String, deadline: NIODeadline, limit: Int) async -> Result<
        (status: Int, body: [UInt8]), Failure
    > {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        request.headers.add(name: "User-Agent", value: "aqcast")
        do {
            let response = try await client.execute(request, deadline: deadline)
            if (300..<400).contains(Int(response.status.code)) {
                let target = response.headers.first(name: "Location") ?? "nowhere"
                return .failure(
                    Failure(
                        description: "the service redirected (\(response.status.code)) to \(Self.printable(target)); "
                            + "redirects are not followed: set url to where the service is"))
            }
            if let declared = response.headers.first(name: "Content-Length").flatMap(Int.init),
                declared > limit,
                response.headers.first(name: "Content-Encoding") == nil
            {
                return .failure(Failure(description: "an answer of \(declared) bytes, more than \(limit)"))
            }
            var body: [UInt8] = []
            for try await part in response.body {
                guard body.count + part.readableBytes <= limit else {
                    return .failure(Failure(description: "an answer of more than \(limit) bytes"))
                }
                body.append(contentsOf: part.readableBytesView)
            }
            return .success((Int(response.status.code), body))
        } catch let error as NIOHTTPDecompression.DecompressionError {
            return .failure(
                Failure(
                    description: error == .limit
                        ? "an answer that decompresses to more than \(limit) bytes" : "a body that does not decompress")
            )
        } catch let error as HTTPClientError {
            return .failure(Failure(description: Self.describe(error)))
        } catch is CancellationError {
            return .failure(Failure(description: "cancelled"))
        } catch {
            return .failure(Failure(description: Self.printable("\(error)")))
        }
    }

    static func describe(_ error: HTTPClientError) -> String {
        if [.deadlineExceeded, .readTimeout, .connectTimeout].contains(error) { return "no answer within the timeout" }
        if error == .remoteConnectionClosed { return "the service closed the connection before the answer was whole" }
        if [.invalidURL, .emptyHost, .emptyScheme].contains(error) { return "not a usable http or https url" }
        if error == .cancelled { return "cancelled" }
        return printable("\(error)")
    }

    /// `text` as a journal line may hold it (``RejectionLogLimiter/printable(_:)``).
    static func printable(_ text: String) -> String { RejectionLogLimiter.printable(text) }
}
