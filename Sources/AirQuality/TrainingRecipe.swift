import DeepRNN

/// Everything that decides how a model is trained, apart from the data and the seed.
public struct TrainingRecipe: Codable, Sendable, Equatable {
    public enum Validation: Codable, Sendable, Equatable {
        /// The course's: `count` training windows drawn with replacement and left in training.
        case resampledFromTraining(count: Int)
        /// Every `every`-th block of `blockHours` hours held out of training entirely.
        case heldOutBlocks(blockHours: Int, every: Int)
    }

    public var name: String
    public var hiddenSizes: [Int]
    public var biases: Bool
    /// Add the last observed PM2.5 to the output, so the net learns the change.
    public var persistenceSkip: Bool
    public var initialisation: StackedRNN.Initialisation
    public var optimizer: OptimizerKind
    public var clipNorm: Double?
    public var batchSize: Int
    public var epochs: Int
    /// Stop after this many epochs without a better validation loss; `nil` runs every epoch.
    public var patience: Int?
    /// Multiply the learning rate by this after each epoch (1 = constant).
    public var learningRateDecay: Double
    public var validation: Validation
    /// When set, a share of the training windows (``frozenWeatherShare``) have their last k hours
    /// of weather (k uniform in 1...this) replaced by the weather k hours before their end, as a
    /// live forecast sees it.
    public var frozenWeatherHours: Int?
    public var frozenWeatherShare: Double = 0

    /// SPEC.md's recipe, exactly: 2-2 net without biases, N(0,1) weights, SGD 0.05, batch 64,
    /// 100 epochs, reshuffled, best weights by a leaky 1,000-window validation sample.
    public static let seed = TrainingRecipe(
        name: "seed", hiddenSizes: [2, 2], biases: false, persistenceSkip: false,
        initialisation: .standardNormal, optimizer: .sgd(learningRate: 0.05), clipNorm: nil, batchSize: 64,
        epochs: 100, patience: nil, learningRateDecay: 1, validation: .resampledFromTraining(count: 1000),
        frozenWeatherHours: nil, frozenWeatherShare: 0)

    /// The project's recipe; README.md explains each choice.
    public static let `default` = TrainingRecipe(
        name: "default", hiddenSizes: [8, 8], biases: true, persistenceSkip: true,
        initialisation: .scaled, optimizer: .adam(learningRate: 0.003), clipNorm: 1, batchSize: 64,
        epochs: 60, patience: 20, learningRateDecay: 0.95, validation: .heldOutBlocks(blockHours: 168, every: 10),
        frozenWeatherHours: 7, frozenWeatherShare: 0.5)

    public static func named(_ name: String) -> TrainingRecipe? {
        switch name {
        case "seed": .seed
        case "default": .default
        default: nil
        }
    }

    /// The architecture this recipe trains for inputs normalised with `normalisation`.
    public func architecture(inputSize: Int, normalisation: Normalisation) -> RNNArchitecture {
        var skip: RNNArchitecture.Skip?
        if persistenceSkip {
            let link = normalisation.persistenceSkip
            skip = .init(feature: Feature.pm25.rawValue, scale: link.scale, offset: link.offset)
        }
        return RNNArchitecture(inputSize: inputSize, hiddenSizes: hiddenSizes, biases: biases, skip: skip)
    }
}
