import AirQuality
import ArgumentParser
import CommandSupport
import DeepRNN
import Foundation
import Training

@main
struct AQCastBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aqcast-bench", abstract: "Benchmarks that print numbers and ratios against a reference run.",
        subcommands: [
            TrainBench.self, ForecastBench.self, DaemonBench.self, LogBench.self, RestartBench.self, RetrainBench.self,
            CommunityBench.self, StationsBench.self, MemoryBench.self, HomeAssistantBench.self,
        ])

    /// The `aqcast` program built beside this one, which the daemon and retraining benches start.
    static var aqcast: String { ShippedFile.executableDirectory + "/aqcast" }
}

struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract:
            "Train the seed recipe on one thread, then the numpy re-implementation on the same data; print the ratio.")

    @OptionGroup var dataOptions: DataOptions

    @Option(help: "Epochs for both runs.")
    var epochs: Int = 100

    @Option(help: "The numpy re-implementation (default: benchmarks/seed_numpy.py beside the data).")
    var numpy: String?

    @Flag(help: "Skip the numpy reference run.")
    var noNumpy = false

    func run() throws {
        let (dataset, path) = try dataOptions.load()
        var recipe = TrainingRecipe.seed
        recipe.epochs = epochs
        let start = Date()
        let result = Trainer(recipe: recipe, seed: 5).train(data: dataset.train, normalisation: dataset.normalisation)
        let seconds = Date().timeIntervalSince(start)
        let rate = Double(dataset.train.count * epochs) / seconds
        print(
            "aqcast epochs=\(epochs) windows=\(dataset.train.count) seconds=\(formatFixed(seconds, 3)) "
                + "windows_per_s=\(formatFixed(rate, 0)) val_loss=\(formatFixed(result.history.map(\.validationLoss).min()!, 6))"
        )
        guard !noNumpy else { return }
        let dataDirectory = (path as NSString).deletingLastPathComponent
        let script = numpy ?? "\(dataDirectory.isEmpty ? "." : dataDirectory)/../benchmarks/seed_numpy.py"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, path, String(epochs)]
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        environment["OMP_NUM_THREADS"] = "1"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let field = output.split(separator: " ").first(where: { $0.hasPrefix("seconds=") }),
            let numpySeconds = Double(field.dropFirst("seconds=".count))
        else {
            printError("the numpy reference run (\(script)) failed, status \(process.terminationStatus): \(output)")
            throw ExitCode.failure
        }
        print(output.trimmingCharacters(in: .whitespacesAndNewlines))
        print("ratio numpy_seconds/aqcast_seconds=\(formatFixed(numpySeconds / seconds, 1))")
    }
}

struct ForecastBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast",
        abstract: "Time one recursive forecast, against a 1-hour forecast through the same path as the reference.")

    @Option(help: "Model file (default: the shipped model).")
    var model: String?

    @Option(help: "Hours per forecast.")
    var hours: Int = 8

    @Option(help: "Repetitions.")
    var repetitions: Int = 20_000

    func run() throws {
        let file = try ModelFile.load(path: try model ?? ShippedFile.model())
        let forecaster = Forecaster(model: file)
        var rng = SeededGenerator(seed: 1)
        // Raw hours (the six features the daemon's window holds) of plausible values.
        let window = (0..<file.steps).flatMap { _ in
            [
                Double.random(in: 10...300, using: &rng), Double.random(in: -20...20, using: &rng),
                Double.random(in: -10...30, using: &rng), Double.random(in: 1000...1030, using: &rng),
                [0, 3, 6, 9, 12][Int.random(in: 0..<5, using: &rng)], Double.random(in: 0...8, using: &rng),
            ]
        }
        var sink = 0.0
        func time(_ body: () -> Void) -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<repetitions { body() }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / Double(repetitions) / 1000
        }
        _ = time { sink += forecaster.forecast(window: window, hours: hours)[0].pm25 }  // warm-up
        let single = time { sink += forecaster.forecast(window: window, hours: 1)[0].pm25 }
        let whole = time { sink += forecaster.forecast(window: window, hours: hours)[0].pm25 }
        print(
            "model \(file.architecture.hiddenSizes.map(String.init).joined(separator: ",")) "
                + "(\(file.architecture.parameterCount) parameters), \(repetitions) repetitions")
        print("1-hour forecast: \(formatFixed(single, 3)) us")
        print("\(hours)-hour recursive forecast: \(formatFixed(whole, 3)) us")
        print("ratio \(hours)-hour/1-hour=\(formatFixed(whole / single, 2)) (sink \(sink > 0 ? "+" : "-"))")
    }
}
