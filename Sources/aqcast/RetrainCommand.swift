import AirQuality
import ArgumentParser
import CommandSupport
import ForecastDaemon
import Foundation
import ModelStore
import ReadingLog
import Training

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
            The newest --holdout-days of the log are held out; the candidate, the current model and \
            persistence forecast them through the daemon's engine (weather held), and the candidate is \
            promoted only if its RMSE over forecast hours 1-8 is lower than both.
            Exit status: 0 promoted, 2 not promoted (the candidate was not better), 3 too little data.
            """)

    static let notBetter = ExitCode(2)
    static let tooLittleData = ExitCode(3)

    @OptionGroup var state: StateOptions

    @Option(help: "Current model to beat (default: the one the daemon runs).")
    var model: String?

    @Option(help: "Newest days held out for the comparison.")
    var holdoutDays: Int = Retraining.defaultHoldoutDays

    @Option(help: "Training recipe: recursive (the shipped model's), default or seed (one hour ahead).")
    var recipe: String = "recursive"

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(help: "Override the recipe's number of epochs.")
    var epochs: Int?

    @Option(help: "Also write the candidate model here, promoted or not (to inspect or backtest it).")
    var candidateOut: String?

    @Option(help: "After a promotion, send SIGHUP to this process id (the daemon) so it reloads.")
    var reloadPid: Int32?

    @Flag(help: "With the recursive recipe: train on the reading log alone, not pooled with the shipped histories.")
    var logOnly = false

    @Flag(
        help:
            "With the recursive recipe: promote the candidate as the gate judged it, not trained again with the held-out weeks."
    )
    var noRefit = false

    @Flag(help: "Print only the outcome.")
    var quiet = false

    func validate() throws {
        guard TrainingRecipe.named(recipe) != nil else {
            throw ValidationError("--recipe must be recursive, default or seed, got '\(recipe)'")
        }
        guard (1...365).contains(holdoutDays) else { throw ValidationError("--holdout-days must be 1...365") }
        if let epochs, !(1...10_000).contains(epochs) { throw ValidationError("--epochs must be 1...10000") }
    }

    func run() throws {
        let c = try state.load()
        let currentPath = try model ?? modelInUse(c)
        let current = try ModelFile.load(path: currentPath)
        let logPath = ReadingLog.path(inStateDirectory: c.stateDirectory)
        guard FileManager.default.fileExists(atPath: logPath) else {
            throw CommandFailure("no reading log at \(logPath)")
        }
        let log = try ReadingLog(path: logPath)
        var chosen = TrainingRecipe.named(recipe)!
        if let epochs { chosen.epochs = epochs }
        let course = try DataOptions.course()
        var retraining = Retraining(
            recipe: chosen, seed: seed, holdoutDays: holdoutDays, maximumGapHours: c.forecast.maximumGapHours)
        retraining.biasCorrectionDays = c.forecast.biasCorrectionDays
        let store = ModelStore(stateDirectory: c.stateDirectory)
        let now = ModelStore.isoTime(Date())
        let currentVersion = try store.currentVersion() ?? ""
        let say: (String) -> Void = { if !quiet { printError($0) } }
        say(
            "retraining on \(logPath) (\(chosen.name) recipe, newest \(holdoutDays) days held out); current model \(currentPath)"
        )
        signal(SIGINT) { _ in interruptRequested.store(true, ordering: .relaxed) }
        defer { signal(SIGINT, SIG_DFL) }
        let progress = TrainingProgress(epochs: chosen.epochs, quiet: quiet)
        let started = Date()
        // The shipped histories' hours the shipped model trained on, pooled with the log.
        let priorFiles = logOnly || chosen.recursiveEncoding == nil ? [] : try ShippedFile.histories()
        let prior = try TrainCommand.histories(priorFiles, say: say)
        let source = (["reading log \(logPath)"] + priorFiles.map { URL(fileURLWithPath: $0).lastPathComponent })
            .joined(separator: " ")
        let stage: (Retraining.Stage) -> Void = { stage in
            let at = formatFixed(Date().timeIntervalSince(started), 1)
            switch stage {
            case .read(let readings, let hours, let heldOut):
                say(
                    "\(at) s: read \(readings) readings: \(hours) station-hours to train on, \(heldOut) readings held out"
                )
            case .training(let samples):
                say("\(at) s: training on \(samples) windows, up to \(chosen.epochs) epochs")
            case .scoring(let origins, let stations):
                say(
                    "\(at) s: scoring the candidate, the current model and persistence on \(origins) held-out station-hours (\(stations) stations)"
                )
            case .refitting(let samples):
                say("\(at) s: promoted; training again on \(samples) windows, the held-out weeks included")
            }
        }
        let stop = { interruptRequested.load(ordering: .relaxed) }
        let outcome = try retraining.run(
            log: log, current: current, course: course, source: source, prior: prior, stage: stage,
            progress: progress.epoch, shouldStop: stop)
        switch outcome {
        case .tooLittleData(let why):
            try store.record(.init(time: now, action: .tooLittleData, current: currentVersion, reason: why))
            printError("not retrained: too little data: \(why)")
            throw Self.tooLittleData
        case .scored(let candidate, let s, let trainWindows, let split):
            if let candidateOut { try candidate.write(path: candidateOut) }
            print(
                Self.table(
                    s, heldOutFrom: isoHour(split), days: holdoutDays, biasCorrectionDays: retraining.biasCorrectionDays
                ),
                terminator: "")
            let figures =
                "held-out RMSE (forecast hours 1-8, \(s.origins) origins): candidate \(formatFixed(s.candidate, 2)), "
                + "current \(formatFixed(s.current, 2)), persistence \(formatFixed(s.persistence, 2)) µg/m³"
            var change = ModelStore.Change(
                time: now, action: .refused, current: currentVersion, reason: "", candidateRMSE: s.candidate,
                currentRMSE: s.current, persistenceRMSE: s.persistence, trainWindows: trainWindows,
                holdoutWindows: s.origins)
            change.candidateRMSEByHour = s.candidateByHour
            change.currentRMSEByHour = s.currentByHour
            change.persistenceRMSEByHour = s.persistenceByHour
            change.heldOutFrom = isoHour(split)
            change.heldOutDays = holdoutDays
            change.scoredStations = s.stations
            change.biasCorrectionDays = retraining.biasCorrectionDays
            switch Retraining.decide(s) {
            case .refuse(let reason):
                change.reason = reason
                try store.record(change)
                printError("not promoted: \(reason); \(figures)")
                throw Self.notBetter
            case .promote(let reason):
                change.action = .promoted
                change.reason = reason
            }
            var promoted = candidate
            if !noRefit {
                switch try retraining.refit(
                    log: log, candidate: candidate, course: course, source: source, prior: prior, stage: stage,
                    progress: progress.epoch, shouldStop: stop)
                {
                case .refitted(let model, let rmse, let candidateRMSE):
                    promoted = model
                    change.refitted = true
                    change.refitRMSE = rmse
                    say(
                        "refitted: held-out RMSE \(formatFixed(rmse, 2)) µg/m³ on weeks it now trained on (the candidate's \(formatFixed(candidateRMSE, 2)))"
                    )
                case .kept(let why):
                    change.refitted = false
                    printError("not refitted, the candidate is promoted as judged: \(why)")
                }
            }
            let name = try store.promote(promoted, change: change)
            print("promoted \(store.directory)/\(name): \(change.reason); \(figures)")
            if let pid = reloadPid {
                guard kill(pid, SIGHUP) == 0 else {
                    throw CommandFailure(
                        "promoted, but could not signal process \(pid): \(String(cString: strerror(errno)))")
                }
                print("asked process \(pid) to reload")
            }
        }
    }

    /// The three RMSEs by hour ahead, as the changelog records them.
    static func table(_ s: Retraining.Scores, heldOutFrom: String, days: Int, biasCorrectionDays: Int) -> String {
        func pad(_ t: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - t.count)) + t }
        let correction =
            biasCorrectionDays > 0
            ? "each model's running bias correction over \(biasCorrectionDays) days" : "no bias correction"
        var out =
            "held out: \(days) days from \(heldOutFrom), \(s.origins) origins at \(s.stations) stations, \(correction)\n"
        out += "hour | candidate   current  persistence   (RMSE, ug/m3)\n"
        for k in s.candidateByHour.indices {
            out +=
                pad("\(k + 1)", 4) + " | " + pad(formatFixed(s.candidateByHour[k], 2), 9)
                + pad(formatFixed(s.currentByHour[k], 2), 10) + pad(formatFixed(s.persistenceByHour[k], 2), 13) + "\n"
        }
        out +=
            " all | " + pad(formatFixed(s.candidate, 2), 9) + pad(formatFixed(s.current, 2), 10)
            + pad(formatFixed(s.persistence, 2), 13) + "\n"
        return out
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
        print("changelog (held-out RMSE over forecast hours 1-8, µg/m³):")
        for ch in try store.changes() {
            let rmse =
                ch.candidateRMSE.map {
                    " candidate \(formatFixed($0, 2)) current \(formatFixed(ch.currentRMSE ?? .nan, 2)) persistence \(formatFixed(ch.persistenceRMSE ?? .nan, 2))"
                } ?? ""
            let refit =
                switch (ch.refitted, ch.refitRMSE) {
                case (true?, let r?): "; refitted with the held-out weeks (RMSE on them \(formatFixed(r, 2)))"
                case (false?, _): "; written as judged, not refitted"
                default: ""
                }
            let version = ch.current.isEmpty ? "shipped" : ch.current
            print("\(ch.time) \(ch.action.rawValue) -> \(version):\(rmse) \(ch.reason)\(refit)")
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
            throw CommandFailure("could not signal process \(pid): \(String(cString: strerror(errno)))")
        }
    }
}
