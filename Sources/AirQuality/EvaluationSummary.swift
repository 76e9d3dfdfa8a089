import DeepRNN

/// Every figure `aqcast evaluate` prints: each prediction length under both weather
/// assumptions, with persistence beside the model, and per-horizon RMSE up to 8 hours.
public struct EvaluationSummary: Codable, Sendable, Equatable {
    public static let predictionLengths = [8, 4, 2, 1]
    public static let quantileLevels = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95]

    public var testWindows: Int
    public var protocols: [ProtocolResult]
    public var oracleHorizons: [HorizonError]
    public var liveHorizons: [HorizonError]

    public func result(_ weather: WeatherAssumption, p: Int) -> ProtocolResult? {
        protocols.first { $0.weather == weather && $0.p == p }
    }

    public init(
        testWindows: Int, protocols: [ProtocolResult], oracleHorizons: [HorizonError], liveHorizons: [HorizonError]
    ) {
        self.testWindows = testWindows
        self.protocols = protocols
        self.oracleHorizons = oracleHorizons
        self.liveHorizons = liveHorizons
    }
}

/// What the model may know about weather after the forecast's origin.
public enum WeatherAssumption: String, Codable, Sendable, CaseIterable {
    /// The true future weather, as the course's evaluation feeds it (not available live).
    case oracle
    /// Future weather equal to the last observed hour, as the daemon forecasts.
    case live
}

/// The model and persistence figures for one prediction length under one weather assumption.
public struct ProtocolResult: Codable, Sendable, Equatable {
    public var weather: WeatherAssumption
    public var p: Int
    public var model: RegressionMetrics
    public var persistence: RegressionMetrics
    /// RMSE in µg/m³ for the model and persistence.
    public var modelRmse: Double
    public var persistenceRmse: Double

    public init(
        weather: WeatherAssumption, p: Int, model: RegressionMetrics, persistence: RegressionMetrics, modelRmse: Double,
        persistenceRmse: Double
    ) {
        self.weather = weather
        self.p = p
        self.model = model
        self.persistence = persistence
        self.modelRmse = modelRmse
        self.persistenceRmse = persistenceRmse
    }
}

/// RMSE in µg/m³ at one horizon (hours after the last observation).
public struct HorizonError: Codable, Sendable, Equatable {
    public var horizon: Int
    public var modelRmse: Double
    public var persistenceRmse: Double

    public init(horizon: Int, modelRmse: Double, persistenceRmse: Double) {
        self.horizon = horizon
        self.modelRmse = modelRmse
        self.persistenceRmse = persistenceRmse
    }
}
