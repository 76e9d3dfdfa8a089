import AirQuality

/// Normalised rows and the 24-step windows over a contiguous range of them (docs/course.md step 9).
///
/// Window `i` holds rows `start + i ..< start + i + steps`; its target is the target of its last
/// row, i.e. PM2.5 one hour after the window.
public struct WindowedData: Sendable {
    /// Normalised features, row-major, shared by all windows of the series.
    public let features: [Double]
    /// Normalised targets, one per row.
    public let targets: [Double]
    public let rows: Range<Int>
    public let steps: Int
    /// Which windows to use (an index into the range's windows); all of them when `nil`.
    public let selection: [Int]?
    public let featureCount: Int
    /// `features` rounded to `Float`, what the training kernels read.
    public let floatFeatures: [Float]

    public init(features: [Double], targets: [Double], rows: Range<Int>, steps: Int, selection: [Int]? = nil) {
        self.init(
            features: features, floatFeatures: features.map { Float($0) }, targets: targets, rows: rows, steps: steps,
            selection: selection)
    }

    init(
        features: [Double], floatFeatures: [Float], targets: [Double], rows: Range<Int>, steps: Int, selection: [Int]?
    ) {
        precondition(!targets.isEmpty && features.count % targets.count == 0)
        precondition(rows.lowerBound >= 0 && rows.upperBound <= targets.count && rows.count > steps)
        self.features = features
        self.floatFeatures = floatFeatures
        self.targets = targets
        self.rows = rows
        self.steps = steps
        self.selection = selection
        self.featureCount = features.count / targets.count
    }

    /// The number of windows: as in the course, the last row's own window is left out, so
    /// every window's target hour lies inside the range.
    public var count: Int { selection?.count ?? (rows.count - steps) }

    /// The first row of window `i`.
    public func firstRow(_ i: Int) -> Int { rows.lowerBound + (selection?[i] ?? i) }

    public func target(_ i: Int) -> Double { targets[firstRow(i) + steps - 1] }

    /// Calls `body` with window `i`'s `steps x featureCount` values, step-major.
    public func withWindow<R>(_ i: Int, _ body: (UnsafeBufferPointer<Double>) -> R) -> R {
        let start = firstRow(i) * featureCount
        return features.withUnsafeBufferPointer { all in
            body(UnsafeBufferPointer(rebasing: all[start..<(start + steps * featureCount)]))
        }
    }

    /// Calls `body` with window `i`'s values rounded to `Float`.
    public func withFloatWindow<R>(_ i: Int, _ body: (UnsafeBufferPointer<Float>) -> R) -> R {
        let start = firstRow(i) * featureCount
        return floatFeatures.withUnsafeBufferPointer { all in
            body(UnsafeBufferPointer(rebasing: all[start..<(start + steps * featureCount)]))
        }
    }

    /// The same rows, restricted to the given windows of this set.
    public func selecting(_ windows: [Int]) -> WindowedData {
        WindowedData(
            features: features, floatFeatures: floatFeatures, targets: targets, rows: rows, steps: steps,
            selection: windows.map { selection?[$0] ?? $0 })
    }

    /// Splits the windows into blocks of `blockHours` rows and holds out every `every`-th block
    /// (the last of each group) for validation. A window belongs to a side only when all of its
    /// rows and its target hour do, so no hour is seen by both sides.
    public func blockedValidationSplit(blockHours: Int = 168, every: Int = 10) -> (
        train: WindowedData, validation: WindowedData
    ) {
        func isValidation(_ row: Int) -> Bool { ((row - rows.lowerBound) / blockHours) % every == every - 1 }
        var train: [Int] = []
        var validation: [Int] = []
        for i in 0..<count {
            let first = firstRow(i)
            let last = first + steps  // the target hour
            let a = isValidation(first)
            if a != isValidation(last) { continue }
            if a { validation.append(i) } else { train.append(i) }
        }
        return (selecting(train), selecting(validation))
    }
}
