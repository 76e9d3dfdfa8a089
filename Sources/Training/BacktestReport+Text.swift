import AirQuality
import Foundation

extension BacktestReport {
    /// The pooled table by horizon, the coverage by band, and each station's gains.
    public func table() -> String {
        var out =
            "pooled, by hours ahead (µg/m³; gain = 100 (1 - model / persistence); bias = mean forecast - truth;\n"
            + "int score = the 5-95% interval's mean width + 20 x how far the truth fell outside it, lower is better):\n"
        out += "  h  forecasts   RMSE  persist  gain %     MAE  persist  gain %    bias  cover %  int score\n"
        for (i, s) in pooled.byHorizon.enumerated() {
            out +=
                pad("\(i + 1)", 3) + pad("\(s.count)", 11) + pad(formatFixed(s.rmse, 1), 7)
                + pad(formatFixed(s.persistenceRMSE, 1), 9)
                + pad(formatFixed(s.gain, 1), 8) + pad(formatFixed(s.mae, 1), 8)
                + pad(formatFixed(s.persistenceMAE, 1), 9)
                + pad(formatFixed(s.maeGain, 1), 8) + pad(formatFixed(s.bias, 1), 8)
                + pad(formatFixed(100 * s.coverage, 1), 9) + pad(formatFixed(s.intervalScore(), 1), 11) + "\n"
        }
        for byForecast in [false, true] {
            out += "\ninterval coverage % by \(byForecast ? "forecast" : "true") PM2.5 band (forecasts in the band):\n"
            out += "  h" + PM25Bands.names.map { pad($0, 16) }.joined() + "\n"
            for (i, s) in pooled.byHorizon.enumerated() {
                out += pad("\(i + 1)", 3)
                for b in 0..<PM25Bands.count {
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

    /// Each hour ahead's figures as `aqcast backtest --json` and the accuracy topics give them.
    public static func horizonsJSON(_ scores: BacktestScores) -> JSONText {
        func byBand(_ value: (Int) -> JSONText) -> JSONText {
            .object(PM25Bands.names.indices.map { (PM25Bands.names[$0], value($0)) })
        }
        return .array(
            scores.byHorizon.enumerated().map { i, s in
                .object([
                    ("horizon", .integer(i + 1)), ("forecasts", .integer(s.count)), ("rmse", .number(s.rmse)),
                    ("persistence_rmse", .number(s.persistenceRMSE)), ("gain_percent", .number(s.gain)),
                    ("mae", .number(s.mae)), ("persistence_mae", .number(s.persistenceMAE)),
                    ("mae_gain_percent", .number(s.maeGain)), ("bias", .number(s.bias)),
                    ("coverage", .number(s.coverage)), ("interval_score", .number(s.intervalScore())),
                    ("coverage_by_band", byBand { .optional(s.bandCoverage($0)) }),
                    ("forecasts_by_band", byBand { .integer(s.bandCount[$0]) }),
                    ("coverage_by_forecast_band", byBand { .optional(s.forecastBandCoverage($0)) }),
                    ("forecasts_by_forecast_band", byBand { .integer(s.forecastBandCount[$0]) }),
                ])
            })
    }

    /// The report as JSON: the model, the weather, pooled and per station by hours ahead (a
    /// figure that does not exist, such as a gain over no forecasts, is null).
    public func json(model: String, weather: String) -> String {
        let doc = JSONText.object([
            ("model", .string(model)), ("weather", .string(weather)), ("pooled", Self.horizonsJSON(pooled)),
            (
                "stations",
                .array(
                    stations.map {
                        .object([("station", .string($0.name)), ("by_horizon", Self.horizonsJSON($0.scores))])
                    })
            ),
        ])
        return String(decoding: doc.bytes, as: UTF8.self)
    }
}

private func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - s.count))
    return left ? s + fill : fill + s
}
