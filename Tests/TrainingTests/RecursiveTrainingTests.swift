import DeepRNN
import Foundation
import RealModule
import Testing

@testable import AirQuality
@testable import Training

@Suite struct RecursiveTrainingTests {
    /// Two stations of made-up hourly rows with a daily cycle and a wind that moves PM2.5.
    static let series: TrainingSeries = {
        func station(_ name: String, phase: Double) -> TrainingSeries.Segment {
            var raw: [Double] = []
            var pm = 60.0
            for i in 0..<1500 {
                let wind = i % 40 < 20 ? 9.0 : 6.0  // NW clears the air, SE brings it in
                pm = max(3, pm + (wind == 9 ? -6 : 5) + 10 * sin(Double(i) / 3.8 + phase))
                raw += [pm, -5 + Double(i % 7), 3 + Double(i % 5), 1015 + Double(i % 11), wind, 1 + Double(i % 4)]
            }
            return .init(station: name, firstHour: 390_000, raw: raw)
        }
        return TrainingSeries(segments: [station("a", phase: 0), station("b", phase: 1.3)])
    }()

    static var recipe: TrainingRecipe {
        var r = TrainingRecipe.recursive
        r.hiddenSizes = [3, 3]
        r.epochs = 4
        r.samplesPerEpoch = 600
        return r
    }

    @Test func encodingSharesThePMRangeWithTheTargetSoForecastsFeedBackUnchanged() {
        let norm = RecursiveTrainer.normalisation(for: Self.series, encoding: .logVector)
        #expect(norm.features.count == 7)
        #expect(norm.target == norm.features[0])
        #expect(norm.features[0].min == Double.log(onePlus: 3))
        let link = norm.persistenceSkip
        #expect(link.scale == 1 && link.offset == 0)
        // Wind as a unit vector: NW is (-0.71, 0.71), SE (0.71, -0.71), calm (0, 0).
        let row = InputEncoding.logVector.encode([10, 1, 2, 1000, 9, 3] + [10, 1, 2, 1000, 0, 0.2])
        #expect(abs(row[4] + 0.5.squareRoot()) < 1e-12 && abs(row[5] - 0.5.squareRoot()) < 1e-12)
        #expect(row[11] == 0 && row[12] == 0)
        #expect(abs(row[0] - Double.log(onePlus: 10)) < 1e-12)
    }

    /// Training lowers the validation objective below the first model's (persistence, as the
    /// read-out starts at zero), is deterministic for a seed, and its model file forecasts the
    /// same way the trainer's network does.
    @Test func trainingBeatsPersistenceDeterministicallyAndTheFileForecastsAsTrained() throws {
        let trainer = RecursiveTrainer(recipe: Self.recipe, seed: 7)
        let a = trainer.train(Self.series, encoding: .logVector)
        let b = trainer.train(Self.series, encoding: .logVector)
        #expect(a.network == b.network)
        #expect(a.history.count == 4 && a.validationSamples > 100 && a.trainSamples > 1000)
        let first = a.history[0].validationLoss
        #expect(a.history.map(\.validationLoss).min()! < first)
        // Band quantiles: as many bands as edges + 1, increasing, and wider ones further ahead.
        #expect(a.residualQuantilesByBand.count == 8 && a.residualQuantilesByBand[0].count == 5)
        #expect(
            a.residualQuantiles[7].last! - a.residualQuantiles[7].first! > a.residualQuantiles[0].last!
                - a.residualQuantiles[0].first!)

        let course = try PRSADataset(csv: syntheticCSV(hours: 400), file: "synthetic.csv")
        let model = ModelFile(
            recursive: a, encoding: .logVector, recipe: Self.recipe, seed: 7, dataSource: "test", firstHour: 390_000,
            lastHour: 392_000, course: course)
        #expect(model.version == ModelFile.currentVersion && model.validationProblem() == nil)
        let back = try ModelFile.decode(try model.encoded(), path: "m.json")
        #expect(back.parameters == model.parameters && back.encoding == .logVector)
        #expect(back.residualQuantiles == model.residualQuantiles)

