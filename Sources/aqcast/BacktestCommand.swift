import AirQuality
import ArgumentParser
import CommandSupport
import Foundation
import ReadingLog
import Training

struct BacktestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Score a model on a history through the daemon's own forecast path, beside persistence.",
        discussion: """
            Every reading of the history goes through the daemon's engine (its windows, gap rules, \
            held weather, recursion and intervals); every forecast from an origin hour in \
            --from..<--to is compared with the hour's true PM2.5, and so is persistence on the same \
            pairs. Prints RMSE, MAE, gain over persistence, bias and interval coverage by horizon \
            and PM2.5 band, pooled and per station.
            """)

    @Option(help: "Model file (default: the shipped model).")
    var model: String?

    @Option(help: "History CSV in the PRSA or the multi-site layout (repeatable).")
    var csv: [String] = []

    @Option(help: "Also score the reading log in this state directory (readings.sqlite).")
    var stateDir: String?

    @Option(help: "Station name for a PRSA-layout file (default: the file name).")
    var station: String?

    @Option(help: "First origin hour scored, UTC (yyyy-mm-dd or yyyy-mm-ddThh).")
    var from: String?

    @Option(help: "Origins before this hour are scored, UTC (yyyy-mm-dd or yyyy-mm-ddThh).")
    var to: String?

    @Option(help: "Hours ahead (1...48).")
    var horizon = 8

    @Option(
        help: """
            Weather for the hours ahead: held (as the daemon without a weather forecast), forecast \
            (the history's own with an ordinary forecast's errors, drawn from --weather-seed) or \
            observed (the history's own, an upper bound); several, comma-separated, are each \
            reported and then compared.
            """)
    var weather: String = Backtest.Weather.held.rawValue

    @Option(help: "Seed of the forecast weather's errors.")
    var weatherSeed: UInt64 = 1

    @Option(help: "The forecast weather's errors multiplied by this (2: a forecast twice as poor).")
    var weatherErrorScale = 1.0

    @Option(help: "Missing hours interpolated in a window, as the daemon's max_gap_hours.")
    var maxGapHours = 3

    @Option(
        help:
            "Days of each station's own errors its bias correction averages, as the daemon's bias_correction_days (0: off)."
    )
    var biasCorrectionDays = ForecastEngine.Settings().biasCorrectionDays

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    @Option(
        help:
            "Write every scored forecast hour to this CSV (station,origin,horizon,time,truth,forecast,lower,upper,persistence)."
    )
    var forecasts: String?

    func validate() throws {
        if csv.isEmpty && stateDir == nil { throw ValidationError("give at least one --csv or a --state-dir") }
        guard (1...Forecaster.maximumHorizon).contains(horizon) else {
            throw ValidationError("--horizon must be 1...\(Forecaster.maximumHorizon), got \(horizon)")
        }
        for name in weathers where Backtest.Weather(rawValue: name) == nil {
            throw ValidationError("--weather must be held, forecast or observed (comma-separated), got '\(name)'")
        }
        guard (0...365).contains(biasCorrectionDays) else {
            throw ValidationError("--bias-correction-days must be 0...365, got \(biasCorrectionDays)")
        }
        guard weatherErrorScale.isFinite, weatherErrorScale >= 0 else {
            throw ValidationError("--weather-error-scale must be a number at least 0, got \(weatherErrorScale)")
        }
        for (name, value) in [("--from", from), ("--to", to)] {
            if let value, Self.hour(value) == nil {
                throw ValidationError("\(name) '\(value)' is not a date (yyyy-mm-dd) or an hour (yyyy-mm-ddThh), UTC")
            }
        }
    }

    /// Hours since 1970 of `yyyy-mm-dd` or `yyyy-mm-ddThh` (UTC).
    static func hour(_ text: String) -> Int64? {
        let full = text.count == 10 ? text + "T00:00:00Z" : text.count == 13 ? text + ":00:00Z" : text
        return (try? RFC3339.parse(full.utf8).get()).map { hourContaining($0) }
    }

    func run() throws {
        let path = try model ?? ShippedFile.model()
        let file = try ModelFile.load(path: path)
        var readings: [Reading] = []
        for name in csv { readings += try HistoryFile.readings(path: name, station: station).readings }
        if let stateDir { readings += try ReadingLog(path: ReadingLog.path(inStateDirectory: stateDir)).all() }
        var options = Backtest.Options()
        options.horizon = horizon
        options.maximumGapHours = maxGapHours
        options.biasCorrectionDays = biasCorrectionDays
        options.weatherSeed = weatherSeed
        options.weatherErrors = ForecastWeatherErrors().scaled(by: weatherErrorScale)
        if let from { options.from = Self.hour(from)! }
        if let to { options.to = Self.hour(to)! }
        var rows: [String] = []
        if forecasts != nil {
            rows.append("weather,station,origin,horizon,time,truth,forecast,lower,upper,persistence")
        }
        let name = URL(fileURLWithPath: path).lastPathComponent
        var reports: [(weather: String, report: BacktestReport)] = []
        for kind in weathers {
            options.weather = Backtest.Weather(rawValue: kind)!
            let report = Backtest.run(model: file, modelName: name, readings: readings, options: options) { r in
                guard forecasts != nil else { return }
                rows.append(
                    "\(kind),\(r.station),\(isoHour(r.originHour)),\(r.horizon),"
                        + "\(isoHour(r.originHour + Int64(r.horizon))),"
                        + "\(r.truth),\(r.forecast),\(r.lower),\(r.upper),\(r.persistence)")
            }
            reports.append((kind, report))
        }
        if let forecasts { try writeText(rows.joined(separator: "\n") + "\n", to: forecasts) }
        if json {
            let each = reports.map { report in
                report.report.json(model: file.identity(name: name), weather: report.weather)
            }
            print(each.count == 1 ? each[0] : "[" + each.joined(separator: ",") + "]")
            return
        }
        let stations = reports.first?.report.stations.count ?? 0
        let span = [from.map { "from \($0)" }, to.map { "to \($0)" }].compactMap { $0 }.joined(separator: " ")
        print("model: \(file.identity(name: name))")
        print(
            "history: \(readings.count) readings, \(stations) stations\(span.isEmpty ? "" : ", origins \(span)") (UTC)")
        for (kind, report) in reports {
            let detail = kind == "forecast" ? " (errors ×\(weatherErrorScale), seed \(weatherSeed))" : ""
            print("\nweather \(kind)\(detail)")
            print(report.table(), terminator: "")
        }
        if reports.count > 1 { print("\n" + BacktestReport.comparison(reports), terminator: "") }
    }

    var weathers: [String] { weather.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
}
