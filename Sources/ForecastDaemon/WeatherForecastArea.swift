import AirQuality

/// One `[weather_forecast.NAME]` section: a place whose hourly weather forecast the daemon
/// fetches from a forecast service and gives to the stations of the area as the weather of
/// their hours ahead.
public struct WeatherForecastArea: Sendable, Equatable {
    public var name: String
    public var latitude: Double
    public var longitude: Double
    /// The stations it serves; empty: every station no other area names (one area at most).
    public var stations: [String] = []
    /// The service's forecast endpoint (Open-Meteo's, or a stand-in with the same answers).
    public var url = OpenMeteo.endpoint
    public var pressure = OpenMeteo.Pressure.surface
    /// Hours ahead asked for.
    public var hours = 48
    /// A new forecast is fetched this often (seconds); after a failure, sooner: after a minute
    /// (or this, if shorter), doubling up to this.
    public var refreshSeconds = 3600
    /// A fetch that has not finished by then has failed.
    public var timeoutSeconds = 20

    public init(name: String, latitude: Double, longitude: Double) {
        self.name = name
        self.latitude = latitude
        self.longitude = longitude
    }

    /// The request for the area's forecast.
    public var requestURL: String {
        OpenMeteo.url(base: url, latitude: latitude, longitude: longitude, hours: hours, pressure: pressure)
    }
}
