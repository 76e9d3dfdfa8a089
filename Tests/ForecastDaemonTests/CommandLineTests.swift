import Foundation
import ReadingLog
import Testing

/// The program's answers to a wrong command line and to a run that cannot be done, as a user
/// sees them: the first names the subcommand's usage, the second only says what went wrong.
@Suite struct CommandLineTests {
    /// `aqcast import --columns`: a network's own CSV into the reading log, units converted,
    /// what it lacks left empty, bad rows said with their line; bad options refused.
    @Test func importReadsACSVByItsColumns() throws {
        let state = temporaryDirectory()
        let csv = state + "/network.csv"
        try "id,ts,pm,temp\nn1,1700000000,12,68\nn1,1700003600,14,70\nn1,1700007200,x,70\n"
            .write(toFile: csv, atomically: true, encoding: .utf8)
        let (status, output) = try aqcast(
            [
                "import", "--csv", csv, "--columns", "time=ts,station=id,pm25=pm,temperature=temp",
                "--temperature-unit", "F", "--state-dir", state,
            ], seconds: 60)
        #expect(status == 0, "\(output)")
        #expect(output.contains("imported 2 readings (mapped layout) for n1"), "\(output)")
        #expect(output.contains("1 rows left out; the first: line 4: field 'pm' must be a number"), "\(output)")
        let logged = try ReadingLog(path: state + "/readings.sqlite").all()
        #expect(logged.map(\.pm25) == [12, 14] && abs(logged[0].temperature - 20) < 1e-9 && logged[0].pressure.isNaN)
        let (bad, why) = try aqcast(["import", "--csv", csv, "--columns", "pm25=pm"], seconds: 60)
        #expect(bad == 64 && why.contains("--columns: time=COLUMN is needed"), "\(why)")
    }

    @Test func aLogLevelTheDaemonDoesNotKnowIsRefusedWithTheRunUsage() throws {
        let (status, output) = try aqcast(["run", "--log-level", "loud"], seconds: 60)
        #expect(status == 64, "exit status for a wrong command line (EX_USAGE)")
        #expect(
            output.contains("--log-level must be trace, debug, info, notice, warning, error, got 'loud'"), "\(output)")
        #expect(output.contains("Usage: aqcast run"), "\(output)")
    }

    @Test func aRunThatCannotBeDoneSaysWhyWithoutTheUsage() throws {
        let missing = NSTemporaryDirectory() + "aqcast-no-such-\(UUID().uuidString).csv"
        let (status, output) = try aqcast(["forecast", "--csv", missing], seconds: 60)
        #expect(status == 1)
        #expect(output.contains("Error: cannot read \(missing)"), "\(output)")
        #expect(!output.contains("Usage:"), "a failed run printed the usage text: \(output)")
    }

    @Test func theVersionNamesTheReleaseAndTheShippedModel() throws {
        let (status, output) = try aqcast(["--version"], seconds: 60)
        #expect(status == 0)
        let lines = output.split(separator: "\n")
        #expect(lines.first?.hasPrefix("aqcast ") == true, "\(output)")
        let model = Shipped.model.identity(name: "aqcast-default.json")
        #expect(lines.dropFirst().first?.hasPrefix("shipped model \(model) (") == true, "\(output)")
    }
}
