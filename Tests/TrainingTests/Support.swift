import Foundation

@testable import AirQuality
@testable import Training

/// Files that ship with the repository, found from this source file.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let dataPath = root.appendingPathComponent("data/PRSA_data_2010.1.1-2014.12.31.csv").path
    static let modelPath = root.appendingPathComponent("models/aqcast-default.json").path

    static func fixture(_ name: String) -> String {
        let url = Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)!
        return String(decoding: try! Data(contentsOf: url), as: UTF8.self)
    }

    /// The real data set, prepared once for all tests.
    static let dataset: PRSADataset = {
        let text = String(decoding: FileManager.default.contents(atPath: dataPath)!, as: UTF8.self)
        return try! PRSADataset(csv: text, file: dataPath)
    }()
}

/// A synthetic PRSA CSV of `hours` rows with smooth made-up values: the first half in 2013,
/// the second in 2014 (dates run on 28-day months; only the year matters to the split).
func syntheticCSV(hours: Int) -> String {
    var out = "No,year,month,day,hour,pm2.5,DEWP,TEMP,PRES,cbwd,Iws,Is,Ir\n"
    let winds = ["NW", "NW", "cv", "NE", "SE", "SE"]
    var cumulated = 0.0
    for i in 0..<hours {
        let year = i < hours / 2 ? 2013 : 2014
        let (month, d) = (1 + (i / 24 / 28) % 12, 1 + (i / 24) % 28)
        let wind = winds[(i / 3) % winds.count]
        cumulated = i > 0 && wind == winds[((i - 1) / 3) % winds.count] ? cumulated + 1.5 : 0.89
        let pm = 60 + 40 * sin(Double(i) / 5) + Double(i % 7)
        out += "\(i + 1),\(year),\(month),\(d),\(i % 24),\(Int(pm)),\(-10 + i % 5),\(i % 9),\(1010 + i % 11),"
        out += "\(wind),\(cumulated),0,0\n"
    }
    return out
}
