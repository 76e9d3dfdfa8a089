#!/usr/bin/env bash
# The main job on a fresh Debian machine with the Swift toolchain: installs the packages,
# builds the release binary, starts a private mosquitto on loopback, starts the daemon with the
# shipped model, replays 2014's readings from the shipped data set as station "beijing" (one
# hour of data a second), and shows the forecasts arriving. Ctrl-C ends the replay early: the
# demo then scores the forecasts so far, stops everything it started and exits 0.
#   AQCAST_DEMO_PORT   broker port (default 18830)
#   AQCAST_DEMO_HOURS  hours of 2014 to replay (default: the whole year)
#   AQCAST_DEMO_SPEED  data hours per real hour (default 3600: one reading a second)
#   AQCAST_DEMO_BUILT  set to 1 to skip installing and building (the test command's check does)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${AQCAST_DEMO_BUILT:-}" != 1 ]; then
    bash scripts/install-deps.sh
    echo "building the release program (a few minutes the first time)"
    swift build -c release --product aqcast
fi
bin=.build/release/aqcast
port=${AQCAST_DEMO_PORT:-18830}
hours=${AQCAST_DEMO_HOURS:-8760}
speed=${AQCAST_DEMO_SPEED:-3600}

work=$(mktemp -d)
# Every process the demo starts, in start order; each is started on its own (no pipelines, whose
# `$!` is only their last process), so the cleanup stops all of them. Each runs in a session of
# its own (`setsid`), so Ctrl-C at the terminal reaches only this script and the replay: the
# broker and the daemon stay up until the scores are printed, then stop in order.
pids=()
cleanup() {
    trap - EXIT INT TERM
    # Newest first, each waited for, so the daemon says goodbye to a broker still there.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null || true
        wait "${pids[i]}" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM
trap 'echo "run.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" > "$work/mosquitto.conf"
setsid mosquitto -c "$work/mosquitto.conf" > "$work/mosquitto.log" 2>&1 &
pids+=($!)
sleep 0.5
if ! kill -0 "${pids[0]}" 2>/dev/null; then
    cat "$work/mosquitto.log" >&2
    echo "could not start mosquitto on 127.0.0.1:$port (set AQCAST_DEMO_PORT to use another port)" >&2
    exit 1
fi

# The metrics endpoint on a port that is free now (the default, 10147, may be another
# daemon's), so the curl below reaches this daemon and no bind error interrupts the demo.
metrics=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The daemon logs to the journal when there is one, else to standard error (shown here).
echo "starting the daemon with the shipped model; state in $work/state"
setsid "$bin" run --broker "127.0.0.1:$port" --state-dir "$work/state" --metrics-listen "127.0.0.1:$metrics" &
pids+=($!)
sleep 1
echo "its Prometheus metrics meanwhile: curl -s http://127.0.0.1:$metrics/metrics"

# The viewer reads the station's readings, states and forecasts through a FIFO, so the
# subscriber and the viewer are two processes of their own.
mkfifo "$work/messages"
setsid mosquitto_sub -p "$port" -v -t 'aq/beijing/reading' -t 'aq/beijing/state' -t 'aq/beijing/forecast' \
    > "$work/messages" &
pids+=($!)
subscriber=$!
setsid python3 -u scripts/demo-view.py < "$work/messages" &
pids+=($!)
viewer=$!
sleep 0.5

echo "replaying $hours hours of 2014 as station beijing, $speed data hours per real hour"
# From here Ctrl-C ends the replay and the demo goes on to its scores.
interrupted=0
trap 'interrupted=1' INT TERM
status=0
"$bin" replay --broker "127.0.0.1:$port" --station beijing --from 2014-01-01T00 --hours "$hours" \
    --speed "$speed" 2> "$work/replay.log" || status=$?
if [ "$interrupted" = 1 ]; then
    echo "stopped by Ctrl-C; the scores of the hours so far:"
elif [ "$status" != 0 ]; then
    cat "$work/replay.log" >&2
    echo "run.sh: the replay failed (exit status $status); its output is above" >&2
    exit 1
else
    sleep 1
fi
# The subscriber's end is the viewer's end of input: it prints the scores and exits.
kill "$subscriber" 2>/dev/null || true
wait "$viewer" 2>/dev/null || true
if [ "$interrupted" = 0 ]; then
    echo "replay done:"
    tail -n 1 "$work/replay.log" | fold -s -w 78
fi
exit 0
