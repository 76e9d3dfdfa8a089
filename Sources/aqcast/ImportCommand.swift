import AirQuality
import ArgumentParser
import CommandSupport
import Foundation
import ReadingLog
import Training

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load a history CSV (PRSA or multi-site layout, or any other with --columns) into the reading log.")

    @Option(help: "History CSV: the PRSA layout (one station) or the multi-site one (its station column).")
    var csv: String

    @Option(
        help:
            "For a CSV in another layout: which column holds what, e.g. time=ts,station=id,pm25=pm2_5,temperature=t,humidity=rh (also dew_point, pressure, wind_speed, wind_direction)."
    )
    var columns: String?

    @Option(help: "With --columns: the temperature unit, C, F or K.")
    var temperatureUnit: String = "C"

    @Option(help: "With --columns: the pressure unit, hPa, Pa, kPa, mmHg or inHg.")
    var pressureUnit: String = "hPa"

    @Option(help: "With --columns: the wind speed unit, m/s, km/h, mph or kn.")
    var windSpeedUnit: String = "m/s"

    @Option(help: "With --columns: the offset of times written without a zone, e.g. +08:00.")
    var timezone: String?

    @Option(
        help: "Station id the history belongs to (default: a PRSA file's name, a multi-site file's station column).")
    var station: String?

    @Option(help: "State directory holding readings.sqlite.")
    var stateDir: String = "/var/lib/aqcast"

    func validate() throws {
        if let station, let problem = ReadingDecoder.validateStation(station) {
            throw ValidationError("--station: \(problem)")
        }
        if let columns, case .failure(let e) = MappedCSV.parse(columns: columns) {
            throw ValidationError("--columns: \(e.reason)")
        }
        if TemperatureUnit(rawValue: temperatureUnit) == nil {
            throw ValidationError("--temperature-unit must be C, F or K")
        }
        if PressureUnit(rawValue: pressureUnit) == nil {
            throw ValidationError("--pressure-unit must be hPa, Pa, kPa, mmHg or inHg")
        }
        if SpeedUnit(rawValue: windSpeedUnit) == nil {
            throw ValidationError("--wind-speed-unit must be m/s, km/h, mph or kn")
        }
        if let timezone, PayloadFormat.offset(parsing: timezone) == nil {
            throw ValidationError("--timezone must be an offset such as +08:00, or UTC; got '\(timezone)'")
        }
    }

    /// The readings of a CSV read by `--columns`, with the rows left out said on standard error.
    func mappedReadings(_ spec: String) throws -> [Reading] {
        var mapping = try MappedCSV.parse(columns: spec).get()
        mapping.format.units.temperature = TemperatureUnit(rawValue: temperatureUnit)!
        mapping.format.units.pressure = PressureUnit(rawValue: pressureUnit)!
        mapping.format.units.windSpeed = SpeedUnit(rawValue: windSpeedUnit)!
        mapping.format.timeZoneOffset = timezone.flatMap(PayloadFormat.offset(parsing:))
        guard let bytes = FileManager.default.contents(atPath: csv) else {
            throw CommandFailure("cannot read \(csv)")
        }
        let (readings, skipped, reasons) = try mapping.readings(
            String(decoding: bytes, as: UTF8.self), file: csv, station: station)
        if skipped > 0 {
            printError("\(csv): \(skipped) rows left out; the first: \(reasons.joined(separator: "; "))")
        }
        return readings
    }

    func run() throws {
        let (layout, readings): (String, [Reading])
        if let columns {
            (layout, readings) = ("mapped", try mappedReadings(columns))
        } else {
            let history = try HistoryFile.readings(path: csv, station: station)
            (layout, readings) = (history.layout.rawValue, history.readings)
        }
        let stations = Set(readings.map(\.station)).sorted()
        if let bad = stations.lazy.compactMap({ ReadingDecoder.validateStation($0) }).first {
            throw CommandFailure("\(csv): \(bad)")
        }
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        let log = try ReadingLog(path: ReadingLog.path(inStateDirectory: stateDir))
        let arrived = Date().timeIntervalSince1970
        var first = 0
        while first < readings.count {
            let batch = readings[first..<min(readings.count, first + 10_000)]
            try log.append(batch.map { .init(reading: $0, arrived: arrived) })
            first += batch.count
        }
        print(
            "imported \(readings.count) readings (\(layout) layout) for \(stations.joined(separator: ", ")) "
                + "into \(log.path) (hours without PM2.5 left out); the log holds \(try log.count())")
    }
}
