// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"])]

let package = Package(
    name: "aqcast",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "aqcast", targets: ["aqcast"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
    ],
    targets: [
        // Pure numerics: stacked tanh RNN, BPTT, optimisers, metrics. No I/O, no clocks.
        .target(
            name: "DeepRNN", dependencies: [.product(name: "RealModule", package: "swift-numerics")],
            swiftSettings: strict),
        // Air-quality domain: PRSA reader, feature preparation, windows, training,
        // recursive evaluation, the model file, the HTML report.
        .target(name: "AirQuality", dependencies: ["DeepRNN"], swiftSettings: strict),
        .executableTarget(
            name: "aqcast",
            dependencies: [
                "AirQuality", "DeepRNN",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "DeepRNNTests", dependencies: ["DeepRNN"], swiftSettings: strict),
        .testTarget(
            name: "AirQualityTests", dependencies: ["AirQuality", "DeepRNN"],
            resources: [.copy("Fixtures")], swiftSettings: strict),
    ]
)
