/// Interval bounds per band of the forecast's level, chosen so the interval holds its share in
/// every band of the truth as well.
///
/// Quantiles of the residuals per band of the forecast hold 90% of each forecast band, but
/// not of each band of the truth: forecasts regress towards the mean, so the hours that turn
/// out very polluted are mostly missed above (the forecast was lower) and the middling ones are
/// covered more than asked. Only the forecast is known when the interval is drawn, so the
/// bounds stay per forecast band; what changes is which quantile of that band's residuals
/// each bound is. A coordinate search moves the ten levels (a lower and an upper per band) on
/// a fixed grid, minimising the squared misses of the truth bands' coverage from the target,
/// in points, plus the mean width relative to the start as a tie-break: among levels that
/// cover alike, the narrowest. Pure and deterministic.
enum IntervalCalibration {
    struct Sample: Sendable, Equatable {
        /// Truth minus forecast, on the scale the interval is drawn on.
        var residual: Double
        var forecastBand: Int
        var truthBand: Int
    }

    /// The levels a lower bound may take (an upper one takes `1 -` these): from 0.5% to the
    /// 10% quantile, so a bound never passes the file's inner quantiles (0.1 and 0.9).
    static let lowerLevels = stride(from: 0.005, through: 0.1, by: 0.0025).map { $0 }

    /// `(lower, upper)` residual bounds per forecast band. A forecast band with fewer than
    /// `minimumSamples` keeps `fallback`'s bounds (and still counts in the truth bands'
    /// coverage); a truth band with fewer is left out of the objective. Nil without samples.
    static func bounds(
        _ samples: [Sample], bands: Int, coverage target: Double = 0.9, nominal: Double = 0.05,
        minimumSamples: Int = 300, fallback: (lower: Double, upper: Double)
    ) -> [(lower: Double, upper: Double)]? {
        guard !samples.isEmpty, bands > 0 else { return nil }
        // Residuals sorted per forecast band, and per (forecast band, truth band) pair.
        var byForecast = [[Double]](repeating: [], count: bands)
        var pairs = [[[Double]]](repeating: [[Double]](repeating: [], count: bands), count: bands)
        var truthCount = [Int](repeating: 0, count: bands)
        for s in samples
        where (0..<bands).contains(s.forecastBand) && (0..<bands).contains(s.truthBand) && s.residual.isFinite {
            byForecast[s.forecastBand].append(s.residual)
            pairs[s.forecastBand][s.truthBand].append(s.residual)
            truthCount[s.truthBand] += 1
        }
        for b in 0..<bands {
            byForecast[b].sort()
            for t in 0..<bands { pairs[b][t].sort() }
        }
        guard truthCount.contains(where: { $0 > 0 }) else { return nil }
        let free = (0..<bands).map { byForecast[$0].count >= minimumSamples }
        let levels = lowerLevels
        let start = levels.firstIndex { $0 >= nominal - 1e-12 } ?? levels.count - 1
        func value(_ b: Int, _ level: Double) -> Double { quantile(sorted: byForecast[b], level) }
        // Each band's bounds as indices into `levels` (lower: levels[i], upper: 1 - levels[j]).
        var lower = [Int](repeating: start, count: bands)
        var upper = [Int](repeating: start, count: bands)
        func bound(_ b: Int) -> (lower: Double, upper: Double) {
            free[b] ? (value(b, levels[lower[b]]), value(b, 1 - levels[upper[b]])) : fallback
        }
        /// The bounds' width summed over the samples.
        func width() -> Double {
            (0..<bands).reduce(0) { sum, b in
                let (l, u) = bound(b)
                return sum + Double(byForecast[b].count) * (u - l)
            }
        }
        let startWidth = width()
        let widthScale = startWidth > 0 ? startWidth : 1
        func objective() -> Double {
            var covered = [Int](repeating: 0, count: bands)
            for b in 0..<bands {
                let (l, u) = bound(b)
                for t in 0..<bands { covered[t] += count(pairs[b][t], from: l, through: u) }
            }
            var misses = 0.0
            for t in 0..<bands where truthCount[t] >= minimumSamples {
                let points = 100 * (Double(covered[t]) / Double(truthCount[t]) - target)
                misses += points * points
            }
            return misses + width() / widthScale
        }
        var best = objective()
        let steps = [-4, -1, 1, 4]
        for _ in 0..<400 {
            var improved = false
            for b in 0..<bands where free[b] {
                for side in 0..<2 {
                    for step in steps {
                        let was = side == 0 ? lower[b] : upper[b]
                        let next = was + step
                        guard levels.indices.contains(next) else { continue }
                        if side == 0 { lower[b] = next } else { upper[b] = next }
                        let score = objective()
                        if score < best - 1e-12 {
                            best = score
                            improved = true
                        } else if side == 0 {
                            lower[b] = was
                        } else {
                            upper[b] = was
                        }
                    }
                }
            }
            if !improved { break }
        }
        return (0..<bands).map(bound)
    }

    /// Linearly interpolated quantile of sorted values.
    static func quantile(sorted: [Double], _ level: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let pos = level * Double(sorted.count - 1)
        let lo = Int(pos)
        let hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - Double(lo))
    }

    /// How many of the sorted values lie in `lower...upper`.
    static func count(_ sorted: [Double], from lower: Double, through upper: Double) -> Int {
        func firstIndex(_ isAfter: (Double) -> Bool) -> Int {
            var lo = 0
            var hi = sorted.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if isAfter(sorted[mid]) { hi = mid } else { lo = mid + 1 }
            }
            return lo
        }
        return max(0, firstIndex { $0 > upper } - firstIndex { $0 >= lower })
    }
}
