import DeepRNN
import Foundation

/// A model file that cannot be used, and why.
public struct ModelFileError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "model file \(path): \(reason)" }
}

/// The self-describing, versioned model file: the network, how to feed it, how it was trained
/// and how well it did.
public struct ModelFile: Codable, Sendable {
    public static let formatName = "aqcast-model"
    /// Version 1: the course's inputs and linear residual quantiles. Version 2 adds `encoding`
    /// (how the raw features become inputs) and the quantiles' `space`. Version 3, the one
    /// written now, always carries `weights_checksum` (a file without it is refused) and leaves
    /// `encoding` out for the course's inputs; older files may lack the checksum, and load with
    /// ``uncheckedWeightsNote`` said.
    public static let currentVersion = 3
    public static let readableVersions = 1...3

    public struct TrainingInfo: Codable, Sendable {
        public var recipe: TrainingRecipe
        public var seed: UInt64
        public var dataSource: String
        public var firstHour: String
        public var lastHour: String
        public var trainWindows: Int
        public var validationWindows: Int
        public var bestEpoch: Int
        public var history: [EpochReport]
        public var stopReason: String?

        public init(
            recipe: TrainingRecipe, seed: UInt64, dataSource: String, firstHour: String, lastHour: String,
            trainWindows: Int, validationWindows: Int, bestEpoch: Int, history: [EpochReport],
            stopReason: String?
        ) {
            self.recipe = recipe
            self.seed = seed
            self.dataSource = dataSource
            self.firstHour = firstHour
            self.lastHour = lastHour
            self.trainWindows = trainWindows
            self.validationWindows = validationWindows
            self.bestEpoch = bestEpoch
            self.history = history
            self.stopReason = stopReason
        }
    }

    public struct ResidualQuantiles: Codable, Sendable, Equatable {
        /// Probability levels, increasing.
        public var levels: [Double]
        /// `byHorizon[h - 1][i]`: the `levels[i]` quantile of truth minus forecast (µg/m³) at
        /// horizon h, from the live protocol on the test year.
        public var byHorizon: [[Double]]
        /// The scale the residuals are taken on: `log1p` ones are `log(1 + truth) - log(1 +
        /// forecast)`, so the interval widens with the level. Absent in version 1: linear.
        public var space: InputEncoding.Scale?
        /// Upper edges (µg/m³) of the forecast-level bands below the last, when the quantiles
        /// are also kept per band of the forecast itself: errors are relatively larger at low
        /// levels, so one set for all levels covers too little there and too much above.
        public var bandEdges: [Double]?
        /// `byBand[h - 1][band][i]`, as `byHorizon` but for forecasts in that band.
        public var byBand: [[[Double]]]?

        public init(
            levels: [Double], byHorizon: [[Double]], space: InputEncoding.Scale? = nil, bandEdges: [Double]? = nil,
            byBand: [[[Double]]]? = nil
        ) {
            self.levels = levels
            self.byHorizon = byHorizon
            self.space = space
            self.bandEdges = bandEdges
            self.byBand = byBand
        }

        /// The quantiles for a forecast of `value` at `horizon` (1-based, within the file's).
        public func row(horizon: Int, value: Double) -> [Double] {
            guard let edges = bandEdges, let byBand else { return byHorizon[horizon - 1] }
            return byBand[horizon - 1][PM25Bands.index(of: value, edges: edges)]
        }
    }

    public var format: String
    public var version: Int
    public var architecture: RNNArchitecture
    public var parameters: [Double]
    public var steps: Int
    public var features: [String]
    public var normalisation: Normalisation
    public var training: TrainingInfo
    public var evaluation: EvaluationSummary
    public var residualQuantiles: ResidualQuantiles
    /// How raw features become inputs; absent (version 1) is the course's encoding.
    public var encoding: InputEncoding?
    /// ``fingerprint(_:)`` of the weights, written with them and checked at every load, so a
    /// changed weight is found even where it parses; absent in files written before it.
    public var weightsChecksum: String?

