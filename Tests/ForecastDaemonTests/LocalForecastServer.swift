import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A small HTTP/1.1 server on a loopback port, standing in for a weather-forecast service:
/// each request is answered as ``mode`` says at that moment, and its path and query are kept.
final class LocalForecastServer: Sendable {
    enum Mode: Sendable {
        /// 200 with this body.
        case answer(String)
        /// This status with this body.
        case status(Int, String)
        /// Accepts the connection and never answers (until the client gives up).
        case silent
        /// Says the body is longer than it is, sends half of it and closes.
        case truncated(String)
        /// 200 with a chunked body that never ends (64 KiB chunks until the client closes).
        case endless
        /// 200 with this body, said to be gzip-compressed (`Content-Encoding: gzip`).
        case gzip([UInt8])
        /// 200 with this body, one byte each `interval` seconds.
        case trickle(String, interval: Double)
        /// This 3xx status with this `Location`.
        case redirect(Int, String)
    }

    let port: Int
    private let listener: Int32
    private let state = Mutex<(mode: Mode, requests: [String], stopped: Bool)>((.status(503, ""), [], false))

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.listener = listener
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    deinit { stop() }

    var mode: Mode {
        get { state.withLock { $0.mode } }
        set { state.withLock { $0.mode = newValue } }
    }

    /// The request lines' targets (path and query) so far.
    var requests: [String] { state.withLock { $0.requests } }

    func stop() {
        let first = state.withLock { s -> Bool in
            defer { s.stopped = true }
            return !s.stopped
        }
        if first { shutdown(listener, Int32(SHUT_RDWR)) }
    }

    private func serve() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if state.withLock({ $0.stopped }) { return }
                continue
            }
            let connection = Thread { [self] in answer(fd) }
            connection.start()
        }
    }

    private func answer(_ fd: Int32) {
        defer { close(fd) }
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !request.contains(sequence: Array("\r\n\r\n".utf8)) {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { return }
            request += buffer[0..<n]
        }
        let line = String(decoding: request.prefix { $0 != 0x0D }, as: UTF8.self)
        let target = line.split(separator: " ").dropFirst().first.map(String.init) ?? ""
        let mode = state.withLock { s -> Mode in
            s.requests.append(target)
            return s.mode
        }
        @discardableResult func send(_ bytes: [UInt8]) -> Bool {
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBufferPointer {
                    Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                }
                if n <= 0 { return false }
                sent += n
            }
            return true
        }
        @discardableResult func send(_ text: String) -> Bool { send(Array(text.utf8)) }
        func response(_ status: Int, _ body: String, length: Int? = nil) -> String {
            "HTTP/1.1 \(status) \(status == 200 ? "OK" : "Error")\r\nContent-Type: application/json; charset=utf-8\r\n"
                + "Content-Length: \(length ?? body.utf8.count)\r\nConnection: close\r\n\r\n" + body
        }
        switch mode {
        case .answer(let body): send(response(200, body))
        case .status(let code, let body): send(response(code, body))
        case .truncated(let body):
            send(response(200, String(body.prefix(body.count / 2)), length: body.utf8.count))
        case .endless:
            send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            let chunk = Array("10000\r\n".utf8) + [UInt8](repeating: 0x20, count: 0x10000) + Array("\r\n".utf8)
            while send(chunk) {}
        case .gzip(let body):
            send(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                    + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n")
            send(body)
        case .trickle(let body, let interval):
            send(response(200, "", length: body.utf8.count))
            for byte in body.utf8 {
                guard send([byte]) else { return }
                usleep(useconds_t(interval * 1e6))
            }
        case .redirect(let code, let location):
            send("HTTP/1.1 \(code) Moved\r\nLocation: \(location)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        case .silent:
            // Holds the connection open until the client closes it.
            while read(fd, &buffer, buffer.count) > 0 {}
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate func contains(sequence: [UInt8]) -> Bool {
        guard count >= sequence.count else { return false }
        return (0...(count - sequence.count)).contains { Array(self[$0..<($0 + sequence.count)]) == sequence }
    }
}

/// An Open-Meteo answer in the documented format (times as Unix seconds, wind in m/s) for
/// `hours` (hours since 1970), every hour the same weather.
func openMeteoAnswer(
    hours: [Int64], temperature: Double = 12, dewPoint: Double = 2, pressure: Double = 1012,
    windSpeed: Double = 3.5, windDirection: Double = 200
) -> String {
    func column(_ v: Double) -> String { "[" + hours.map { _ in "\(v)" }.joined(separator: ",") + "]" }
    return """
        {"latitude":39.9,"longitude":116.4,"generationtime_ms":0.1,"utc_offset_seconds":0,"timezone":"GMT",\
        "timezone_abbreviation":"GMT","elevation":44.0,"hourly_units":{"time":"unixtime","temperature_2m":"°C",\
        "dew_point_2m":"°C","surface_pressure":"hPa","wind_speed_10m":"m/s","wind_direction_10m":"°"},\
        "hourly":{"time":[\(hours.map { "\($0 * 3600)" }.joined(separator: ","))],\
        "temperature_2m":\(column(temperature)),"dew_point_2m":\(column(dewPoint)),\
        "surface_pressure":\(column(pressure)),"wind_speed_10m":\(column(windSpeed)),\
        "wind_direction_10m":\(column(windDirection))}}
        """
}
