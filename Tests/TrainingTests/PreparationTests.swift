import Testing

@testable import AirQuality
@testable import Training

@Suite struct PreparationTests {
    let records = try! PRSAReader.parse(Repository.fixture("tiny.csv"), file: "tiny.csv")

    @Test func readsCRLFRowsWithNAAsMissing() {
        #expect(records.count == 7)
        #expect(records[0].pm25 == nil && records[2].pm25 == 12)
        #expect(records[3].windDirection == .calm && records[6].windDirection == .southEast)
        #expect(records[1].cumulatedWindSpeed == 4.92)
    }

    @Test func interpolatesFromZeroBeforeTheFirstRowAndLinearlyInside() {
        let pm = PreparedSeries.interpolate(records.map(\.pm25))
        // Rows 0 and 1 lie on the line from 0 (before row 0) to 12 at row 2.
        #expect(abs(pm[0] - 4) < 1e-12 && abs(pm[1] - 8) < 1e-12 && pm[2] == 12)
        #expect(abs(pm[3] - 16.25) < 1e-12)
        // A trailing gap carries the last valid value.
        #expect(pm[6] == 19.9)
    }

    @Test func windCodesAreTheCoursesOrdinals() {
        #expect(WindDirection.allCases.map(\.code) == [0, 3, 6, 9, 12])
        let series = PreparedSeries(records: records)
        #expect((0..<7).map { series.feature(.windDirection, row: $0) } == [9, 9, 9, 0, 3, 3, 6])
    }

    @Test func windSpeedIsDeaccumulatedWithinARunOfOneDirection() {
        let speed = PreparedSeries.deaccumulatedWindSpeed(records)
        let expected = [1.79, 4.92 - 1.79, 6.71 - 4.92, 0.89, 1.79, 2.68 - 1.79, 0.89]
        for (a, b) in zip(speed, expected) { #expect(abs(a - b) < 1e-12) }
    }

    @Test func targetIsNextHourTruncatedAndTheLastRowIsExtrapolated() {
        let series = PreparedSeries(records: records)
        // Next hour's interpolated PM2.5, truncated: 8, 12, 16.25, 20.5, 19.9, 19.9.
        #expect(Array(series.targets.prefix(6)) == [8, 12, 16, 20, 19, 19])
        // Last row: 2 * 19.9 - 19.9 = 19.9 -> 19.
        #expect(series.targets[6] == 19)
    }

    @Test func featuresAreInTheCoursesOrderAndFloat32Rounded() {
        let series = PreparedSeries(records: records)
        let row2 = (0..<6).map { series.features[2 * 6 + $0] }
        #expect(row2 == [12, -20, -11, 1019, 9, Double(Float(6.71 - 4.92))])
    }
}

@Suite struct WindowTests {
    @Test func splitsAtTheTestYearAndNormalisesOverBothSides() throws {
        let data = try PRSADataset(csv: syntheticCSV(hours: 96), file: "synthetic")
        // The 48 rows of 2013 train, the 48 rows of 2014 test.
        #expect(data.trainRowCount == 48)
        #expect(data.train.count == 48 - 24 && data.test.count == 48 - 24)
        let pm = data.normalisation.features[0]
        let values = (0..<96).map { data.series.feature(.pm25, row: $0) }
        #expect(pm.min == values.min()! && pm.max == values.max()!)
        let x = data.train.features
        for f in 0..<6 {
            let column = stride(from: f, to: x.count, by: 6).map { x[$0] }
            #expect(column.min()! == 0 && column.max()! == 1)
        }
    }

    @Test func windowHoldsTwentyFourRowsAndTheTargetOfItsLastRow() throws {
        let data = try PRSADataset(csv: syntheticCSV(hours: 96), file: "synthetic")
        let w = 5
        data.test.withWindow(w) { window in
            #expect(window.count == 24 * 6)
            let first = data.test.firstRow(w)
            #expect(first == 48 + 5)
            #expect(window[0] == data.test.features[first * 6])
            #expect(window[23 * 6 + 3] == data.test.features[(first + 23) * 6 + 3])
        }
        #expect(data.test.target(w) == data.test.targets[48 + 5 + 23])
        // The target is next hour's PM2.5 on the target scale.
        let nextPM = data.series.feature(.pm25, row: 48 + 5 + 24)
        #expect(data.normalisation.target.denormalise(data.test.target(w)) == nextPM.rounded(.towardZero))
    }

    @Test func blockedValidationKeepsEveryHourOnOneSide() throws {
        let data = try PRSADataset(csv: syntheticCSV(hours: 800), file: "synthetic")
        let (train, validation) = data.train.blockedValidationSplit(blockHours: 48, every: 4)
        #expect(train.count > 0 && validation.count > 0)
        func hours(_ d: WindowedData) -> Set<Int> {
            var s = Set<Int>()
            for i in 0..<d.count { for r in d.firstRow(i)...(d.firstRow(i) + 24) { s.insert(r) } }
            return s
        }
        #expect(hours(train).isDisjoint(with: hours(validation)))
    }
}

@Suite struct MalformedCSVTests {
    let header = "No,year,month,day,hour,pm2.5,DEWP,TEMP,PRES,cbwd,Iws,Is,Ir\n"

    func error(_ text: String) -> DataFileError? {
        do {
            _ = try PRSAReader.parse(text, file: "bad.csv")
            return nil
        } catch {
            return error
        }
    }

    @Test func missingColumnNamesTheColumn() {
        let e = error("No,year,month,day,hour,pm2.5,DEWP,TEMP,cbwd,Iws\n1,2010,1,1,0,5,-21,-11,NW,1.79\n")
        #expect(e?.description.hasPrefix("bad.csv line 1, column PRES: missing column 'PRES'") == true)
    }

    @Test func unknownWindCodeGivesLineAndColumn() {
        let e = error(header + "1,2010,1,1,0,5,-21,-11,1021,NW,1.79,0,0\n2,2010,1,1,1,5,-21,-11,1021,XX,1.79,0,0\n")
        #expect(
            e
                == DataFileError(
                    file: "bad.csv", line: 3, column: "cbwd",
                    reason: "unknown wind code 'XX' (expected one of cv, NE, SE, NW, SW)"))
    }

    @Test func nonNumberGivesLineAndColumn() {
        let e = error(header + "1,2010,1,1,0,5,-21,warm,1021,NW,1.79,0,0\n")
        #expect(e?.description == "bad.csv line 2, column TEMP: 'warm' is not a number")
    }

    @Test func shortRowAndBadHourAreRefused() {
        #expect(error(header + "1,2010,1,1,0,5,-21\n")?.description == "bad.csv line 2: expected 13 fields, found 7")
        #expect(error(header + "1,2010,1,1,24,5,-21,-11,1021,NW,1.79,0,0\n")?.column == "hour")
        #expect(error("")?.line == 1)
    }
}
