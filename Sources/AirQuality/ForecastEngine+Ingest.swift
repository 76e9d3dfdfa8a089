import Foundation

/// How the engine handles a reading: decoded, admitted (the station bound and flood allowance),
/// added to its station's window, and the station forecast when an hour completes.
extension ForecastEngine.Core {
    /// Handles one payload for `station` in `format` (`quantity`: the one a single-value
    /// topic named); `now` is the wall clock in Unix seconds, and the time of a payload without
    /// one. `readingsPerHour` overrides the engine's setting for this station (0: hours are
    /// complete when a later one starts or the clock passes their end).
    func ingest(
        station: String, payload: [UInt8], format: PayloadFormat = PayloadFormat(profile: .native),
        quantity: Quantity? = nil, readingsPerHour: Int? = nil, retained: Bool, now: Double
    ) -> ForecastEngine.Outcome {
        if retained {
            return reject(Rejection(.retained, "retained message (left on the broker earlier), not a live reading"))
        }
        var observation: Observation
        switch format.decode(payload, station: station, quantity: quantity) {
        case .failure(let r): return reject(r)
        case .success(let o): observation = o
        }
        if observation.isEmpty {
            return reject(Rejection(.missingField, "the message holds none of the quantities the model takes"))
        }
        let stampedOnArrival = observation.time == nil
        let time = observation.time ?? Int64(now.rounded(.down))
        observation.time = time
        let id = observation.station
        if Double(time) > now + Double(settings.maximumFutureSeconds) { return reject(future(time)) }
        let isSource = sources.contains(id)
        if observation.pm25 == nil, !isSource, !format.profile.isSingleValue {
            return reject(Rejection(.missingField, "no PM2.5: \(format.pm25Place) is missing"))
        }
        if let refused = admit(id, now: now) { return reject(refused) }
        if let refused = spend(&stations[id]!, hour: hourContaining(time), now: now) { return reject(refused) }
        stations[id]!.readingsPerHour = readingsPerHour
        if isSource || format.profile.isSingleValue {
            if stations[id]!.held == nil { stations[id]!.held = HeldValues() }
            stations[id]!.held!.take(observation, at: time)
        }
        guard observation.pm25 != nil else {
            // A weather source's weather, or one value of a station that sends one per topic.
            counters.accepted += 1
            return .accepted(station: id, hour: hourContaining(time), forecast: nil, waiting: nil)
        }
        let source = settings.weatherSource(of: id).map { ($0, stations[$0]?.held) }
        let made = ReadingAssembly.complete(observation, time: time, own: stations[id]!.held, source: source)
        // Missing inputs are NaN: fine when a model for fewer inputs does without them.
        guard models.contains(where: { $0.serves(made.reading.features) }) else {
            var r = ReadingAssembly.refusal(missing: made.missing, source: source)
            if source == nil { r.code = .missingField }
            return reject(r)
        }
        stations[id]!.origins = made.origins
        return update(&stations[id]!, with: made.reading, now: now, spent: true, skipSameMinute: stampedOnArrival)
    }

    private func future(_ time: Int64) -> Rejection {
        Rejection(
            .future,
            "time \(isoHour(hourContaining(time))) is more than \(settings.maximumFutureSeconds) s ahead of this clock"
        )
    }

    /// Handles one decoded reading (a history replayed by the backtest: the same path as a
    /// live payload's from here on); `now` is the clock the reading is judged by.
    func ingest(_ reading: Reading, now: Double) -> ForecastEngine.Outcome {
        return ingestLocked(reading, now: now)
    }

    private func ingestLocked(_ reading: Reading, now: Double) -> ForecastEngine.Outcome {
        let station = reading.station
        if Double(reading.time) > now + Double(settings.maximumFutureSeconds) {
            return reject(future(reading.time))
        }
        if let refused = admit(station, now: now) { return reject(refused) }
        // In place: a copy of the station would copy its window on every reading.
        return update(&stations[station]!, with: reading, now: now)
    }

    /// The stations that left memory since the last call.
    func takeExpired() -> [String] {
        defer { expired = [] }
        return expired
    }

    /// Makes room for `station` if it is new: drops the stations that expired, then refuses a
    /// new one past ``Settings/maximumStations``.
    func admit(_ station: String, now: Double) -> Rejection? {
        if now - lastSweep >= 60 {
            lastSweep = now
            let limit = Double(settings.stationExpiryHours) * 3600
            let gone = stations.filter { now - $0.value.lastRefill > limit }.keys
            for id in gone { stations[id] = nil }
            if expired.count < 100_000 { expired.append(contentsOf: gone.sorted()) }
        }
        guard stations[station] == nil else { return nil }
        guard stations.count < settings.maximumStations else {
            return Rejection(
                .tooManyStations,
                "already \(settings.maximumStations) stations (max_stations); readings for a new one are refused")
        }
        stations[station] = newStation(now: now)
        return nil
    }

