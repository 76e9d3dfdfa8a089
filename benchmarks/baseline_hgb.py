#!/usr/bin/python3
"""The model a data scientist would pick instead of ours: gradient-boosted trees, one per horizon.

Trains scikit-learn's HistGradientBoostingRegressor for each hour ahead (1..H) on the same
histories aqcast trains on, then forecasts from exactly the origins `aqcast backtest` scored
(read from its --forecasts CSV, so both are judged on the same pairs and the same truth) and
prints its table beside the backtest's model and persistence.

    aqcast backtest --csv ... --from 2015-09-01 --to 2016-03-01 --forecasts /tmp/bt.csv
    python3 benchmarks/baseline_hgb.py --backtest /tmp/bt.csv --train-before 2015-09-01 CSV...

Inputs per origin hour t (what the daemon's window holds, weather held at t): PM2.5 of the 24
hours up to t (gaps of up to 3 hours interpolated, as the daemon does), dew point, temperature,
pressure, wind speed and wind direction (sine and cosine; calm as zero) at t, their change over
the last 3 hours, and the hour of day and month. By default each model fits the change from the
origin hour's PM2.5 (so the trees start from persistence, as ours does); --target level fits
PM2.5 itself. Multi-site files are in Beijing time (UTC+8) and
turned into UTC; the PRSA file's hours are taken as UTC, as aqcast takes them.
Needs Debian's python3-sklearn and python3-pandas (`apt-get install python3-sklearn python3-pandas`).
"""
import argparse
import csv
import math
import sys

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

POINTS = ["N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW"]
PRSA_ANGLE = {"NE": 45.0, "SE": 135.0, "SW": 225.0, "NW": 315.0}


def load(path):
    """One or more stations' hourly series: a DataFrame indexed by UTC hour per station."""
    frame = pd.read_csv(path, na_values=["NA"])
    stations = {}
    if "station" in frame.columns:
        frame["time"] = pd.to_datetime(frame[["year", "month", "day", "hour"]]) - pd.Timedelta(hours=8)
        angle = frame["wd"].map(lambda w: POINTS.index(w) * 22.5 if isinstance(w, str) else np.nan)
        speed = frame["WSPM"]
        for name, part in frame.assign(angle=angle, speed=speed).groupby("station"):
            stations[name] = part.rename(columns={"PM2.5": "pm", "DEWP": "dew", "TEMP": "temp", "PRES": "pres"})
    else:
        frame["time"] = pd.to_datetime(frame[["year", "month", "day", "hour"]])
        same = frame["cbwd"].eq(frame["cbwd"].shift())
        speed = np.where(same, frame["Iws"] - frame["Iws"].shift().fillna(0), frame["Iws"])
        angle = frame["cbwd"].map(lambda w: PRSA_ANGLE.get(w, np.nan))
        name = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        stations[name] = frame.assign(angle=angle, speed=speed).rename(
            columns={"pm2.5": "pm", "DEWP": "dew", "TEMP": "temp", "PRES": "pres"})
    out = {}
    for name, part in stations.items():
        s = part.set_index("time")[["pm", "dew", "temp", "pres", "speed", "angle"]].sort_index()
        s = s[~s.index.duplicated()].asfreq("h")
        s[["dew", "temp", "pres", "speed"]] = s[["dew", "temp", "pres", "speed"]].interpolate(limit_direction="both")
        calm = (s["speed"] < 0.5) | s["angle"].isna()
        rad = np.deg2rad(s["angle"].ffill().fillna(0))
        s["wind_e"] = np.where(calm, 0.0, np.sin(rad))
        s["wind_n"] = np.where(calm, 0.0, np.cos(rad))
        s["observed"] = s["pm"]
        s["pm"] = s["pm"].interpolate(limit=3, limit_area="inside")
        out[name] = s
    return out


