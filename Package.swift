// swift-tools-version:6.2
import Foundation
import PackageDescription

let strict: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"])]

/// The numerics run on 8-float vectors (SIMD8<Float>). Built for baseline x86-64, each is two
/// 4-float SSE halves; where the building machine has AVX2 and FMA (most x86 servers since
/// 2013) the numeric module targets them, so each is one instruction. Results are bit for bit
/// the same (Swift does not fuse a multiply and an add on its own), only faster. Set
/// AQCAST_PORTABLE=1 to build a program for older x86 machines than the one building it.
let vectorCPU: [SwiftSetting] = {
    #if arch(x86_64)
        let flags =
            (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("flags") }.map { Set($0.split(separator: " ")) } ?? []
        if ProcessInfo.processInfo.environment["AQCAST_PORTABLE"] == nil, flags.contains("avx2"), flags.contains("fma")
        {
            return [.unsafeFlags(["-target-cpu", "haswell"])]
        }
    #endif
    return []
}()

let package = Package(
    name: "aqcast",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "aqcast", targets: ["aqcast"]),
        .executable(name: "aqcast-bench", targets: ["aqcast-bench"]),
        // For the fuzz targets (fuzz/Package.swift), which take these modules as they are.
        .library(name: "AirQuality", targets: ["AirQuality"]),
        .library(name: "ForecastDaemon", targets: ["ForecastDaemon"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.11.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.26.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
    ],
    targets: [
        // Pure numerics: stacked tanh RNN, BPTT, optimisers, metrics. No I/O, no clocks.
        .target(
            name: "DeepRNN", dependencies: [.product(name: "RealModule", package: "swift-numerics")],
            swiftSettings: strict + vectorCPU),
        // System libraries, each wrapped by exactly one Swift module.
        .systemLibrary(
            name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // MQTT over libmosquitto: the only importer of CMosquitto.
        .target(name: "MQTTClient", dependencies: ["CMosquitto"], swiftSettings: strict),
        // Journal log handler and sd_notify: the only importer of CSystemd.
        .target(
            name: "SystemdSupport",
            dependencies: ["CSystemd", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        // The daemon: configuration, the forecast engine, MQTT and systemd wired into services.
        .target(
            name: "ForecastDaemon",
            dependencies: [
                "AirQuality", "MQTTClient", "SystemdSupport", "ReadingLog", "Training",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                // The weather service's answers, streamed with size, decompression and time bounds.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTPCompression", package: "swift-nio-extras"),
            ],
            swiftSettings: strict),
        // The Prometheus endpoint: the registry the daemon's metrics are kept in (swift-prometheus
        // behind swift-metrics) and the HTTP server that serves it (Hummingbird).
        .target(
            name: "MetricsEndpoint",
            dependencies: [
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        // The reading log (SQLite through GRDB).
        .target(
            name: "ReadingLog",
            dependencies: [
                "AirQuality", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strict),
        // One inline function: flush subnormals to zero on the training thread.
        .target(name: "CFloatEnvironment"),
        // The air-quality domain the daemon runs: readings and their wire format, station
        // windows, the forecaster and the forecast engine, the model file.
        .target(
            name: "AirQuality",
            dependencies: ["DeepRNN", .product(name: "RealModule", package: "swift-numerics")],
            swiftSettings: strict),
        // Making and judging models: dataset readers, preparation, trainers and recipes,
        // evaluation and backtest, the HTML report.
        .target(
            name: "Training",
            dependencies: ["AirQuality", "DeepRNN", "ReadingLog", "CFloatEnvironment"],
            swiftSettings: strict),
        // Model files on disk: durable writes, the store's versions, the current model and
        // the changelog of promotions.
        .target(name: "ModelStore", dependencies: ["AirQuality"], swiftSettings: strict),
        // What the commands of both programs share: the shipped files, the data options,
        // CommandFailure.
        .target(
            name: "CommandSupport",
            dependencies: [
                "AirQuality", "Training", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),
        // The program: each command parses its arguments and delegates.
        .executableTarget(
            name: "aqcast",
            dependencies: [
                "AirQuality", "DeepRNN", "Training", "ModelStore", "ForecastDaemon", "MQTTClient", "SystemdSupport",
                "ReadingLog", "CommandSupport", "MetricsEndpoint",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The benchmarks, a program of their own that `make install` leaves out; the daemon
        // benches start the `aqcast` program built beside it.
        .executableTarget(
            name: "aqcast-bench",
            dependencies: [
                "AirQuality", "DeepRNN", "Training", "ForecastDaemon", "MQTTClient", "ReadingLog", "CommandSupport",
                "AQCastTestSupport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // What the daemon tests and the benches both need: child processes, free loopback ports,
        // a private mosquitto, and listeners for sd_notify and the journal at paths of their own.
        .target(name: "AQCastTestSupport", path: "Tests/AQCastTestSupport", swiftSettings: strict),
        .testTarget(name: "DeepRNNTests", dependencies: ["DeepRNN"], swiftSettings: strict),
        .testTarget(
            name: "ReadingLogTests",
            dependencies: ["ReadingLog", "AirQuality", "Training", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict),
        .testTarget(
            name: "ForecastDaemonTests",
            dependencies: [
                "ForecastDaemon", "AirQuality", "Training", "ModelStore", "MQTTClient", "SystemdSupport", "ReadingLog",
                "AQCastTestSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        .testTarget(name: "AirQualityTests", dependencies: ["AirQuality"], swiftSettings: strict),
        .testTarget(name: "ModelStoreTests", dependencies: ["ModelStore"], swiftSettings: strict),
        .testTarget(
            name: "SystemdSupportTests",
            dependencies: ["SystemdSupport", "AQCastTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        .testTarget(
            name: "TrainingTests",
            dependencies: [
                "Training", "AirQuality", "DeepRNN", "ModelStore",
                .product(name: "RealModule", package: "swift-numerics"),
            ],
            resources: [.copy("Fixtures")], swiftSettings: strict),
    ]
)