    public init(
        network: StackedRNN, steps: Int, normalisation: Normalisation, training: TrainingInfo,
        evaluation: EvaluationSummary, residualQuantiles: ResidualQuantiles, encoding: InputEncoding? = nil
    ) {
        format = Self.formatName
        version = Self.currentVersion
        architecture = network.architecture
        parameters = network.parameters
        self.steps = steps
        self.encoding = encoding
        weightsChecksum = Self.fingerprint(network.parameters)
        features = (encoding ?? .course).names
        self.normalisation = normalisation
        self.training = training
        self.evaluation = evaluation
        self.residualQuantiles = residualQuantiles
    }

    public var network: StackedRNN { StackedRNN(architecture: architecture, parameters: parameters) }

    /// What to say of a file written before weights checksums (format 1 or 2 without one): it
    /// loads, but a changed weight in it cannot be found.
    public var uncheckedWeightsNote: String? {
        guard weightsChecksum == nil else { return nil }
        return "format version \(version) without weights_checksum: a changed weight cannot be found; "
            + "a retrain writes the model anew with one"
    }

    /// The encoding the inputs are made with.
    public var inputEncoding: InputEncoding { encoding ?? .course }

    /// Everything wrong with the file's content, or `nil` when it is usable.
    public func validationProblem() -> String? {
        if format != Self.formatName { return "format is '\(format)', expected '\(Self.formatName)'" }
        if !Self.readableVersions.contains(version) {
            return "format version \(version) is not supported (this build reads versions \(Self.readableVersions))"
        }
        if version == 1, encoding != nil { return "version 1 has no encoding" }
        if version == 2, encoding == nil { return "version 2 needs encoding" }
        if version >= 3, weightsChecksum == nil {
            return "weights_checksum is missing; format version \(version) always carries it (a damaged or edited file)"
        }
        if let p = architecture.validationProblem() { return "architecture: \(p)" }
        if features != inputEncoding.names {
            return "features are \(features), this build computes \(inputEncoding.names) for this encoding"
        }
        if architecture.inputSize != features.count {
            return "architecture takes \(architecture.inputSize) inputs but the file lists \(features.count) features"
        }
        if parameters.count != architecture.parameterCount {
            return "\(parameters.count) weights for an architecture of \(architecture.parameterCount)"
        }
        if let bad = parameters.firstIndex(where: { !$0.isFinite }) {
            return "weight \(bad) is \(parameters[bad]) (not finite)"
        }
        if let checksum = weightsChecksum, checksum != Self.fingerprint(parameters) {
            return "the weights do not match their checksum \(checksum) (a damaged or edited file)"
        }
        if let bad = parameters.firstIndex(where: { abs($0) > Self.largestWeight }) {
            return
                "weight \(bad) is \(parameters[bad]), beyond ±\(Self.largestWeight) (no trained model has such weights)"
        }
        if !(1...168).contains(steps) { return "steps must be 1...168, got \(steps)" }
        if normalisation.features.count != features.count {
            return "\(normalisation.features.count) normalisation ranges for \(features.count) features"
        }
        if let p = normalisation.validationProblem() { return "normalisation: \(p)" }
        for (name, range) in zip(features, normalisation.features) {
            guard let sane = Self.saneRanges[name], sane.contains(range.min), sane.contains(range.max) else {
                return "the range of \(name), \(range.min)...\(range.max), is outside what any station measures"
            }
        }
        let q = residualQuantiles
        if q.levels.isEmpty || q.levels != q.levels.sorted() || q.levels.contains(where: { !(0...1).contains($0) }) {
            return "residual quantile levels must be increasing values in 0...1"
        }
        for (h, row) in q.byHorizon.enumerated() {
            if row.count != q.levels.count || row.contains(where: { !$0.isFinite }) || row != row.sorted() {
                return "residual quantiles for horizon \(h + 1) must be \(q.levels.count) finite increasing values"
            }
        }
        if q.byHorizon.isEmpty { return "residual quantiles cover no horizon" }
        if q.byHorizon.flatMap({ $0 }).contains(where: { abs($0) > (q.space == .log1p ? 20 : 5000) }) {
            return "residual quantiles beyond any plausible error"
        }
        if (q.bandEdges == nil) != (q.byBand == nil) { return "residual quantiles by band need both edges and values" }
        if let edges = q.bandEdges, let byBand = q.byBand {
            if edges != edges.sorted() || edges.contains(where: { !$0.isFinite }) {
                return "residual quantile band edges must be finite and increasing"
            }
            if byBand.count != q.byHorizon.count {
                return "residual quantiles by band cover \(byBand.count) horizons, not \(q.byHorizon.count)"
            }
            for (h, bands) in byBand.enumerated() {
                if bands.count != edges.count + 1 {
                    return "horizon \(h + 1) has \(bands.count) bands, not \(edges.count + 1)"
                }
                for row in bands
                where row.count != q.levels.count || row.contains(where: { !$0.isFinite }) || row != row.sorted() {
                    return
                        "residual quantiles by band for horizon \(h + 1) must be \(q.levels.count) finite increasing values"
                }
            }
        }
        return nil
    }

