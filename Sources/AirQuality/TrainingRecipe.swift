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
    /// Training samples drawn (without replacement) for each epoch, so an epoch's time is
    /// bounded whatever the history's size; all of them when nil.
    public var samplesPerEpoch: Int?
    /// Train on the recursive objective (``RecursiveTrainer``) with this input encoding; nil
    /// trains one hour ahead on the course's inputs (``Trainer``).
    public var recursiveEncoding: InputEncoding?
    /// With the recursive objective: where the squared error is measured. `linear` fits the
    /// error in µg/m³ (the mean, as RMSE judges it) even when the output is in log space;
    /// `log1p` fits the log error (a median, biased low in µg/m³).
    public var errorScale: InputEncoding.Scale?
    /// With the recursive objective: weigh each hour ahead by the inverse of persistence's mean
    /// squared error there (on the training samples), so the long horizons' larger errors do
    /// not drown the short ones; equal weights when false.
    public var horizonWeightsByPersistence: Bool?
    /// Validate, keep and ship an exponential moving average of the weights, with a time
    /// constant of one epoch's batches, instead of the weights after the epoch's last batch:
    /// those carry the noise of the last few batches, and the best of many noisy epochs is
    /// mostly the luckiest.
    public var averagedWeights: Bool?
    /// With the recursive objective: a share of the samples are given the weather of their hours
    /// ahead as a forecast would give it (the true weather with these errors) instead of held,
    /// so the model learns to use a weather forecast when the daemon has one; nil holds the
    /// weather of every sample (models before forecast weather).
    public var forecastWeather: ForecastWeatherErrors?
    /// With the recursive objective: choose each forecast band's interval bounds so that every
    /// band of the truth is covered as the levels say (``IntervalCalibration``), instead of
    /// every band of the forecast. Off in the shipped recipe: on the validation months it held
    /// the most polluted hours far better but widened the intervals, and the interval score
    /// (which rewards narrow intervals that still hold the truth) was 4-15% worse (docs/model.md).
    public var intervalsByTruthBand: Bool?

    /// The course's recipe (docs/course.md), exactly: 2-2 net without biases, N(0,1) weights, SGD 0.05, batch 64,
    /// 100 epochs, reshuffled, best weights by a leaky 1,000-window validation sample.
    public static let seed = TrainingRecipe(
        name: "seed", hiddenSizes: [2, 2], biases: false, persistenceSkip: false,
        initialisation: .standardNormal, optimizer: .sgd(learningRate: 0.05), clipNorm: nil, batchSize: 64,
        epochs: 100, patience: nil, learningRateDecay: 1, validation: .resampledFromTraining(count: 1000),
        frozenWeatherHours: nil, frozenWeatherShare: 0)

    /// The project's recipe; docs/model.md explains each choice.
    public static let `default` = TrainingRecipe(
        name: "default", hiddenSizes: [8, 8], biases: true, persistenceSkip: true,
        initialisation: .scaled, optimizer: .adam(learningRate: 0.003), clipNorm: 1, batchSize: 64,
        epochs: 60, patience: 20, learningRateDecay: 0.95, validation: .heldOutBlocks(blockHours: 168, every: 10),
        frozenWeatherHours: 7, frozenWeatherShare: 0.5)

    /// Ours, on the recursive objective: PM2.5 in log space, the wind as a vector, 8 hours
    /// unrolled with the weather held, pooled over stations, a bounded sample an epoch.
    public static let recursive: TrainingRecipe = {
        var r = TrainingRecipe.default
        r.name = "recursive"
        r.hiddenSizes = [16, 16]
        r.epochs = 80
        r.patience = 15
        r.samplesPerEpoch = 40_000
        r.frozenWeatherHours = nil
        r.frozenWeatherShare = 0
        r.recursiveEncoding = .logVector
        r.errorScale = .linear
        r.horizonWeightsByPersistence = true
        r.averagedWeights = true
        return r
    }()

    public static func named(_ name: String) -> TrainingRecipe? {
        switch name {
        case "seed": .seed
        case "default": .default
        case "recursive": .recursive
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
/// One epoch's figures, reported as training goes.
public struct EpochReport: Codable, Sendable, Equatable {
    public var epoch: Int
    /// Mean of `(a - y)^2 / 2` over the epoch's training windows, as seen during the epoch.
    public var trainLoss: Double
    public var validationLoss: Double
    public var isBest: Bool

    public init(epoch: Int, trainLoss: Double, validationLoss: Double, isBest: Bool) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.validationLoss = validationLoss
        self.isBest = isBest
    }
}
