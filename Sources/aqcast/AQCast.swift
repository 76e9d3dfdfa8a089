import ArgumentParser

@main
struct AQCast: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aqcast",
        abstract: "Air-quality forecasts from a deep recurrent network.",
        subcommands: [TrainCommand.self, EvaluateCommand.self, ForecastCommand.self, BenchCommand.self])
}
