import AQCastTestSupport
import Foundation
import Testing

@testable import ForecastDaemon

@Suite struct ConfigurationTests {
    static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("config/aqcast.toml").path

    @Test func shippedSampleParsesToTheDefaults() throws {
        #expect(try ConfigurationFile.load(path: Self.sample) == DaemonConfiguration())
    }

    @Test func valuesOverrideDefaults() throws {
        let c = try ConfigurationFile.parse(
            "[broker]\nhost = \"mqtt.example\" # comment\nport = 8883\n[forecast]\nhorizon = 24\n", file: "t.toml")
        #expect(c.brokerHost == "mqtt.example" && c.brokerPort == 8883 && c.forecast.horizonHours == 24)
        let r = try ConfigurationFile.parse("[state]\nretention_days = 30\ncommit_interval_ms = 50\n", file: "t.toml")
        #expect(r.retentionDays == 30 && r.commitIntervalMilliseconds == 50)
        #expect(
            error("[state]\ncommit_interval_ms = 9\n")
                == "t.toml line 2, key state.commit_interval_ms: must be 10...5000, got 9")
        #expect(
            try ConfigurationFile.parse("[broker]\nprotocol = \"3.1.1\"\n", file: "t.toml").protocolVersion == "3.1.1")
        #expect(
            error("[broker]\nprotocol = \"4\"\n")
                == "t.toml line 2, key broker.protocol: must be \"auto\", \"5\" or \"3.1.1\", got \"4\"")
        #expect(
            error("[state]\nretention_days = 0\n")
                == "t.toml line 2, key state.retention_days: must be 1...36500, got 0")
    }

    func error(_ text: String) -> String? {
        do {
            _ = try ConfigurationFile.parse(text, file: "t.toml")
            return nil
        } catch {
            return error.description
        }
    }

    @Test func mistakesNameFileLineKeyAndReason() {
        #expect(error("[forecast]\nhorizon = 0\n") == "t.toml line 2, key forecast.horizon: must be 1...48, got 0")
        #expect(error("[forecast]\nhorizn = 8\n")?.hasPrefix("t.toml line 2, key forecast.horizn: unknown key") == true)
        #expect(
            error("[broker]\nport = \"1883\"\n") == "t.toml line 2, key broker.port: expected an integer, got a string")
        #expect(error("[brokers]\n")?.hasPrefix("t.toml line 1: unknown section [brokers]") == true)
        #expect(error("host = \"x\"\n") == "t.toml line 1, key host: key outside any [section]")
        #expect(error("[topics]\nreadings = \"aq/#\"\n")?.contains("exactly one + level") == true)
        #expect(error("[broker]\nhost = unquoted\n")?.contains("cannot read the value 'unquoted'") == true)
    }

    /// A key given twice, a section given twice and a fraction where a whole number belongs are
    /// refused with both lines or the right advice, not taken silently or answered with advice
    /// to quote strings.
    @Test func twiceGivenKeysAndFractionsAreRefused() {
        #expect(
            error("[forecast]\nhorizon = 8\n# again\nhorizon = 6\n")
                == "t.toml line 4, key forecast.horizon: set twice (first on line 2)")
        #expect(
            error("[forecast]\nhorizon = 8\n[broker]\nport = 1883\n[forecast]\nmax_gap_hours = 3\n")
                == "t.toml line 5: section [forecast] given twice (first on line 1)")
        #expect(
            error("[broker]\nport = 1883.5\n")
                == "t.toml line 2, key broker.port: '1883.5' is not a whole number (numbers here are integers)")
        #expect(error("[broker]\nport = 1883\n[forecast]\nhorizon = 8\n") == nil)
    }

    @Test func stationIsFoundAtThePlusLevel() {
        let p = TopicPattern("sensors/+/pm")!
        #expect(p.station(in: "sensors/roof-1/pm") == "roof-1")
        #expect(p.station(in: "sensors/roof-1/temp") == nil)
        #expect(p.station(in: "sensors/a/b/pm") == nil)
        #expect(TopicPattern("a/+/+") == nil)
    }
}
