import AirQuality
import Foundation
import Testing

@testable import ForecastDaemon

/// The weather service's answers as an attacker (or a broken proxy) gives them, from a real
/// HTTP server on loopback: each is cut off at the size or time bound, not read whole.
@Suite struct WeatherServiceBoundsTests {
    let limit = OpenMeteo.maximumBytes

    /// `count` zero bytes, gzip-compressed by gzip(1).
    static func gzipped(_ data: [UInt8]) throws -> [UInt8] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-c"]
        let input = Pipe()
        let output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        let writer = Thread {
            input.fileHandleForWriting.write(Data(data))
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return [UInt8](out)
    }

    func fetch(_ server: LocalForecastServer, timeout: Double = 30) async -> Result<
        (status: Int, body: [UInt8]), BoundedHTTPGet.Failure
    > {
        let http = BoundedHTTPGet(maximumBytes: limit)
        let result = await http.get("http://127.0.0.1:\(server.port)/v1/forecast", timeout: timeout)
        await http.shutdown()
        return result
    }

    @Test func anEndlessAnswerIsCutOffAtTheSizeBound() async throws {
        let server = try LocalForecastServer()
        defer { server.stop() }
        server.mode = .endless
        // Read whole, it would never end, and the failure would be the timeout's.
        let result = await fetch(server)
        #expect(throws: BoundedHTTPGet.Failure(description: "an answer of more than \(limit) bytes")) {
            try result.get()
        }
    }

    @Test func aCompressedBombIsCutOffAtTheSizeBoundAfterDecompression() async throws {
        let server = try LocalForecastServer()
        defer { server.stop() }
        let bomb = try Self.gzipped([UInt8](repeating: 0x20, count: 64 << 20))
        #expect(bomb.count < limit / 8, "the bomb is \(bomb.count) bytes compressed")
        server.mode = .gzip(bomb)
        let result = await fetch(server)
        #expect(
            throws: BoundedHTTPGet.Failure(description: "an answer that decompresses to more than \(limit) bytes")
        ) { try result.get() }
    }

    @Test func aCompressedAnswerWithinTheBoundIsRead() async throws {
        let server = try LocalForecastServer()
        defer { server.stop() }
        let answer = openMeteoAnswer(hours: Array(400_000..<400_048))
        server.mode = .gzip(try Self.gzipped(Array(answer.utf8)))
        let (status, body) = try await fetch(server).get()
        #expect(status == 200)
        #expect(body == Array(answer.utf8))
        let hours = try OpenMeteo.decode(body, status: status, pressure: .surface).get()
        #expect(hours.count == 48)
    }

    @Test func aTrickledBodyEndsAtTheTimeoutNotAtItsEnd() async throws {
        let server = try LocalForecastServer()
        defer { server.stop() }
        // 3,000 bytes at one every 0.1 s: 300 s to send whole. Read whole, the fetch would end
        // with a 200 and a body of spaces; the failure says it was cut off at the timeout.
        server.mode = .trickle(String(repeating: " ", count: 3000), interval: 0.1)
        let result = await fetch(server, timeout: 1)
        #expect(throws: BoundedHTTPGet.Failure(description: "no answer within the timeout")) { try result.get() }
    }

    @Test func aRedirectIsNotFollowed() async throws {
        let server = try LocalForecastServer()
        defer { server.stop() }
        server.mode = .redirect(302, "http://127.0.0.1:\(server.port)/elsewhere")
        let result = await fetch(server)
        let failure = try #require(result.failure)
        #expect(failure.description.hasPrefix("the service redirected (302) to http://127.0.0.1:"), "\(failure)")
        #expect(server.requests == ["/v1/forecast"])
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let f) = self { return f }
        return nil
    }
}
