import AirQuality

/// The program's version, and what `aqcast --version` says.
public enum AQCastVersion {
    /// This release (the Debian package takes its version from here).
    public static let number = "0.5.1"

    /// `aqcast 0.5.1` and the model it ships: file, recipe, seed and the hash of its weights,
    /// as the forecasts name it, or where it was looked for when there is none.
    public static let line: String = {
        let model: String
        do {
            let path = try ShippedFile.model()
            let file = try ModelFile.load(path: path)
            model = "shipped model " + file.identity(name: ShippedFile.modelName) + " (\(path))"
        } catch {
            model = "\(error)"
        }
        return "aqcast \(number)\n\(model)"
    }()
}
