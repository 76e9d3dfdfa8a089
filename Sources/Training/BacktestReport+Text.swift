import AirQuality
import Foundation

extension BacktestReport {
    /// The pooled table by horizon, the coverage by band, and each station's gains.
    public func table() -> String {
        var out =
            "pooled, by hours ahead (µg/m³; gain = 100 (1 - model / persistence); bias = mean forecast - truth):\n"
        out += "  h  forecasts   RMSE  persist  gain %     MAE  persist  gain %    bias  cover %\n"
        for (i, s) in pooled.byHorizon.enumerated() {
            out +=
                pad("\(i + 1)", 3) + pad("\(s.count)", 11) + pad(formatFixed(s.rmse, 1), 7)
                + pad(formatFixed(s.persistenceRMSE, 1), 9)
                + pad(formatFixed(s.gain, 1), 8) + pad(formatFixed(s.mae, 1), 8)
                + pad(formatFixed(s.persistenceMAE, 1), 9)
                + pad(formatFixed(s.maeGain, 1), 8) + pad(formatFixed(s.bias, 1), 8)
                + pad(formatFixed(100 * s.coverage, 1), 9) + "\n"
        }
        for byForecast in [false, true] {
            out += "\ninterval coverage % by \(byForecast ? "forecast" : "true") PM2.5 band (forecasts in the band):\n"
            out += "  h" + Backtest.bands.map { pad($0.name, 16) }.joined() + "\n"
            for (i, s) in pooled.byHorizon.enumerated() {
                out += pad("\(i + 1)", 3)
                for b in Backtest.bands.indices {
                    let (share, count) =
                        byForecast
                        ? (s.forecastBandCoverage(b), s.forecastBandCount[b]) : (s.bandCoverage(b), s.bandCount[b])
                    out += pad(share.map { "\(formatFixed(100 * $0, 1)) (\(count))" } ?? "-", 16)
                }
                out += "\n"
            }
        }
        out += "\nRMSE gain % over persistence by station and hours ahead:\n"
        out +=
            pad("station", 16, left: true) + (1...horizon).map { pad("h\($0)", 7) }.joined()
            + "   MAE gain % h1..h\(horizon)\n"
        for (name, scores) in stations {
            out +=
                pad(String(name.prefix(15)), 16, left: true)
                + scores.byHorizon.map { pad($0.count > 0 ? formatFixed($0.gain, 1) : "-", 7) }.joined()
                + "   "
                + scores.byHorizon.map { $0.count > 0 ? formatFixed($0.maeGain, 1) : "-" }.joined(separator: " ") + "\n"
        }
        return out
    }

    /// Pooled RMSE gain and bias by horizon under each weather, one row each.
    public static func comparison(_ reports: [(weather: String, report: BacktestReport)]) -> String {
        guard let horizon = reports.first?.report.horizon else { return "" }
        var out = "pooled RMSE gain % over persistence by weather and hours ahead (bias µg/m³ after /):\n"
        out += pad("weather", 10, left: true) + (1...horizon).map { pad("h\($0)", 12) }.joined() + "\n"
        for (weather, report) in reports {
            out +=
                pad(weather, 10, left: true)
                + report.pooled.byHorizon.map {
                    pad($0.count > 0 ? formatFixed($0.gain, 1) + " / " + formatFixed($0.bias, 1) : "-", 12)
                }.joined() + "\n"
        }
        return out
    }

    struct HorizonJSON: Codable {
        var horizon: Int
        var forecasts: Int
        var rmse: Double
        var persistenceRmse: Double
        var gainPercent: Double
        var mae: Double
        var persistenceMae: Double
        var maeGainPercent: Double
        var bias: Double
        var coverage: Double
        var coverageByBand: [String: Double?]
        var forecastsByBand: [String: Int]
        var coverageByForecastBand: [String: Double?]
        var forecastsByForecastBand: [String: Int]
    }

    struct StationJSON: Codable {
        var station: String
        var byHorizon: [HorizonJSON]
    }

    struct ReportJSON: Codable {
        var model: String
        var weather: String
        var pooled: [HorizonJSON]
        var stations: [StationJSON]
    }

    static func horizons(_ scores: BacktestScores) -> [HorizonJSON] {
        scores.byHorizon.enumerated().map { i, s in
            HorizonJSON(
                horizon: i + 1, forecasts: s.count, rmse: s.rmse, persistenceRmse: s.persistenceRMSE,
                gainPercent: s.gain,
                mae: s.mae, persistenceMae: s.persistenceMAE, maeGainPercent: s.maeGain, bias: s.bias,
                coverage: s.coverage,
                coverageByBand: Dictionary(
                    uniqueKeysWithValues: Backtest.bands.indices.map { (Backtest.bands[$0].name, s.bandCoverage($0)) }),
                forecastsByBand: Dictionary(
                    uniqueKeysWithValues: Backtest.bands.indices.map { (Backtest.bands[$0].name, s.bandCount[$0]) }),
                coverageByForecastBand: Dictionary(
                    uniqueKeysWithValues: Backtest.bands.indices.map {
                        (Backtest.bands[$0].name, s.forecastBandCoverage($0))
                    }),
                forecastsByForecastBand: Dictionary(
                    uniqueKeysWithValues: Backtest.bands.indices.map {
                        (Backtest.bands[$0].name, s.forecastBandCount[$0])
                    }))
        }
    }

    public func json(model: String, weather: String) -> String {
        let doc = ReportJSON(
            model: model, weather: weather, pooled: Self.horizons(pooled),
            stations: stations.map { StationJSON(station: $0.name, byHorizon: Self.horizons($0.scores)) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: (try? encoder.encode(doc)) ?? Data(), as: UTF8.self)
    }
}

private func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - s.count))
    return left ? s + fill : fill + s
}
