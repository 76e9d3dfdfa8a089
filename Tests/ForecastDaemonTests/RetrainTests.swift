import AQCastTestSupport
import AirQuality
import Foundation
import ModelStore
import Testing

@testable import ForecastDaemon
@testable import Training

/// The program the retraining tests run: the release build that `scripts/test.sh` has just
/// made, which it names in `AQCAST_RELEASE_PROGRAM` (retraining takes seconds there and many
/// minutes in a debug build), else the debug build under test. Named, never guessed from file
/// times: a release build left by the demo can be older than the debug build and still current,
/// or newer and stale.
let fastBinary: String = {
    if let release = ProcessInfo.processInfo.environment["AQCAST_RELEASE_PROGRAM"],
        FileManager.default.isExecutableFile(atPath: release)
    {
        return release
    }
    return Shipped.binary
}()

/// Runs an aqcast command to its end: exit status and output.
func aqcast(_ arguments: [String], seconds: Double = 600) throws -> (status: Int32?, output: String) {
    let p = try ChildProcess(fastBinary, arguments)
    let status = p.wait(seconds: seconds)
    return (status, p.output)
}

/// The shipped PRSA file without 2014: the history a deployment would import.
let history2010to2013: String = {
    let path = NSTemporaryDirectory() + "aqcast-prsa-2010-2013-\(getpid()).csv"
    let all = try! String(
        contentsOfFile: Shipped.root.appendingPathComponent("data/PRSA_data_2010.1.1-2014.12.31.csv").path,
        encoding: .utf8)
    let kept = all.split(whereSeparator: \.isNewline).filter { !$0.contains(",2014,") }
    try! (kept.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
}()

@Suite(.serialized) struct RetrainTests {
    init() {
        #expect(FakeJournal.shared != nil, "the test journal socket could not be bound")
    }

    func changes(_ state: String) throws -> [ModelStore.Change] { try ModelStore(stateDirectory: state).changes() }

    @Test func tooLittleDataPromotesNothingAndExitsThree() throws {
        let state = temporaryDirectory()
        let csv = state + "/short.csv"
        let lines = try String(contentsOfFile: history2010to2013, encoding: .utf8).split(whereSeparator: \.isNewline)
        try (lines.prefix(400).joined(separator: "\n") + "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        #expect(try aqcast(["import", "--csv", csv, "--station", "s1", "--state-dir", state]).status == 0)
        let run = try aqcast(["retrain", "--state-dir", state])
        #expect(run.status == 3, "\(run.output)")
        #expect(run.output.contains("not retrained: too little data:"), "\(run.output)")
        #expect(try changes(state).map(\.action) == [.tooLittleData])
        #expect(ModelStore.promotedModel(stateDirectory: state) == nil)
    }

    /// PRSA 2010-2013 imported into the log; a candidate trained from it is promoted over a
    /// deliberately worse current model (the seed recipe after one epoch), the running daemon
    /// reloads it; the same candidate is refused against the shipped model, which is better on
    /// these held-out weeks (it was trained on them, and for many more epochs); rollback
    /// returns to the shipped model.
    @Test func retrainPromotesOnlyABetterModelAndTheDaemonReloadsIt() throws {
        let state = temporaryDirectory()
        #expect(
            try aqcast(["import", "--csv", history2010to2013, "--station", "beijing", "--state-dir", state]).status == 0
        )
        let worse = state + "/worse.json"
        let candidateOut = state + "/candidate.json"
        let trained = try aqcast([
            "train", "--recipe", "seed", "--epochs", "1", "--seed", "3", "--out", worse, "--quiet",
        ])
        #expect(trained.status == 0, "\(trained.output)")

        let broker = try Broker()
        let notify = try NotifySocket()
        let daemon = try ChildProcess(
            Shipped.binary, ["run", "--broker", "127.0.0.1:\(broker.port)", "--state-dir", state],
            environment: ["NOTIFY_SOCKET": notify.path])
        #expect(
            notify.collect(seconds: 10) { $0.contains("STATUS=connected to") }.last?.contains("STATUS=connected to")
                == true, "\(daemon.output)"
        )
        let journal = FakeJournal.shared!

        // The recursive recipe (the default) for a few epochs: it starts from persistence and
        // gets better from the first epoch.
        let promoted = try aqcast([
            "retrain", "--state-dir", state, "--model", worse, "--epochs", "3",
            "--reload-pid", "\(daemon.pid)", "--candidate-out", candidateOut,
        ])
        #expect(promoted.status == 0, "\(promoted.output)")
        #expect(promoted.output.contains("promoted \(state)/models/aqcast-"), "\(promoted.output)")
        let first = try changes(state).last
        #expect(first?.action == .promoted)
        let c = try #require(first)
        let candidate = try #require(c.candidateRMSE)
        #expect(candidate < (c.currentRMSE ?? 0) && candidate < (c.persistenceRMSE ?? 0), "\(c)")
        // The changelog keeps the figures by hour ahead, and what was held out: the default
        // eight weeks, one station, every one of its held-out hours an origin (less the few
        // whose next hours are missing).
        #expect(
            first?.candidateRMSEByHour?.count == 8 && first?.currentRMSEByHour?.count == 8
                && first?.persistenceRMSEByHour?.count == 8)
        #expect(
            first?.heldOutDays == 56 && first?.scoredStations == 1 && first?.heldOutFrom == "2013-11-06T00:00:00Z",
            "\(String(describing: first))")
        #expect((1_200...1_344).contains(first?.holdoutWindows ?? 0), "\(String(describing: first))")
        #expect(promoted.output.contains("hour | candidate   current  persistence"), "\(promoted.output)")
        #expect(promoted.output.contains("s: training on "), "\(promoted.output)")
        let promotedPath = try #require(ModelStore.promotedModel(stateDirectory: state))
        let model = try ModelFile.load(path: promotedPath)
        #expect(model.training.dataSource.hasPrefix("reading log "))
        // Once promoted, the candidate is trained again with the held-out weeks: the model put
        // in place has learnt up to the log's last hour, which the judged candidate had not.
        #expect(promoted.output.contains("s: promoted; training again on "), "\(promoted.output)")
        #expect(first?.refitted == true && (first?.refitRMSE ?? .infinity) <= candidate, "\(String(describing: first))")
        #expect(model.training.lastHour == "2013-12-31T23:00:00Z", "\(model.training)")
        let judged = try ModelFile.load(path: candidateOut)
        #expect(judged.training.lastHour < "2013-11-06T00:00:00Z", "\(judged.training)")
        let reloaded = journal.wait(seconds: 10) {
            $0["MESSAGE"] == "reloaded" && $0["MODEL"]?.hasPrefix("current.json") == true
        }
        #expect(reloaded != nil, "the daemon did not reload the promoted model: \(daemon.output)")

        // The gate scores with the daemon's configured bias correction: the default 30 days
        // above, none here.
        #expect(first?.biasCorrectionDays == 30, "\(String(describing: first))")
        #expect(promoted.output.contains("running bias correction over 30 days"), "\(promoted.output)")
        let uncorrected = state + "/uncorrected.toml"
        try "[forecast]\nbias_correction_days = 0\n".write(toFile: uncorrected, atomically: true, encoding: .utf8)
        let refused = try aqcast([
            "retrain", "--config", uncorrected, "--state-dir", state, "--model", Shipped.modelPath, "--epochs", "3",
        ])
        #expect(refused.status == 2, "\(refused.output)")
        #expect(
            refused.output.contains("not promoted: the candidate does not beat the current model"), "\(refused.output)")
        #expect(refused.output.contains("stations, no bias correction"), "\(refused.output)")
        #expect(try changes(state).map(\.action) == [.promoted, .refused])
        #expect(try changes(state).last?.biasCorrectionDays == 0)
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: promotedPath)) == model.encoded(),
            "a refusal changed the current model")

        let listing = try aqcast(["models", "--state-dir", state])
        #expect(listing.output.contains("* \(first?.current ?? "?")"), "\(listing.output)")
        #expect(listing.output.contains(" refused -> \(first?.current ?? "?")"), "\(listing.output)")
        #expect(
            listing.output.contains(" promoted -> \(first?.current ?? "?")")
                && listing.output.contains("; refitted with the held-out weeks (RMSE on them "),
            "\(listing.output)")

        let back = try aqcast(["rollback", "--state-dir", state, "--reload-pid", "\(daemon.pid)"])
        #expect(back.status == 0 && back.output.contains("now in use: the shipped model"), "\(back.output)")
        #expect(ModelStore.promotedModel(stateDirectory: state) == nil)
        #expect(
            journal.wait(seconds: 10) {
                $0["MESSAGE"] == "reloaded" && $0["MODEL"]?.hasPrefix("aqcast-default.json") == true
            } != nil)
        #expect(try aqcast(["rollback", "--state-dir", state]).status != 0, "nothing left to roll back")
        daemon.signal(SIGTERM)
        #expect(
            daemon.wait(seconds: 10) == 0,
            "\(daemon.output) \(journal.all().filter { $0["_PID"] == nil && $0["SYSLOG_IDENTIFIER"] == "aqcast" }.suffix(8).map { $0["MESSAGE"] ?? "" })"
        )
    }
}

@Suite struct GateDecisionTests {
    func scores(_ candidate: Double, _ current: Double, _ persistence: Double) -> Retraining.Scores {
        .init(
            candidate: candidate, current: current, persistence: persistence, candidateByHour: [], currentByHour: [],
            persistenceByHour: [], origins: 1, stations: 1)
    }

    @Test func promotesOnlyACandidateThatBeatsBoth() {
        #expect(
            Retraining.decide(scores(24.85, 27.59, 27.33))
                == .promote(reason: "beats the current model by 9.9% and persistence by 9.1%"))
        #expect(
            Retraining.decide(scores(24.85, 24.32, 27.33))
                == .refuse(reason: "the candidate does not beat the current model"))
        #expect(Retraining.decide(scores(28, 30, 27.33)) == .refuse(reason: "the candidate does not beat persistence"))
        #expect(
            Retraining.decide(scores(25, 25, 27)) == .refuse(reason: "the candidate does not beat the current model"),
            "a tie is not a gain")
    }
}
