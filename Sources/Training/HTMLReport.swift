import AirQuality

/// The self-contained evaluation page: loss curves, predicted-vs-true plots for the seed's test
/// hours 1050..1150 at p = 8, 4, 2, 1, error by horizon, and the comparison table. Inline SVG,
/// no scripts, nothing fetched.
public struct HTMLReport {
    public var model: ModelFile
    public var modelPath: String
    public var runs: EvaluationRuns
    public var dataset: PRSADataset
    public var plotWindows = 1050..<1150

    public init(model: ModelFile, modelPath: String, runs: EvaluationRuns, dataset: PRSADataset) {
        self.model = model
        self.modelPath = modelPath
        self.runs = runs
        self.dataset = dataset
    }

    /// The course's published figures (loss / R^2) for its nets and persistence (docs/course.md).
    static let published: [(p: Int, deep: (Double, Double), single: (Double, Double), persistence: (Double, Double))] =
        [
            (8, (0.001157, 0.740684), (0.001171, 0.737769), (0.001352, 0.697076)),
            (4, (0.000644, 0.855700), (0.000686, 0.846447), (0.000696, 0.844077)),
            (2, (0.000377, 0.915486), (0.000414, 0.907291), (0.000394, 0.911641)),
            (1, (0.000239, 0.946411), (0.000268, 0.940090), (0.000243, 0.945480)),
        ]

