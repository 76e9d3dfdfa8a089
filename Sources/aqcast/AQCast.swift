import ArgumentParser
import CommandSupport

@main
struct AQCast: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aqcast",
        abstract: "Air-quality forecasts from a deep recurrent network.",
        version: AQCastVersion.line,
        subcommands: [
            RunCommand.self, ReplayCommand.self, ImportCommand.self, RetrainCommand.self, ModelsCommand.self,
            RollbackCommand.self,
            TrainCommand.self, EvaluateCommand.self, ForecastCommand.self, BacktestCommand.self, AccuracyCommand.self,
        ])
}
