import AirQuality
import ArgumentParser
import CommandSupport
import Foundation
import Training

struct ForecastCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast",
        abstract: "One recursive forecast from the 24 hours of a PRSA CSV up to a given hour, for a quick look.")

    @Option(help: "Model file (default: the shipped model).")
    var model: String?

    @Option(help: "PRSA-format CSV (default: the shipped Beijing 2010-2014 file).")
    var csv: String?

    @Option(help: "Last observed hour, as YYYY-MM-DDTHH (default: the file's last row).")
    var at: String?

    @Option(help: "Hours to forecast, 1...48.")
    var hours: Int = 8

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard (1...Forecaster.maximumHorizon).contains(hours) else {
            throw ValidationError("--hours must be 1...\(Forecaster.maximumHorizon), got \(hours)")
        }
    }

    func run() throws {
        let modelPath = try model ?? ShippedFile.model()
        let file = try ModelFile.load(path: modelPath)
        let path = try csv ?? ShippedFile.data()
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw CommandFailure("cannot read \(path)")
        }
        let records = try PRSAReader.parse(String(decoding: bytes, as: UTF8.self), file: path)
        guard records.count >= max(2, file.steps) else {
            throw CommandFailure("\(path) has \(records.count) rows; a forecast needs the last \(file.steps) hours")
        }
        let series = PreparedSeries(records: records)
        let end: Int
        if let at {
            guard let row = records.firstIndex(where: { $0.hourLabel == at }) else {
                throw CommandFailure("no row for hour \(at) in \(path) (expected the form 2014-06-01T12)")
            }
            end = row
        } else {
            end = records.count - 1
        }
        guard end + 1 >= file.steps else {
            throw CommandFailure("hour \(records[end].hourLabel) has fewer than \(file.steps) hours before it")
        }
        let n = PreparedSeries.featureCount
        let window = Array(series.features[((end + 1 - file.steps) * n)..<((end + 1) * n)])
        let forecast = Forecaster(model: file).forecast(window: window, hours: hours)
        let truth: [Double?] = forecast.map { end + $0.horizon < records.count ? records[end + $0.horizon].pm25 : nil }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(forecast), as: UTF8.self))
            return
        }
        let last = records[end].pm25.map { formatFixed($0, 0) } ?? "NA"
        print("last observed hour \(records[end].hourLabel): PM2.5 \(last) ug/m3; weather held at that hour")
        let levels = Forecaster(model: file).intervalLevels
        print("hours ahead  forecast  \(Int(levels.lower * 100))-\(Int(levels.upper * 100))% interval   observed")
        for (f, t) in zip(forecast, truth) {
            let observed = t.map { formatFixed($0, 0) } ?? "-"
            let interval = "\(formatFixed(f.lower, 0))..\(formatFixed(f.upper, 0))"
            print(pad(String(f.horizon), 11) + pad(formatFixed(f.pm25, 1), 10) + pad(interval, 17) + pad(observed, 11))
        }
    }
}

func pad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
