/// The PM2.5 bands (µg/m³) the project reports and calibrates intervals in: below 35, 35-75,
/// 75-150, 150-250 and 250 and above. The backtest counts coverage in them, the trainer draws
/// its per-band interval quantiles in them, and a model file keeps their edges beside those
/// quantiles.
public enum PM25Bands {
    /// The upper edge of every band but the last, which is open above.
    public static let upperEdges: [Double] = [35, 75, 150, 250]
    /// Each band's name, as reports print it.
    public static let names = ["<35", "35-75", "75-150", "150-250", ">=250"]
    public static var count: Int { upperEdges.count + 1 }

    /// The band of `value` among the bands whose upper edges are `edges` (ascending): the first
    /// whose edge is above it, else the last; a NaN falls in the last.
    public static func index(of value: Double, edges: [Double] = upperEdges) -> Int {
        edges.firstIndex { value < $0 } ?? edges.count
    }
}
