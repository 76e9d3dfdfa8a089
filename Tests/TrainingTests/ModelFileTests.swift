import DeepRNN
import Foundation
import ModelStore
import Testing

@testable import AirQuality
@testable import Training

@Suite struct ModelFileTests {
    static let data = try! PRSADataset(csv: syntheticCSV(hours: 300), file: "synthetic")
    static let file: ModelFile = {
        var recipe = TrainingRecipe.default
        recipe.epochs = 1
        recipe.validation = .heldOutBlocks(blockHours: 48, every: 3)
        let result = Trainer(recipe: recipe, seed: 1).train(data: data.train, normalisation: data.normalisation)
        return ModelFile(trained: result, dataset: data, recipe: recipe, seed: 1, dataSource: "synthetic")
    }()

    func refusal(_ text: String) -> String? {
        do {
            _ = try ModelFile.decode(Data(text.utf8), path: "m.json")
            return nil
        } catch {
            return error.description
        }
    }

    var json: String { String(decoding: try! Self.file.encoded(), as: UTF8.self) }

    @Test func roundTripKeepsEverything() throws {
        let back = try ModelFile.decode(try Self.file.encoded(), path: "m.json")
        #expect(back.network == Self.file.network)
        #expect(back.normalisation == Self.file.normalisation)
        #expect(back.evaluation == Self.file.evaluation)
        #expect(back.residualQuantiles == Self.file.residualQuantiles)
        #expect(back.training.recipe == Self.file.training.recipe && back.training.seed == 1)
        #expect(back.features == Feature.names && back.version == ModelFile.currentVersion)
    }

    @Test func writesAtomicallyAndLoadsFromDisk() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("aqcast-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.file.write(path: path)
        #expect(try ModelFile.load(path: path).network == Self.file.network)
        #expect(throws: ModelFileError.self) { try ModelFile.load(path: path + ".missing") }
    }

    @Test func truncatedFileIsRefused() {
        let text = json
        let cut = String(text.prefix(text.count / 2))
        #expect(refusal(cut) == "model file m.json: not valid JSON (truncated or corrupt file?)")
    }

    @Test func unknownVersionIsRefused() {
        let text = json.replacingOccurrences(of: "\"version\" : 3", with: "\"version\" : 7")
        #expect(refusal(text)?.contains("format version 7 is not supported") == true)
    }

    @Test func wrongNumberOfWeightsIsRefused() throws {
        var object = try JSONSerialization.jsonObject(with: try Self.file.encoded()) as! [String: Any]
        object["parameters"] = Array((object["parameters"] as! [Double]).dropLast())
        let text = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        let n = Self.file.architecture.parameterCount
        #expect(refusal(text) == "model file m.json: \(n - 1) weights for an architecture of \(n)")
    }

    @Test func missingFieldAndWrongTypeNameTheirPlace() throws {
        var object = try JSONSerialization.jsonObject(with: try Self.file.encoded()) as! [String: Any]
        object.removeValue(forKey: "normalisation")
        var text = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        #expect(refusal(text)?.contains("missing key 'normalisation'") == true)
        object = try JSONSerialization.jsonObject(with: try Self.file.encoded()) as! [String: Any]
        object["steps"] = "24"
        text = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        #expect(refusal(text)?.contains("wrong type at steps") == true)
    }

    @Test func nonFiniteWeightAndBadRangesAreRefused() {
        var f = Self.file
        f.parameters[3] = .nan
        #expect(f.validationProblem() == "weight 3 is nan (not finite)")
        f = Self.file
        f.normalisation.features[2] = MinMaxRange(min: 5, max: 5)
        #expect(f.validationProblem() == "normalisation: feature 2 range is empty (min 5.0, max 5.0)")
        f = Self.file
        f.features = ["pm25"]
        #expect(f.validationProblem()?.hasPrefix("features are [\"pm25\"]") == true)
    }
}

@Suite struct DamagedModelTests {
    let file = ModelFileTests.file