    /// FNV-1a (64 bits) of the weights' bit patterns, as 16 hex digits.
    public static func fingerprint(_ parameters: [Double]) -> String {
        var hash = FNV1a()
        for p in parameters { withUnsafeBytes(of: p.bitPattern.littleEndian) { hash.add($0) } }
        return hash.hex
    }

    static let largestWeight = 1000.0

    /// What the normalisation range of each input may span: a range beyond it was not fitted
    /// to real measurements.
    static let saneRanges: [String: ClosedRange<Double>] = [
        "pm25": 0...5000, "log1p_pm25": 0...9, "dew_point": -90...60, "temperature": -90...70,
        "pressure": 500...1100, "wind_direction_code": 0...12, "wind_east": -1...1, "wind_north": -1...1,
        "wind_speed": 0...200,
    ]

    /// A forecast from a plain window (50 µg/m³, mild weather) must be finite and in range
    /// before a model is used: a file can be consistent and still forecast nonsense.
    func probeProblem() -> String? {
        let row: [Double] = [50, 0, 15, 1013, 9, 2]
        let hours = Forecaster(model: self).forecast(window: (0..<steps).flatMap { _ in row }, hours: 8)
        for h in hours where !(h.pm25.isFinite && h.lower.isFinite && h.upper.isFinite && h.upper < 5000) {
            return
                "its probe forecast (a steady 50 µg/m³) gives \(h.pm25) µg/m³ (\(h.lower)...\(h.upper)) at \(h.horizon) h"
        }
        return nil
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return try encoder.encode(self)
    }

    public static func decode(_ data: Data, path: String) throws(ModelFileError) -> ModelFile {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let file: ModelFile
        do {
            file = try decoder.decode(ModelFile.self, from: data)
        } catch let error as DecodingError {
            throw ModelFileError(path: path, reason: Self.explain(error))
        } catch {
            throw ModelFileError(path: path, reason: "cannot be read: \(error)")
        }
        if let problem = file.validationProblem() ?? file.probeProblem() {
            throw ModelFileError(path: path, reason: problem)
        }
        return file
    }

    public static func load(path: String) throws(ModelFileError) -> ModelFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelFileError(path: path, reason: "cannot be opened (missing or unreadable)")
        }
        return try decode(data, path: path)
    }

    static func explain(_ error: DecodingError) -> String {
        func at(_ path: [CodingKey]) -> String {
            path.isEmpty
                ? "the top level" : path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let c):
            if c.codingPath.isEmpty { return "not valid JSON (truncated or corrupt file?)" }
            return "invalid value at \(at(c.codingPath)): \(c.debugDescription)"
        case .keyNotFound(let key, let c):
            return "missing key '\(key.stringValue)' at \(at(c.codingPath))"
        case .typeMismatch(_, let c), .valueNotFound(_, let c):
            return "wrong type at \(at(c.codingPath)): \(c.debugDescription)"
        @unknown default:
            return "cannot be decoded: \(error)"
        }
    }
}
