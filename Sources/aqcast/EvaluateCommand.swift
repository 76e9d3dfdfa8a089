import AirQuality
import ArgumentParser
import CommandSupport
import Foundation
import Training

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Recursive forecasts over the test year, model beside persistence (the course's protocol).")

    @OptionGroup var dataOptions: DataOptions

    @Option(help: "Model file (default: the shipped model).")
    var model: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(help: "Write every test prediction to this CSV (protocol,p,window,horizon,pm25).")
    var predictions: String?

    @Option(help: "Write an HTML report (loss curves, predicted vs true, the table) into this directory.")
    var report: String?

    func run() throws {
        let path = try model ?? ShippedFile.model()
        let file = try ModelFile.load(path: path)
        // A model of another encoding is reported on the course's own ranges (see courseRuns).
        let (dataset, _) = try dataOptions.load(normalisation: file.encoding == nil ? file.normalisation : nil)
        let runs = file.courseRuns(dataset)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            print(String(decoding: try encoder.encode(runs.summary), as: UTF8.self))
        } else {
            print(
                "model: \(path) (\(file.training.recipe.name) recipe, seed \(file.training.seed), "
                    + "hidden \(file.architecture.hiddenSizes.map(String.init).joined(separator: ",")), "
                    + "\(file.architecture.parameterCount) parameters)")
            print(runs.summary.table(), terminator: "")
        }
        if let predictions {
            try writeText(runs.predictionsCSV(normalisation: dataset.normalisation), to: predictions)
        }
        if let report {
            try FileManager.default.createDirectory(atPath: report, withIntermediateDirectories: true)
            let page = HTMLReport(model: file, modelPath: path, runs: runs, dataset: dataset).render()
            try writeText(page, to: report + "/index.html")
            printError("wrote \(report)/index.html")
        }
    }
}