    /// Rebuilds station windows from logged readings (oldest first) and the stations' bias
    /// corrections from their logged errors, and forecasts at once from each station's newest
    /// hour whose window is whole; nothing is counted or logged again.
    func restore(_ readings: [Reading], bias: [String: BiasCorrection], now: Double) -> [StationForecast] {
        for r in readings {
            guard admit(r.station, now: now) == nil else { continue }
            _ = stations[r.station]!.window.add(r)
        }
        for (key, correction) in bias where stations[key] != nil { stations[key]!.bias = correction }
        var out: [StationForecast] = []
        for key in stations.keys.sorted() {
            guard let hour = stations[key]!.window.newestHour,
                case .success(let rows) = stations[key]!.window.window(endingAt: hour)
            else { continue }
            guard let m = models.first(where: { $0.serves(rows) }) else { continue }
            let values = m.forecaster.values(window: rows, hours: settings.horizonHours)
            var corrections: [Double] = []
            if correcting(&stations[key]!, model: m) {
                corrections = stations[key]!.bias!.corrections(from: hour, hours: values.count)
                stations[key]!.bias!.expect(from: hour, values)
            }
            let hours = m.forecaster.hours(from: values, corrections: corrections)
            stations[key]!.window.lastForecastHour = hour
            stations[key]!.attemptedHour = hour
            stations[key]!.reported = .forecasting(inputs: m.inputs)
            out.append(
                StationForecast(
                    station: key, basedOnHour: hour, issuedAt: now, model: m.identity, hours: hours,
                    intervalLevels: m.forecaster.intervalLevels, modelInputs: m.inputs))
        }
        return out
    }

    /// Takes one message from the station's allowance, or says it is flooding.
    private func spend(_ s: inout ForecastEngine.Station, hour: Int64, now: Double) -> Rejection? {
        // Token bucket: a minute's allowance, refilled continuously, by the clock or by the
        // station's own time moving on, whichever went further: a history replayed faster than
        // real time (an hour of data a millisecond) is not a flood, while a live sensor's hours
        // move only as fast as the clock, so many readings for its current hour still are.
        let rate = Double(settings.stationReadingsPerMinute) / 60
        let dataSeconds = s.window.newestHour.map { hour > $0 ? Double(hour - $0) * 3600 : 0 } ?? 0
        s.tokens = min(
            Double(settings.stationReadingsPerMinute), s.tokens + max(0, now - s.lastRefill, dataSeconds) * rate)
        s.lastRefill = now
        guard s.tokens >= 1 else {
            return Rejection(
                .flood, "more than \(settings.stationReadingsPerMinute) readings a minute from this station")
        }
        s.tokens -= 1
        return nil
    }

    private func update(
        _ s: inout ForecastEngine.Station, with reading: Reading, now: Double, spent: Bool = false,
        skipSameMinute: Bool = false
    ) -> ForecastEngine.Outcome {
        if !spent, let refused = spend(&s, hour: reading.hour, now: now) { return reject(refused) }
        let previousNewest = s.window.newestHour
        let counted: Int
        switch s.window.add(reading, skipSameMinute: skipSameMinute) {
        case .failure(let r):
            return reject(r)
        case .success(.counted(_, let readings)):
            counted = readings
        case .success(.passedOver(let hour)):
            return .passedOver(station: reading.station, hour: hour)
        }
        counters.accepted += 1
        onAccepted?(reading)
        // Which hour, if any, is now complete and not yet forecast from.
        var complete: Int64?
        let perHour = s.readingsPerHour ?? settings.readingsPerHour
        if perHour > 0, counted >= perHour, reading.hour == s.window.newestHour {
            complete = reading.hour
        } else if let p = previousNewest, reading.hour > p {
            complete = p
        }
        let (forecast, waiting, changed) = finish(&s, station: reading.station, hour: complete, now: now)
        return .accepted(
            station: reading.station, hour: reading.hour, forecast: forecast, waiting: waiting, state: changed)
    }

    /// The hours of quiet stations that ended `hourCloseSeconds` ago and were not yet tried:
    /// each is complete now, so a sensor that stops does not leave its last hour open.
    func closeQuietHours(now: Double) -> [(station: String, forecast: StationForecast?, state: StationState?)] {
        let grace = Double(settings.hourCloseSeconds)
        var out: [(String, StationForecast?, StationState?)] = []
        for key in Array(stations.keys) {
            let s = stations[key]!
            guard let hour = s.window.newestHour, hour > (s.attemptedHour ?? .min),
                Double(hour + 1) * 3600 + grace <= now, now - s.lastRefill >= grace
            else { continue }
            let (forecast, _, state) = finish(&stations[key]!, station: key, hour: hour, now: now)
            if forecast != nil || state != nil { out.append((key, forecast, state)) }
        }
        return out.sorted { $0.0 < $1.0 }
    }