    func loadProblem(_ f: ModelFile) -> String? {
        do {
            _ = try ModelFile.decode(try f.encoded(), path: "m.json")
            return nil
        } catch {
            return (error as? ModelFileError)?.reason ?? "\(error)"
        }
    }

    /// A file that parses and is consistent but whose weights were changed: one weight set to
    /// 1e308 once reloaded and published a steady ramp of wrong forecasts.
    @Test func aChangedWeightIsFoundByTheChecksum() {
        #expect(loadProblem(file) == nil)
        var f = file
        f.parameters[5] = 1e308
        #expect(loadProblem(f)?.hasPrefix("the weights do not match their checksum") == true)
    }

    /// The checksum is required in the format written now, and only noted as missing in the
    /// formats written before it.
    @Test func aMissingChecksumIsRefusedInTheCurrentFormatAndNotedInOlderOnes() {
        var f = file
        f.weightsChecksum = nil
        #expect(
            loadProblem(f)
                == "weights_checksum is missing; format version 3 always carries it (a damaged or edited file)")
        // The course's inputs, as version 1 wrote them.
        f.version = 1
        #expect(f.encoding == nil && loadProblem(f) == nil)
        #expect(f.uncheckedWeightsNote?.hasPrefix("format version 1 without weights_checksum") == true)
        #expect(file.uncheckedWeightsNote == nil)
    }

    @Test func weightsAndRangesBeyondAnyTrainedModelAreRefused() {
        var f = file
        f.parameters[5] = 1e308
        f.weightsChecksum = ModelFile.fingerprint(f.parameters)
        #expect(loadProblem(f) == "weight 5 is 1e+308, beyond ±1000.0 (no trained model has such weights)")
        f = file
        f.normalisation.features[3] = MinMaxRange(min: 0, max: 1e6)
        #expect(loadProblem(f)?.hasPrefix("the range of pressure, 0.0...1000000.0, is outside") == true)
    }

    /// Sane weights, sane ranges, a valid checksum, and still nonsense: the probe forecast finds it.
    @Test func aModelWhoseProbeForecastIsOutOfRangeIsRefused() {
        var f = file
        let bias = f.network.layout.outputBias!
        f.parameters[bias] = 900
        f.weightsChecksum = ModelFile.fingerprint(f.parameters)
        #expect(f.validationProblem() == nil)
        #expect(loadProblem(f)?.hasPrefix("its probe forecast (a steady 50 µg/m³) gives") == true)
    }
}

@Suite struct ShippedModelTests {
    @Test func shippedModelLoadsAndReproducesItsRecordedFigures() throws {
        let file = try ModelFile.load(path: Repository.modelPath)
        let runs = file.courseRuns(Repository.dataset)
        // Same weights, same data, deterministic arithmetic: the figures recorded at training
        // time (and quoted in README.md) come back exactly.
        #expect(runs.summary == file.evaluation)
        for p in EvaluationSummary.predictionLengths {
            let r = runs.summary.result(.oracle, p: p)!
            #expect(r.modelRmse < r.persistenceRmse, "p=\(p)")
        }
    }

    @Test func forecasterMatchesTheLiveProtocol() throws {
        let file = try ModelFile.load(path: Repository.modelPath)
        let data = Repository.dataset
        let live = file.courseRuns(data).run(.live, p: 8)!
        let forecaster = Forecaster(model: file)
        let n = PreparedSeries.featureCount
        for block in [0, 131, 1000] {
            let first = data.test.firstRow(block * 8)
            let window = Array(data.series.features[(first * n)..<((first + 24) * n)])
            let hours = forecaster.forecast(window: window, hours: 8)
            for h in 0..<8 {
                let expected = max(0, data.normalisation.target.denormalise(live.predictions[block * 8 + h]))
                // Both run in Float, summing in different orders.
                #expect(abs(hours[h].pm25 - expected) < 1e-3, "block \(block) horizon \(h + 1)")
                #expect(hours[h].lower <= hours[h].pm25 && hours[h].pm25 <= hours[h].upper)
            }
        }
    }
}
