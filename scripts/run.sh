#!/usr/bin/env bash
# The main job on a fresh Debian machine with the Swift toolchain: installs the packages,
# builds the release binary, starts a private mosquitto on loopback, starts the daemon with the
# shipped model, replays 2014's readings from the shipped data set as station "beijing" (one
# hour of data a second), and shows the forecasts arriving. Ctrl-C stops all of it.
#   AQCAST_DEMO_PORT   broker port (default 18830)
#   AQCAST_DEMO_HOURS  hours of 2014 to replay (default: the whole year)
#   AQCAST_DEMO_SPEED  data hours per real hour (default 3600: one reading a second)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release
bin=.build/release/aqcast
port=${AQCAST_DEMO_PORT:-18830}
hours=${AQCAST_DEMO_HOURS:-8760}
speed=${AQCAST_DEMO_SPEED:-3600}

work=$(mktemp -d)
pids=()
cleanup() {
    trap - EXIT INT TERM
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" > "$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" > "$work/mosquitto.log" 2>&1 &
pids+=($!)
sleep 0.5
if ! kill -0 "${pids[0]}" 2>/dev/null; then
    cat "$work/mosquitto.log" >&2
    echo "could not start mosquitto on 127.0.0.1:$port (set AQCAST_DEMO_PORT to use another port)" >&2
    exit 1
fi

# The daemon logs to the journal when there is one, else to standard error (shown here).
"$bin" run --broker "127.0.0.1:$port" --state-dir "$work/state" &
pids+=($!)
sleep 1

echo "forecasts arriving on aq/+/forecast (PM2.5 ug/m3, 5-95% interval):"
mosquitto_sub -p "$port" -t 'aq/+/forecast' | python3 -u -c '
import json, sys
for line in sys.stdin:
    f = json.loads(line)
    hours = "  ".join("+%dh %.0f (%.0f-%.0f)" % (h["horizon"], h["pm25"], h["lower"], h["upper"]) for h in f["hours"][:8:2])
    print("%s from %s: %s" % (f["station"], f["based_on_hour"][:13], hours), flush=True)
' &
pids+=($!)

"$bin" replay --broker "127.0.0.1:$port" --station beijing --from 2014-01-01T00 --hours "$hours" --speed "$speed"
sleep 1
