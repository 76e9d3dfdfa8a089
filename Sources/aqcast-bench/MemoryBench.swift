import AirQuality
import ArgumentParser
import CommandSupport
import Foundation
import Training

/// What a forecasting station costs in memory, in process (no broker): its full window, then
/// a month of its running bias correction on top, as a station has after 30 days of forecasts
/// (what a restart reads back from the log).
struct MemoryBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract:
            "Resident memory per station in process: a full window, then a month of running bias correction on top.")

    @Option(help: "Stations held.")
    var stations: Int = 100_000

    @Option(help: "Days of bias correction per station (the daemon's default window; 0: none).")
    var days: Int = ForecastEngine.Settings().biasCorrectionDays

    @Option(help: "Model file (default: the shipped model).")
    var model: String?

    func run() throws {
        let file = try ModelFile.load(path: try model ?? ShippedFile.model())
        let base: Int64 = 385_000
        var settings = ForecastEngine.Settings()
        settings.biasCorrectionDays = days
        let engine = ForecastEngine(model: file, modelName: "bench", settings: settings)
        let windows = fillWindows(engine, stations: stations, base: base)
        report(
            "memory: \(stations) stations with full windows, \(formatFixed(windows, 0)) bytes resident per station")

        guard days > 0 else { return }
        // A month of errors at every hour ahead the daemon forecasts, as the log gives them
        // back at a restart; the restore then forecasts each station once, so each also waits
        // on its forecasts' hours.
        let before = residentBytes()
        let identity = file.identity(name: "bench")
        let today = BiasCorrection.day(of: base + 23)
        var logged: [(horizon: Int, bucket: BiasCorrection.Bucket)] = []
        for h in 1...ForecastEngine.Settings().horizonHours {
            for d in 0..<Int64(days) { logged.append((h, .init(day: today - d, sum: Double(h) * 2.5, count: 24))) }
        }
        var corrections: [String: BiasCorrection] = [:]
        for s in 0..<stations {
            corrections["station-\(s)"] = BiasCorrection(days: days, model: identity, buckets: logged)
        }
        var forecasts = engine.restore([], bias: corrections, now: Double(base + 24) * 3600)
        corrections = [:]
        let corrected = forecasts.filter { $0.hours.contains { $0.correction != 0 } }.count
        forecasts = []
        let after = residentBytes()
        report(
            "memory: \(corrected) of them with \(days) days of bias correction at \(ForecastEngine.Settings().horizonHours) hours ahead, \(formatFixed(Double(after - before) / Double(stations), 0)) more bytes resident per station"
        )
    }
}

/// Gives `stations` stations of `engine` a full day's window; the resident bytes it took per station.
func fillWindows(_ engine: ForecastEngine, stations: Int, base: Int64) -> Double {
    func payload(_ hour: Int64) -> [UInt8] {
        Array(
            "{\"time\":\(hour * 3600),\"pm25\":\(40 + hour % 50),\"dew_point\":-5,\"temperature\":3,\"pressure\":1016,\"wind_direction\":\"NW\",\"wind_speed\":2.2}"
                .utf8)
    }
    let before = residentBytes()
    let now = Double(base + 100) * 3600
    for s in 0..<stations {
        for h in 0..<24 {
            _ = engine.ingest(station: "station-\(s)", payload: payload(base + Int64(h)), retained: false, now: now)
        }
    }
    return Double(residentBytes() - before) / Double(stations)
}
