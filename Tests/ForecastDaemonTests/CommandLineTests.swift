import Foundation
import Testing

/// The program's answers to a wrong command line and to a run that cannot be done, as a user
/// sees them: the first names the subcommand's usage, the second only says what went wrong.
@Suite struct CommandLineTests {
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