    /// Forecasts from the window ending at `complete` when that hour was not forecast from
    /// yet; returns the forecast, why there is none, and the station's state if it changed.
    private func finish(_ s: inout ForecastEngine.Station, station: String, hour complete: Int64?, now: Double) -> (
        StationForecast?, String?, StationState?
    ) {
        var forecast: StationForecast?
        var waiting: String?
        var summary: String?
        if let hour = complete, hour > (s.window.lastForecastHour ?? .min) {
            s.attemptedHour = max(hour, s.attemptedHour ?? .min)
            switch s.window.window(endingAt: hour).flatMap(choose) {
            case .success(let (rows, m)):
                let (expected, sources) = expectedWeather(&s, station: station, after: hour)
                let values = m.forecaster.values(window: rows, hours: settings.horizonHours, weather: expected)
                // The origin hour's PM2.5 is the truth of the forecasts made for it.
                let truth = rows[rows.count - Feature.allCases.count + Feature.pm25.rawValue]
                var learnt: [BiasCorrection.Error] = []
                var corrections: [Double] = []
                if correcting(&s, model: m) {
                    learnt = s.bias!.observe(hour: hour, truth: truth)
                    corrections = s.bias!.corrections(from: hour, hours: values.count)
                    s.bias!.expect(from: hour, values)
                }
                forecast = StationForecast(
                    station: station, basedOnHour: hour, issuedAt: now, model: m.identity,
                    hours: m.forecaster.hours(from: values, corrections: corrections),
                    intervalLevels: m.forecaster.intervalLevels, hourWeather: sources,
                    inputs: s.origins, modelInputs: m.inputs, biasErrors: learnt)
                s.window.lastForecastHour = hour
                s.waiting = nil
                counters.forecasts += 1
            case .failure(let why):
                waiting = why.description
                summary = why.summary
                s.waiting = why.description
            }
        }
        var changed: StationState?
        // A station's first reading is said at once (its hour completes later), so a new sensor
        // shows up on its state topic, in Home Assistant and in the journal within seconds.
        let first: StationState? = s.window.newestHour.flatMap { newest in
            s.reported == nil
                ? .waiting(
                    reason: StationState.firstReading
                        + ": forecasts start at \(StationWindow.label(newest + Int64(s.window.steps) - 1))",
                    hour: newest) : nil
        }
        let state: StationState? =
            forecast.map { .forecasting(inputs: $0.modelInputs) }
            ?? (summary ?? waiting).map { .waiting(reason: $0, hour: complete ?? s.window.newestHour ?? 0) } ?? first
        if let state,
            state.kind != s.reported?.kind || state.reason != s.reported?.reason
                || state.inputs != s.reported?.inputs
        {
            if s.reported == nil, newStations.count < 1000 { newStations.append((station, state)) }
            s.reported = state
            changed = state
        }
        return (forecast, waiting, changed)
    }

    /// Whether the station's forecasts by `m` are corrected, and if so makes its ``Station/bias``
    /// the one for `m`: a fresh one when another model made the errors it holds.
    private func correcting(_ s: inout ForecastEngine.Station, model m: ForecastEngine.Loaded) -> Bool {
        let days = settings.biasCorrectionDays
        guard days > 0 else {
            s.bias = nil
            return false
        }
        if let b = s.bias, b.model == m.identity {
            if b.days != days { s.bias = b.with(days: days) }
        } else {
            s.bias = BiasCorrection(days: days, model: m.identity)
        }
        return true
    }

    /// The first model whose inputs the window has, or why there is none.
    private func choose(_ rows: [Double]) -> Result<([Double], ForecastEngine.Loaded), StationWindow.Incomplete> {
        if let m = models.first(where: { $0.serves(rows) }) { return .success((rows, m)) }
        let missing = Feature.allCases.filter { f in
            stride(from: f.rawValue, to: rows.count, by: Feature.allCases.count).contains { !rows[$0].isFinite }
        }
        return .failure(
            StationWindow.Incomplete(
                description:
                    "the window lacks \(missing.map(\.name).joined(separator: ", ")) in some hours, and no model does without"
            ))
    }

    func newStation(now: Double) -> ForecastEngine.Station {
        ForecastEngine.Station(
            window: StationWindow(steps: model.steps, maximumGapHours: settings.maximumGapHours),
            tokens: Double(settings.stationReadingsPerMinute), lastRefill: now, waiting: "no reading yet")
    }

    private func reject(_ r: Rejection) -> ForecastEngine.Outcome {
        counters.rejected[r.code, default: 0] += 1
        return .rejected(r)
    }
}
