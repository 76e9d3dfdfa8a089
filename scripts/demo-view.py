#!/usr/bin/env python3
"""Shows the demo as it runs: reads `mosquitto_sub -v` lines (topic, space, JSON payload) for a
station's readings, states and forecasts on standard input, and prints one line per hour: the
PM2.5 seen, what the daemon had forecast for that hour 1, 4 and 8 hours before, and its newest
forecast for the hours ahead. While the 24-hour window fills it says so. At the end (end of
input, SIGTERM or Ctrl-C) it prints the mean absolute error of those forecasts beside
persistence (the hour seen h hours before), over the same hours."""
import json
import signal
import sys
from datetime import datetime, timedelta, timezone

LEADS = (1, 4, 8)
WIDTH = 78


def hour_of(stamp):
    """'2014-01-02T08:00:00Z' (the daemon's UTC times) or Unix seconds (the replay's readings)
    -> '2014-01-02T08Z'."""
    if isinstance(stamp, (int, float)):
        return datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%dT%HZ")
    return str(stamp)[:13] + "Z"


def cell(value):
    return "%5.0f" % value if value is not None else "    -"


class View:
    def __init__(self, out):
        self.out = out
        self.seen = {}  # hour -> PM2.5 seen
        self.forecast_for = {}  # hour -> {lead: forecast made lead hours before}
        self.errors = {lead: [0.0, 0.0, 0] for lead in LEADS}  # model, persistence, count
        self.header_shown = False
        self.filled = 0

    def say(self, text):
        print(text[:WIDTH], file=self.out, flush=True)

    def line(self, raw):
        topic, _, payload = raw.rstrip("\n").partition(" ")
        try:
            message = json.loads(payload)
        except ValueError:
            return
        kind = topic.rsplit("/", 1)[-1]
        if kind == "reading":
            self.reading(message)
        elif kind == "forecast":
            self.forecast(message)
        elif kind == "state" and message.get("state") == "waiting":
            self.say("%s waits: %s" % (message.get("station", "?"), message.get("reason", "")))

    def reading(self, message):
        if not isinstance(message.get("pm25"), (int, float)) or not isinstance(message.get("time"), (str, int, float)):
            return
        hour = hour_of(message["time"])
        self.seen[hour] = float(message["pm25"])
        if not self.header_shown:
            self.filled += 1
            self.say("filling the 24-hour window: %s seen %.0f (%d of 24 hours)" % (hour, message["pm25"], self.filled))

    def forecast(self, message):
        hours = message.get("hours") or []
        based_on = hour_of(message.get("based_on_hour", ""))
        for entry in hours:
            if entry.get("horizon") in LEADS:
                self.forecast_for.setdefault(hour_of(entry["time"]), {})[entry["horizon"]] = entry["pm25"]
        if not self.header_shown:
            self.header_shown = True
            self.say("")
            self.say("PM2.5 in ug/m3; 'said 1h before' is the forecast made one hour before the hour")
            self.say("%-14s %5s | %-23s | %s" % ("hour (UTC)", "seen", "said 1h, 4h, 8h before", "says for +1h, +4h, +8h"))
        said = self.forecast_for.pop(based_on, {})
        now = self.seen.get(based_on)
        ahead = {entry.get("horizon"): entry.get("pm25") for entry in hours}
        said_cells = " ".join(cell(said.get(lead)) for lead in LEADS)
        ahead_cells = " ".join(cell(ahead.get(lead)) for lead in LEADS)
        self.say("%-14s %5s | %-23s | %s" % (based_on, cell(now), said_cells, ahead_cells))
        if now is None:
            return
        for lead in LEADS:
            before = self.seen.get(self.earlier(based_on, lead))
            if lead in said and before is not None:
                sums = self.errors[lead]
                sums[0] += abs(said[lead] - now)
                sums[1] += abs(before - now)
                sums[2] += 1

    @staticmethod
    def earlier(hour, lead):
        moment = datetime.strptime(hour, "%Y-%m-%dT%HZ") - timedelta(hours=lead)
        return moment.strftime("%Y-%m-%dT%HZ")

    def summary(self):
        scored = [lead for lead in LEADS if self.errors[lead][2] > 0]
        if not scored:
            self.say("no forecast has come true yet, so there is nothing to score")
            return
        self.say("")
        self.say("mean absolute error over the hours above (ug/m3), model beside persistence:")
        for lead in scored:
            model, persistence, count = self.errors[lead]
            gain = 100.0 * (1.0 - model / persistence) if persistence > 0 else 0.0
            self.say("  %dh ahead: model %.1f, persistence %.1f (%+.1f%%) over %d hours"
                     % (lead, model / count, persistence / count, gain, count))


def main():
    view = View(sys.stdout)

    def stop(_signal, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        for raw in sys.stdin:
            view.line(raw)
    except KeyboardInterrupt:
        pass
    view.summary()


if __name__ == "__main__":
    main()
