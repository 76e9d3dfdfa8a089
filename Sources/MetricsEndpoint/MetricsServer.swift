import CoreMetrics
import Hummingbird
import HummingbirdCore
import Logging
import Prometheus
import ServiceLifecycle

/// Serves a Prometheus registry on `GET /metrics` in the text exposition format (version
/// 0.0.4), over Hummingbird's HTTP/1.1 server. `beforeScrape` runs before each answer, to set
/// the figures that are read rather than counted. A `# HELP` line from `help` goes before each
/// family's `# TYPE` line (swift-metrics gives the registry none). Any other path is 404.
///
/// An address that cannot be listened on (in use, not local) is said in the journal once and
/// tried again every minute: the daemon forecasts on without its metrics rather than stopping.
/// At most 16 connections at a time, each closed after 30 s idle.
public struct MetricsServer: Service {
    public let host: String
    public let port: Int
    let registry: PrometheusCollectorRegistry
    let help: [String: String]
    let beforeScrape: @Sendable () -> Void
    let logger: Logger

    public init(
        host: String, port: Int, registry: PrometheusCollectorRegistry, help: [String: String],
        beforeScrape: @escaping @Sendable () -> Void = {}, logger: Logger
    ) {
        self.host = host
        self.port = port
        self.registry = registry
        self.help = help
        self.beforeScrape = beforeScrape
        self.logger = logger
    }

    /// The factory that makes swift-metrics' metrics in `registry`, with each histogram's
    /// buckets from `buckets` (by name).
    public static func factory(registry: PrometheusCollectorRegistry, buckets: [String: [Duration]])
        -> PrometheusMetricsFactory
    {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = buckets
        return factory
    }

    /// The exposition, its families sorted by name, each with its help line.
    public func exposition() -> [UInt8] {
        beforeScrape()
        let text = registry.emitToBuffer()
        // Each family starts at its `# TYPE NAME KIND` line; the registry writes them in no
        // particular order.
        var families: [(name: String, lines: ArraySlice<UInt8>)] = []
        let typeLine = Array("# TYPE ".utf8)
        var start = 0
        var familyStart = 0
        var name = ""
        while start < text.count {
            let end = text[start...].firstIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? text.count
            if text[start..<end].starts(with: typeLine) {
                if start > familyStart { families.append((name, text[familyStart..<start])) }
                let nameStart = start + typeLine.count
                let nameEnd = text[nameStart..<end].firstIndex(of: UInt8(ascii: " ")) ?? end
                name = String(decoding: text[nameStart..<nameEnd], as: UTF8.self)
                familyStart = start
            }
            start = end
        }
        if text.count > familyStart { families.append((name, text[familyStart...])) }
        var out: [UInt8] = []
        out.reserveCapacity(text.count + families.count * 128)
        for family in families.sorted(by: { $0.name < $1.name }) {
            if let help = help[family.name] {
                out += Array("# HELP \(family.name) ".utf8)
                for b in help.utf8 {
                    switch b {
                    case UInt8(ascii: "\\"): out += Array(#"\\"#.utf8)
                    case UInt8(ascii: "\n"): out += Array(#"\n"#.utf8)
                    default: out.append(b)
                    }
                }
                out.append(UInt8(ascii: "\n"))
            }
            out += Self.sortedSeries(family.lines)
        }
        return out
    }

    /// A family's lines with its series in label order (the registry keeps them in a
    /// dictionary): the TYPE line first, then each series, a histogram's buckets, sum and count
    /// kept together and in order.
    static func sortedSeries(_ lines: ArraySlice<UInt8>) -> [UInt8] {
        var split = lines.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        guard !split.isEmpty else { return Array(lines) }
        let type = split.removeFirst()
        let histogram = type.reversed().starts(with: "histogram".utf8.reversed())
        var blocks: [[ArraySlice<UInt8>]] = []
        var block: [ArraySlice<UInt8>] = []
        for line in split {
            block.append(line)
            let name = line.prefix { $0 != UInt8(ascii: "{") && $0 != UInt8(ascii: " ") }
            if !histogram || name.reversed().starts(with: "_count".utf8.reversed()) {
                blocks.append(block)
                block = []
            }
        }
        if !block.isEmpty { blocks.append(block) }
        var out = Array(type) + [UInt8(ascii: "\n")]
        for b in blocks.sorted(by: { $0[0].lexicographicallyPrecedes($1[0]) }) {
            for line in b { out += line + [UInt8(ascii: "\n")] }
        }
        return out
    }

    public func run() async throws {
        let router = Router()
        let server = self
        router.get("metrics") { _, _ -> Response in
            let body = server.exposition()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        // Hummingbird's own lines (one per request at debug) stay out of the journal.
        var quiet = logger
        quiet.logLevel = .warning
        var said = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let app = Application(
                router: router, server: .http1(configuration: .init(idleTimeout: .seconds(30))),
                configuration: .init(
                    address: .hostname(host, port: port), serverName: nil,
                    availableConnectionsDelegate: MaximumAvailableConnections(16)),
                onServerRunning: { [logger, host, port] _ in
                    logger.info(
                        "metrics endpoint listening", metadata: ["url": "http://\(host):\(port)/metrics"])
                }, logger: quiet)
            do {
                // No signals of its own: the daemon's group stops it on SIGTERM. (With
                // Hummingbird's default it caught SIGTERM too and could end before the group
                // had begun to stop, which the group takes for a failure: exit status 1.)
                try await app.runService(gracefulShutdownSignals: [])
                return
            } catch {
                if !said {
                    logger.error(
                        "metrics endpoint cannot listen on \(host):\(port): \(error); forecasting goes on, trying again every minute",
                        metadata: ["listen": "\(host):\(port)", "reason": "\(error)"])
                    said = true
                }
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(60)) }
            }
        }
    }
}