def features(s, calendar=True):
    """Inputs for every hour of a station's series as origin; NaN where the window is not whole."""
    cols = {f"pm_lag{k}": s["pm"].shift(k) for k in range(24)}
    for c in ["dew", "temp", "pres", "speed", "wind_e", "wind_n"]:
        cols[c] = s[c]
        cols[c + "_d3"] = s[c] - s[c].shift(3)
    if calendar:
        cols["hour"] = pd.Series(s.index.hour, index=s.index)
        cols["month"] = pd.Series(s.index.month, index=s.index)
    x = pd.DataFrame(cols, index=s.index)
    whole = x[[f"pm_lag{k}" for k in range(24)]].notna().all(axis=1) & s["observed"].notna()
    return x, whole


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backtest", required=True, help="aqcast backtest --forecasts CSV")
    ap.add_argument("--train-before", required=True, help="train on origins before this UTC date")
    ap.add_argument("--prsa-train-before", default="2014-01-01",
                    help="train on a PRSA-layout file's origins before this date (its 2014 is the course's test year)")
    ap.add_argument("--horizon", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--target", choices=["level", "change"], default="change",
                    help="fit PM2.5 itself, or its change from the origin hour (trees then start from persistence)")
    ap.add_argument("--no-calendar", action="store_true",
                    help="leave out the hour of day and the month (the inputs aqcast's model does not have)")
    ap.add_argument("--forecasts", help="also write every pair's baseline forecast to this CSV, for grouping")
    ap.add_argument("csv", nargs="+", help="history CSVs (PRSA or multi-site layout), the training data")
    args = ap.parse_args()
    split = pd.Timestamp(args.train_before)

    series, cut = {}, {}
    for path in args.csv:
        loaded = load(path)
        series.update(loaded)
        for name in loaded:
            cut[name] = min(split, pd.Timestamp(args.prsa_train_before)) if len(loaded) == 1 and "PRSA_data" in path else split
    inputs = {name: features(s, calendar=not args.no_calendar) for name, s in series.items()}

    models = []
    for h in range(1, args.horizon + 1):
        xs, ys = [], []
        for name, s in series.items():
            x, whole = inputs[name]
            y = s["observed"].shift(-h)
            keep = whole & y.notna() & (x.index + pd.Timedelta(hours=h) < cut[name])
            xs.append(x[keep])
            ys.append(y[keep])
        x, y = pd.concat(xs), pd.concat(ys)
        if args.target == "change":
            y = y - x["pm_lag0"]
        model = HistGradientBoostingRegressor(max_iter=300, learning_rate=0.05, random_state=args.seed)
        models.append(model.fit(x.to_numpy(), y.to_numpy()))
        print(f"trained h{h} on {len(y)} origins", file=sys.stderr)

    rows = list(csv.DictReader(open(args.backtest)))
    sums = {h: [0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0] for h in range(1, args.horizon + 1)}
    missing = 0
    out = None
    if args.forecasts:
        out = csv.writer(open(args.forecasts, "w", newline=""))
        out.writerow(["station", "origin", "horizon", "time", "truth", "forecast", "hgb", "persistence"])
    wanted = {}
    for r in rows:
        wanted.setdefault(r["station"], set()).add(pd.Timestamp(r["origin"].rstrip("Z")).tz_localize(None))
    predictions = {}
    for name, origins in wanted.items():
        if name not in inputs:
            sys.exit(f"station {name} of the backtest is in none of the CSVs given")
        x, _ = inputs[name]
        index = sorted(origins)
        block = x.reindex(index)
        base = block["pm_lag0"].to_numpy() if args.target == "change" else np.zeros(len(index))
        for h, model in enumerate(models, start=1):
            for t, v in zip(index, model.predict(block.to_numpy()) + base):
                predictions[(name, t, h)] = max(0.0, float(v))
    for r in rows:
        h = int(r["horizon"])
        t = pd.Timestamp(r["origin"].rstrip("Z")).tz_localize(None)
        truth, ours, persistence = float(r["truth"]), float(r["forecast"]), float(r["persistence"])
        p = predictions.get((r["station"], t, h))
        if p is None or math.isnan(p):
            missing += 1
            continue
        if out:
            out.writerow([r["station"], r["origin"], h, r["time"], r["truth"], r["forecast"], p, r["persistence"]])
        s = sums[h]
        s[0] += 1
        s[1] += (ours - truth) ** 2
        s[2] += (p - truth) ** 2
        s[3] += (persistence - truth) ** 2
        s[4] += abs(ours - truth)
        s[5] += abs(p - truth)
        s[6] += abs(persistence - truth)
        s[7] += ours - truth
        s[8] += p - truth
    print(f"RMSE and MAE (ug/m3) by hours ahead on the backtest's pairs; gain = 100 (1 - x / persistence); hgb fits the {args.target}")
    print(" h  pairs   aqcast     hgb  persist  aqcast gain %  hgb gain %   MAE aqcast     hgb  persist"
          "  bias aqcast     hgb")
    for h, s in sums.items():
        n = max(s[0], 1)
        a, g, p = (s[1] / n) ** 0.5, (s[2] / n) ** 0.5, (s[3] / n) ** 0.5
        print(f"{h:2d} {s[0]:6d} {a:8.1f} {g:7.1f} {p:8.1f} {100 * (1 - a / p):14.1f} {100 * (1 - g / p):11.1f}"
              f" {s[4] / n:12.1f} {s[5] / n:7.1f} {s[6] / n:8.1f} {s[7] / n:12.1f} {s[8] / n:7.1f}")
    if missing:
        print(f"({missing} pairs without a baseline forecast left out)")


if __name__ == "__main__":
    main()
