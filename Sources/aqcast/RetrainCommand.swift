import AirQuality
import ArgumentParser
import ForecastDaemon
import Foundation
import ReadingLog

/// The model the daemon runs with this configuration: the configured path, else the promoted
/// model in the state directory, else the shipped one.
func modelInUse(_ c: DaemonConfiguration) throws -> String {
    if !c.modelPath.isEmpty { return c.modelPath }
    return try ModelStore.promotedModel(stateDirectory: c.stateDirectory) ?? ShippedFile.model()
}

/// Options of the commands that work on the state directory's models.
struct StateOptions: ParsableArguments {
    @Option(help: "Daemon configuration file (state directory, gap limit, model path).")
    var config: String?

    @Option(help: "State directory, overriding the configuration.")
    var stateDir: String?

    func load() throws -> DaemonConfiguration {
        var c = DaemonConfiguration()
        if let config { c = try ConfigurationFile.load(path: config) }
        if let stateDir { c.stateDirectory = stateDir }
        return c
    }
}

struct RetrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrain",
        abstract: "Train on the reading log; promote the new model only if it beats the current one and persistence.",
        discussion: """
            Exit status: 0 promoted, 2 not promoted (the candidate was not better), 3 too little data.
            """)

    static let notBetter = ExitCode(2)
    static let tooLittleData = ExitCode(3)

    @OptionGroup var state: StateOptions

    @Option(help: "Current model to beat (default: the one the daemon runs).")
    var model: String?

    @Option(help: "Newest days held out for the comparison.")
    var holdoutDays: Int = 14

    @Option(help: "Training recipe: default or seed.")
    var recipe: String = "default"

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(help: "Override the recipe's number of epochs.")
    var epochs: Int?

    @Option(help: "Also write the candidate model here, promoted or not (to inspect or evaluate it).")
    var candidateOut: String?

    @Option(help: "After a promotion, send SIGHUP to this process id (the daemon) so it reloads.")
    var reloadPid: Int32?

    func validate() throws {
        guard let chosen = TrainingRecipe.named(recipe) else { throw ValidationError("--recipe must be seed or default") }
        guard chosen.recursiveEncoding == nil else {
            throw ValidationError("--recipe \(recipe) cannot retrain from the reading log yet; use default (or seed)")
        }
        guard (1...365).contains(holdoutDays) else { throw ValidationError("--holdout-days must be 1...365") }
        if let epochs, !(1...10_000).contains(epochs) { throw ValidationError("--epochs must be 1...10000") }
    }

    func run() throws {
        let c = try state.load()
        let currentPath = try model ?? modelInUse(c)
        let current = try ModelFile.load(path: currentPath)
        let logPath = c.stateDirectory + "/readings.sqlite"
        guard FileManager.default.fileExists(atPath: logPath) else {
            throw ValidationError("no reading log at \(logPath)")
        }
        let readings = try ReadingLog(path: logPath).all()
        var chosen = TrainingRecipe.named(recipe)!
        if let epochs { chosen.epochs = epochs }
        let retraining = Retraining(recipe: chosen, seed: seed, holdoutDays: holdoutDays, maximumGapHours: c.maximumGapHours)
        let store = ModelStore(stateDirectory: c.stateDirectory)
        let now = ModelStore.isoTime(Date())
        let currentVersion = try store.currentVersion() ?? ""
        print("retraining on \(readings.count) readings from \(logPath); current model \(currentPath)")
        signal(SIGINT) { _ in interruptRequested.store(true, ordering: .relaxed) }
        let outcome = retraining.run(
            readings: readings, current: current, source: "reading log \(logPath)",
            progress: { r in
                print("epoch \(r.epoch) train loss \(formatFixed(r.trainLoss, 6)) validation loss \(formatFixed(r.validationLoss, 6))\(r.isBest ? " *" : "")")
            },
            shouldStop: { interruptRequested.load(ordering: .relaxed) })
        switch outcome {
        case .tooLittleData(let why):
            try store.record(.init(time: now, action: "too_little_data", current: currentVersion, reason: why))
            printError("not retrained: too little data: \(why)")
            throw Self.tooLittleData
        case .scored(let candidate, let candidateRMSE, let currentRMSE, let persistenceRMSE, let trainWindows, let holdoutWindows):
            let figures = "held-out RMSE (forecast hours 1-8 through the daemon's engine, \(holdoutWindows) windows): candidate \(formatFixed(candidateRMSE, 2)), "
                + "current \(formatFixed(currentRMSE, 2)), persistence \(formatFixed(persistenceRMSE, 2)) µg/m³"
            if let candidateOut { try candidate.write(path: candidateOut) }
            print("the candidate on the held-out days:")
            print(candidate.evaluation.table(), terminator: "")
            print(figures)
            var change = ModelStore.Change(
                time: now, action: "refused", current: currentVersion, reason: "", candidateRMSE: candidateRMSE,
                currentRMSE: currentRMSE, persistenceRMSE: persistenceRMSE, trainWindows: trainWindows,
                holdoutWindows: holdoutWindows)
            guard candidateRMSE < currentRMSE, candidateRMSE < persistenceRMSE else {
                change.reason = candidateRMSE >= currentRMSE
                    ? "the candidate does not beat the current model" : "the candidate does not beat persistence"
                try store.record(change)
                printError("not promoted: \(change.reason); \(figures)")
                throw Self.notBetter
            }
            change.action = "promoted"
            change.reason = "beats the current model by \(formatFixed((1 - candidateRMSE / currentRMSE) * 100, 1))% "
                + "and persistence by \(formatFixed((1 - candidateRMSE / persistenceRMSE) * 100, 1))%"
            let name = try store.promote(candidate, change: change)
            print("promoted \(store.directory)/\(name): \(change.reason)")
            if let pid = reloadPid {
                guard kill(pid, SIGHUP) == 0 else {
                    throw ValidationError("promoted, but could not signal process \(pid): \(String(cString: strerror(errno)))")
                }
                print("asked process \(pid) to reload")
            }
        }
    }
}

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models", abstract: "List the retrained model versions and the changelog of their figures.")

    @OptionGroup var state: StateOptions

    func run() throws {
        let c = try state.load()
        let store = ModelStore(stateDirectory: c.stateDirectory)
        let current = try store.currentVersion()
        print("in use: \(try modelInUse(c))\(current == nil && c.modelPath.isEmpty ? " (shipped)" : "")")
        print("versions in \(store.directory):")
        for v in store.versions() { print("\(v == current ? "*" : " ") \(v)") }
        print("changelog (held-out RMSE, live protocol, µg/m³):")
        for ch in try store.changes() {
            let rmse = ch.candidateRMSE.map {
                " candidate \(formatFixed($0, 2)) current \(formatFixed(ch.currentRMSE ?? .nan, 2)) persistence \(formatFixed(ch.persistenceRMSE ?? .nan, 2))"
            } ?? ""
            print("\(ch.time) \(ch.action) -> \(ch.current.isEmpty ? "shipped" : ch.current):\(rmse) \(ch.reason)")
        }
    }
}

struct RollbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback", abstract: "Go back one model version (to the shipped model after the first).")

    @OptionGroup var state: StateOptions

    @Option(help: "Send SIGHUP to this process id (the daemon) so it reloads.")
    var reloadPid: Int32?

    func run() throws {
        let c = try state.load()
        let now = try ModelStore(stateDirectory: c.stateDirectory).rollback()
        print("now in use: \(now ?? "the shipped model")")
        if let pid = reloadPid, kill(pid, SIGHUP) != 0 {
            throw ValidationError("could not signal process \(pid): \(String(cString: strerror(errno)))")
        }
    }
}