        // The forecaster's first hour is the network's output on the encoded window.
        let segment = Self.series.segments[0]
        let window = Array(segment.raw[0..<(24 * 6)])
        let forecast = Forecaster(model: back).forecast(window: window, hours: 8)
        let x = a.normalisation.normalised(inputs: InputEncoding.logVector.encode(window))
        let ws = RNNWorkspace<Float>(architecture: a.network.architecture, steps: 24, batchCapacity: 1)
        let z = x.withUnsafeBufferPointer { a.network.predict(window: $0, workspace: ws) }
        let expected = Double.expMinusOne(a.normalisation.target.denormalise(z))
        #expect(abs(forecast[0].pm25 - expected) < 1e-3 * max(1, expected))
        #expect(forecast.allSatisfy { $0.lower <= $0.pm25 && $0.pm25 <= $0.upper })
    }

    /// A model for fewer inputs: the encoding drops the weather it does not take, the network
    /// is trained on what is left, and its file says so and forecasts from six-feature windows.
    /// A recipe without forecast weather trains exactly as before (its errors draw from a
    /// generator of their own); with it, the model differs, and the file says so.
    @Test func forecastWeatherTrainingChangesOnlyTheRecipesThatAskForIt() throws {
        var none = Self.recipe
        none.epochs = 1
        none.samplesPerEpoch = 256
        none.forecastWeather = nil
        var never = none
        never.forecastWeather = ForecastWeatherErrors(share: 0)
        var always = none
        always.forecastWeather = ForecastWeatherErrors(share: 1)
        let a = RecursiveTrainer(recipe: none, seed: 5).train(Self.series, encoding: .logVector)
        let b = RecursiveTrainer(recipe: never, seed: 5).train(Self.series, encoding: .logVector)
        let c = RecursiveTrainer(recipe: always, seed: 5).train(Self.series, encoding: .logVector)
        #expect(a.network.parameters == b.network.parameters)
        #expect(a.network.parameters != c.network.parameters)
        let encoded = String(decoding: try JSONEncoder().encode(always), as: UTF8.self)
        #expect(encoded.contains("\"forecastWeather\""))
        #expect(!String(decoding: try JSONEncoder().encode(none), as: UTF8.self).contains("forecastWeather"))
    }

    @Test func aModelForFewerInputsTakesOnlyThose() throws {
        let reduced = InputEncoding(pm25: .log1p, wind: .vector, weather: [.temperature, .dewPoint])
        #expect(reduced.weather == [.dewPoint, .temperature], "kept in feature order")
        #expect(reduced.names == ["log1p_pm25", "dew_point", "temperature"] && reduced.count == 3)
        #expect(reduced.inputsName == "pm25+dew_point+temperature")
        let row = reduced.encode([10, 1, 2, 1000, 9, 3] + [20, -1, -2, 990, 0, 0.2])
        #expect(row.count == 6 && row[1] == 1 && row[2] == 2 && row[4] == -1 && row[5] == -2)
        let alone = InputEncoding(pm25: .log1p, wind: .vector, weather: [])
        #expect(alone.count == 1 && alone.names == ["log1p_pm25"] && alone.inputsName == "pm25")
        #expect(InputEncoding.logVector.inputsName == "all" && InputEncoding.logVector.count == 7)

        let a = RecursiveTrainer(recipe: Self.recipe, seed: 3).train(Self.series, encoding: reduced)
        #expect(a.network.architecture.inputSize == 3)
        let course = try PRSADataset(csv: syntheticCSV(hours: 400), file: "synthetic.csv")
        let model = ModelFile(
            recursive: a, encoding: reduced, recipe: Self.recipe, seed: 3, dataSource: "test", firstHour: 390_000,
            lastHour: 392_000, course: course)
        #expect(model.validationProblem() == nil)
        let text = String(decoding: try JSONEncoder().encode(reduced), as: UTF8.self)
        #expect(text.contains(#""weather":["dew_point","temperature"]"#))
        let back = try ModelFile.decode(try model.encoded(), path: "m.json")
        #expect(back.encoding == reduced)
        let window = Array(Self.series.segments[0].raw[0..<(24 * 6)])
        #expect(Forecaster(model: back).forecast(window: window, hours: 8).count == 8)
        // An encoding of six inputs keeps no weather key, so the shipped file reads and
        // writes as before.
        let six = String(decoding: try JSONEncoder().encode(InputEncoding.logVector), as: UTF8.self)
        #expect(six == #"{"pm25":"log1p","wind":"vector"}"# || six == #"{"wind":"vector","pm25":"log1p"}"#)
        #expect(try JSONDecoder().decode(InputEncoding.self, from: Data(six.utf8)) == .logVector)
    }

    @Test func aVersion2FileWithoutItsEncodingIsRefused() throws {
        let a = RecursiveTrainer(recipe: Self.recipe, seed: 1).train(Self.series, encoding: .logVector)
        let course = try PRSADataset(csv: syntheticCSV(hours: 400), file: "synthetic.csv")
        var model = ModelFile(
            recursive: a, encoding: .logVector, recipe: Self.recipe, seed: 1, dataSource: "test", firstHour: 0,
            lastHour: 1, course: course)
        model.version = 2
        model.encoding = nil
        #expect(model.validationProblem() == "version 2 needs encoding")
    }
}
