extension ForecastEngine {
    /// The `[forecast]` settings and the stations' weather sources and areas (a reload applies them).
    public struct Settings: Sendable, Equatable {
        public var horizonHours = 8
        public var maximumGapHours = 3
        public var readingsPerHour = 1
        public var maximumFutureSeconds = 600
        public var stationReadingsPerMinute = 600
        /// Stations held at most; a reading or weather forecast for one more is refused.
        public var maximumStations = 100_000
        /// A station that sent nothing for this long leaves memory (its log stays); its next
        /// reading starts a new window.
        public var stationExpiryHours = 168
        /// Station id to the id of the station whose readings fill in the weather it does not
        /// send (`[weather_sources]`); `defaultWeatherSource` serves the rest (empty: none).
        public var weatherSources: [String: String] = [:]
        public var defaultWeatherSource = ""
        /// Station id to the name of the area whose weather forecast service gives the weather
        /// of its hours ahead (`[weather_forecast.NAME]`); `defaultForecastArea` serves the rest
        /// (empty: none).
        public var forecastAreas: [String: String] = [:]
        public var defaultForecastArea = ""
        /// An hour whose station has gone quiet is complete this long after it ends, even
        /// without a reading for a later hour.
        public var hourCloseSeconds = 60
        /// Days of a station's own forecast errors its running bias correction averages over
        /// (``BiasCorrection``); 0 turns the correction off.
        public var biasCorrectionDays = 30

        public init() {}

        /// The weather source of `station`, if any.
        public func weatherSource(of station: String) -> String? {
            let id = weatherSources[station] ?? defaultWeatherSource
            return id.isEmpty || id == station ? nil : id
        }

        /// The weather-forecast area of `station`, if any.
        public func forecastArea(of station: String) -> String? {
            let name = forecastAreas[station] ?? defaultForecastArea
            return name.isEmpty ? nil : name
        }

        /// Every station that is some station's weather source.
        public var weatherSourceIDs: Set<String> {
            Set(weatherSources.values).union(defaultWeatherSource.isEmpty ? [] : [defaultWeatherSource])
        }
    }

    /// A model the engine forecasts with.
    struct Loaded {
        let file: ModelFile
        let identity: String
        let forecaster: Forecaster
        /// The raw features (``Feature`` indices) it takes besides PM2.5.
        let features: [Int]
        /// `all`, `pm25+dew_point+temperature`, ...
        let inputs: String

        init(_ file: ModelFile, name: String) {
            self.file = file
            identity = file.identity(name: name)
            forecaster = Forecaster(model: file)
            let encoding = file.inputEncoding
            features = encoding.weatherInputs.flatMap { input -> [Int] in
                switch input {
                case .dewPoint: [Feature.dewPoint.rawValue]
                case .temperature: [Feature.temperature.rawValue]
                case .pressure: [Feature.pressure.rawValue]
                case .windDirection: [Feature.windDirection.rawValue, Feature.windSpeed.rawValue]
                case .windSpeed: [Feature.windSpeed.rawValue]
                }
            }
            inputs = encoding.inputsName
        }

        /// Whether every row of `raw` (six features each) has what the model takes.
        func serves(_ raw: [Double]) -> Bool {
            let f = Feature.allCases.count
            return stride(from: 0, to: raw.count, by: f).allSatisfy { row in
                raw[row].isFinite && features.allSatisfy { raw[row + $0].isFinite }
            }
        }
    }
}