    public func render() -> String {
        let a = model.architecture
        let t = model.training
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>aqcast model report</title>
            <style>
            body { font-family: sans-serif; max-width: 820px; margin: 2em auto; color: #222; }
            table { border-collapse: collapse; margin: 1em 0; font-size: 13px; }
            th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
            th { background: #f4f4f4; } td.l { text-align: left; }
            .better { color: #060; } .worse { color: #a00; }
            </style></head><body>
            <h1>aqcast model report</h1>
            <p>Model <code>\(escapeHTML(modelPath))</code>: \(escapeHTML(t.recipe.name)) recipe, seed \(t.seed),
            hidden layers \(a.hiddenSizes.map(String.init).joined(separator: "-")),
            \(a.biases ? "with" : "no") biases, \(a.skip == nil ? "no persistence skip" : "persistence skip"),
            \(a.parameterCount) parameters. Trained on \(escapeHTML(t.dataSource)) \(t.firstHour) to \(t.lastHour)
            (\(t.trainWindows) training windows, \(t.validationWindows) validation windows), best epoch
            \(t.bestEpoch) of \(t.history.count). Tested on \(runs.summary.testWindows) windows of \(dataset.records[dataset.trainRowCount].year).</p>

            """
        html += "<h2>Comparison</h2>\n" + comparisonTable()
        html += "<h2>Training</h2>\n" + lossChart()
        html += "<h2>Error by horizon</h2>\n" + horizonChart()
        html += "<h2>Predicted and true PM2.5, test windows \(plotWindows.lowerBound)..\(plotWindows.upperBound)</h2>\n"
        html += "<p>Oracle protocol (true future weather) as in the course's figures; each point is the "
        html += "forecast for that window's hour, made recursively from the start of its block of p hours.</p>\n"
        for p in EvaluationSummary.predictionLengths { html += predictionChart(p: p) + "\n" }
        html += "<p>Data: Beijing PM2.5 Data, UCI Machine Learning Repository (Liang et al. 2015), CC BY 4.0.</p>\n"
        return html + "</body></html>\n"
    }

    func comparisonTable() -> String {
        var out = "<table><tr><th>protocol</th><th>p</th><th>model loss</th><th>model R²</th><th>RMSE µg/m³</th>"
        out += "<th>persistence loss</th><th>persistence R²</th><th>RMSE µg/m³</th><th>RMSE gain</th></tr>\n"
        for r in runs.summary.protocols {
            let gain = (1 - r.modelRmse / r.persistenceRmse) * 100
            out += "<tr><td class=l>\(r.weather.rawValue)</td><td>\(r.p)</td>"
            out += "<td>\(formatFixed(r.model.loss, 6))</td><td>\(formatFixed(r.model.r2, 4))</td>"
            out += "<td>\(formatFixed(r.modelRmse, 1))</td><td>\(formatFixed(r.persistence.loss, 6))</td>"
            out += "<td>\(formatFixed(r.persistence.r2, 4))</td><td>\(formatFixed(r.persistenceRmse, 1))</td>"
            out += "<td class=\(gain > 0 ? "better" : "worse")>\(formatFixed(gain, 1))%</td></tr>\n"
        }
        out += "</table>\n<p>Published figures (docs/course.md, oracle protocol), loss / R²:</p>\n"
        out += "<table><tr><th>p</th><th>course deep RNN</th><th>course 1-layer RNN</th><th>persistence</th>"
        out += "<th>this model</th></tr>\n"
        for row in Self.published {
            let mine = runs.summary.result(.oracle, p: row.p)
            func cell(_ v: (Double, Double)) -> String { "\(formatFixed(v.0, 6)) / \(formatFixed(v.1, 4))" }
            out += "<tr><td>\(row.p)</td><td>\(cell(row.deep))</td><td>\(cell(row.single))</td>"
            out +=
                "<td>\(cell(row.persistence))</td><td>\(mine.map { cell(($0.model.loss, $0.model.r2)) } ?? "")</td></tr>\n"
        }
        return out + "</table>\n"
    }

    func lossChart() -> String {
        let h = model.training.history
        return SVGChart(
            title: "Loss per epoch ((a - y)² / 2, normalised)", xLabel: "epoch", yLabel: "loss (log scale)",
            series: [
                .init(name: "train", color: "#1f77b4", points: h.map { (Double($0.epoch), $0.trainLoss) }),
                .init(name: "validation", color: "#d62728", points: h.map { (Double($0.epoch), $0.validationLoss) }),
            ], logY: true
        ).render()
    }

    func horizonChart() -> String {
        let s = runs.summary
        func pts(_ e: [HorizonError], _ k: KeyPath<HorizonError, Double>) -> [(x: Double, y: Double)] {
            e.map { (Double($0.horizon), $0[keyPath: k]) }
        }
        return SVGChart(
            title: "RMSE by hours ahead (8-hour recursive forecasts)", xLabel: "hours ahead", yLabel: "RMSE µg/m³",
            series: [
                .init(
                    name: "model, oracle weather", color: "#1f77b4", points: pts(s.oracleHorizons, \.modelRmse),
                    marker: true),
                .init(
                    name: "model, live (weather held)", color: "#2ca02c", points: pts(s.liveHorizons, \.modelRmse),
                    marker: true),
                .init(
                    name: "persistence", color: "#7f7f7f", points: pts(s.oracleHorizons, \.persistenceRmse),
                    marker: true, dashed: true),
            ]
        ).render()
    }

    func predictionChart(p: Int) -> String {
        guard let run = runs.run(.oracle, p: p) else { return "" }
        let span = dataset.normalisation.target  // the runs are reported on the data set's ranges
        let windows = plotWindows.clamped(to: 0..<run.predictions.count)
        // Each window's target is the hour after its last input row; x is that hour (Unix hours).
        let firstTarget = dataset.trainRowCount + PRSADataset.steps
        func hour(_ window: Int) -> Double {
            let row = min(firstTarget + window, dataset.records.count - 1)
            return Double(dataset.records[row].unixTime / 3600) + Double(firstTarget + window - row)
        }
        let truth = windows.map { (hour($0), span.denormalise(run.targets[$0])) }
        let pred = windows.map { (hour($0), span.denormalise(run.predictions[$0])) }
        let r = runs.summary.result(.oracle, p: p)
        return SVGChart(
            title: "p = \(p): loss \(formatFixed(r?.model.loss ?? 0, 6)), R² \(formatFixed(r?.model.r2 ?? 0, 4))",
            xLabel: "hour forecast (Beijing time, as in the data set)", yLabel: "PM2.5 µg/m³",
            series: [
                .init(name: "true", color: "#1f77b4", points: truth, marker: true),
                .init(name: "predicted", color: "#d62728", points: pred, marker: true),
            ], height: 260, xTicks: Self.dayTicks
        ).render()
    }

    /// Midnights in a range of Unix hours, labelled with their date, every day or every few
    /// days so that at most eight are shown; noon and six-hour marks for a range under two days.
    static func dayTicks(_ range: ClosedRange<Double>) -> [(x: Double, label: String)] {
        let first = Int64((range.lowerBound / 24).rounded(.up))
        let last = Int64((range.upperBound / 24).rounded(.down))
        let every = max(1, Int64((Double(last - first + 1) / 8).rounded(.up)))
        var ticks: [(Double, String)] = []
        for day in stride(from: first, through: last, by: Int(every)) {
            ticks.append((Double(day * 24), String(isoHour(day * 24).prefix(10))))
        }
        if ticks.count < 2 {
            let start = Int64((range.lowerBound / 6).rounded(.up))
            let end = Int64((range.upperBound / 6).rounded(.down))
            ticks = (start...max(start, end)).map { k in
                let text = isoHour(k * 6)
                return (
                    Double(k * 6), String(text.dropFirst(5).prefix(8)).replacingOccurrences(of: "T", with: " ") + "h"
                )
            }
        }
        return ticks
    }
}
