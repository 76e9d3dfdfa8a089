// swift-tools-version:6.2
import PackageDescription

// libFuzzer targets for what reaches the daemon from outside: `scripts/fuzz.sh` builds them
// with `-sanitize=fuzzer,address` and runs each for a given time. Not part of the main build.
// Each program's main hands its target to libFuzzer's driver. They link with lld: gold stops
// with an internal error on the sanitized objects.
let lld: [LinkerSetting] = [.unsafeFlags(["-use-ld=lld"])]

let package = Package(
    name: "aqcast-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "aqcast", path: "..")],
    targets: [
        .target(name: "CFuzzDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzDriver"]),
        // A payload of each profile through the engine, as the MQTT thread hands it over.
        .executableTarget(
            name: "FuzzReadings", dependencies: ["FuzzSupport", .product(name: "AirQuality", package: "aqcast")],
            linkerSettings: lld),
        // The weather topic's payload, and the weather service's answer.
        .executableTarget(
            name: "FuzzWeather", dependencies: ["FuzzSupport", .product(name: "AirQuality", package: "aqcast")],
            linkerSettings: lld),
        // The configuration file.
        .executableTarget(
            name: "FuzzConfiguration",
            dependencies: ["FuzzSupport", .product(name: "ForecastDaemon", package: "aqcast")], linkerSettings: lld),
        // The model file loader, its checks and probe included.
        .executableTarget(
            name: "FuzzModelFile", dependencies: ["FuzzSupport", .product(name: "AirQuality", package: "aqcast")],
            linkerSettings: lld),
    ]
)
