/// A min-max range that maps `min...max` onto `0...1`.
public struct MinMaxRange: Codable, Sendable, Equatable {
    public var min: Double
    public var max: Double

    public init(min: Double, max: Double) {
        self.min = min
        self.max = max
    }

    public init<S: Sequence<Double>>(covering values: S) {
        var lo = Double.infinity
        var hi = -Double.infinity
        for v in values {
            lo = Swift.min(lo, v)
            hi = Swift.max(hi, v)
        }
        self.init(min: lo, max: hi)
    }

    public var span: Double { max - min }
    @inlinable public func normalise(_ x: Double) -> Double { (x - min) / (max - min) }
    @inlinable public func denormalise(_ x: Double) -> Double { x * (max - min) + min }
}

/// The per-feature and target ranges a model was trained with (docs/course.md step 8).
public struct Normalisation: Codable, Sendable, Equatable {
    public var features: [MinMaxRange]
    public var target: MinMaxRange

    public init(features: [MinMaxRange], target: MinMaxRange) {
        self.features = features
        self.target = target
    }

    /// Rows of inputs (row-major, as many per row as there are ranges), each normalised by its
    /// input's range.
    public func normalised(inputs: [Double]) -> [Double] {
        let n = features.count
        var x = inputs
        for i in x.indices { x[i] = features[i % n].normalise(x[i]) }
        return x
    }

    /// Problems that make the ranges unusable, or `nil`.
    public func validationProblem() -> String? {
        for (i, r) in (features + [target]).enumerated() {
            let name = i < features.count ? "feature \(i)" : "target"
            if !r.min.isFinite || !r.max.isFinite { return "\(name) range is not finite" }
            if !(r.max > r.min) { return "\(name) range is empty (min \(r.min), max \(r.max))" }
        }
        return nil
    }

    /// Maps a target-scale value (normalised PM2.5 label) to the PM2.5 feature's scale.
    public func targetToPM25Feature(_ y: Double) -> Double {
        features[Feature.pm25.rawValue].normalise(target.denormalise(y))
    }

    /// Maps the normalised PM2.5 feature to the normalised target scale.
    public func pm25FeatureToTarget(_ x: Double) -> Double {
        target.normalise(features[Feature.pm25.rawValue].denormalise(x))
    }

    /// The fixed skip link that adds the last observed PM2.5 (on the target scale) to the output.
    public var persistenceSkip: (scale: Double, offset: Double) {
        let f = features[Feature.pm25.rawValue]
        let scale = f.span / target.span
        return (scale, (f.min - target.min) / target.span)
    }
}
