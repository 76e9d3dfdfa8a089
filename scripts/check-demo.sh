#!/usr/bin/env bash
# Runs the README's demo (scripts/run.sh) on the program the test command has just built, with
# 40 hours replayed ten to a second, and checks what a newcomer would: it ends by itself, says
# what it does while the window fills, shows forecasts beside the values that came true and
# their scores beside persistence, and leaves no process behind; that Ctrl-C ends it with the
# scores so far and exit 0; and that it takes a free metrics port when the default is held.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${AQCAST_DEMO_PORT:-18931}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

fail() {
    cat "$out" >&2
    echo "check-demo: $1" >&2
    exit 1
}

# The default metrics port held by another process, as another daemon would: the demo must
# take a free one, say which, and show no bind error.
holder=$(mktemp -u)
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try: s.bind(("127.0.0.1", 10147)); s.listen(1)
except OSError: pass
open(sys.argv[1], "w").close(); time.sleep(600)' "$holder" &
holder_pid=$!
trap 'rm -f "$out" "$holder"; kill $holder_pid 2>/dev/null || true' EXIT
while [ ! -e "$holder" ]; do sleep 0.1; done

status=0
AQCAST_DEMO_BUILT=1 AQCAST_DEMO_HOURS=40 AQCAST_DEMO_SPEED=36000 AQCAST_DEMO_PORT=$port \
    timeout 120 bash scripts/run.sh > "$out" 2>&1 || status=$?
[ "$status" = 0 ] || fail "the demo exited with status $status (124: it did not end within 120 s)"
grep -q '^filling the 24-hour window: 2014-01-01T00Z seen 24 (1 of 24 hours)$' "$out" \
    || fail "no line while the window fills"
# An hour with its value seen and the forecasts made 1, 4 and 8 hours before it.
grep -Eq '^2014-01-02T[0-9]{2}Z +[0-9]+ \| +[0-9]+ +[0-9]+ +[0-9]+ +\| +[0-9]+ +[0-9]+ +[0-9]+$' "$out" \
    || fail "no hour shown with what was seen beside the forecasts made 1, 4 and 8 hours before"
grep -Eq '^  8h ahead: model [0-9.]+, persistence [0-9.]+ \([-+][0-9.]+%\) over [0-9]+ hours$' "$out" \
    || fail "no score beside persistence at the end"
grep -q '^sent 40 readings' "$out" || fail "the replay's count is missing"
# The demo's own lines; the daemon's (`<6>aqcast: ...`) go to the journal where there is one.
awk '!/^<[0-7]>/ && length > 80 { exit 1 }' "$out" || fail "a line is wider than 80 columns"
if pgrep -f -- "$port" > /dev/null; then
    pgrep -fl -- "$port" >&2
    fail "processes of the demo are still running"
fi
grep -Eq '^its Prometheus metrics meanwhile: curl -s http://127\.0\.0\.1:[0-9]+/metrics$' "$out" \
    || fail "the metrics line is missing"
grep -q '127\.0\.0\.1:10147/metrics' "$out" && fail "the demo suggests the metrics port another process holds"
grep -qi 'address already in use\|cannot listen' "$out" && fail "a bind error reached the demo's output"
hours=$(grep -c '^2014-01-02T' "$out")

# Ctrl-C in the middle, as a terminal sends it: SIGINT to the demo's process group. The demo
# ends with the scores of the hours so far and exit 0, and leaves nothing running.
: > "$out"
# A background job of this script starts with SIGINT ignored, which bash cannot trap: the demo
# runs in a session of its own with SIGINT back to its default, as at a terminal.
AQCAST_DEMO_BUILT=1 AQCAST_DEMO_HOURS=600 AQCAST_DEMO_SPEED=36000 AQCAST_DEMO_PORT=$port python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execvp(sys.argv[1], sys.argv[1:])' bash scripts/run.sh > "$out" 2>&1 &
demo=$!
for _ in $(seq 600); do
    grep -q '^2014-01-02T' "$out" && break
    sleep 0.1
done
grep -q '^2014-01-02T' "$out" || fail "no forecast hour within 60 s (for the Ctrl-C check)"
kill -INT -- "-$demo"
status=0
wait "$demo" || status=$?
[ "$status" = 0 ] || fail "after Ctrl-C the demo exited with status $status"
grep -q '^stopped by Ctrl-C; the scores of the hours so far:$' "$out" || fail "Ctrl-C was not said"
grep -Eq '^  1h ahead: model [0-9.]+, persistence [0-9.]+ \([-+][0-9.]+%\) over [0-9]+ hours$' "$out" \
    || fail "no scores after Ctrl-C"
grep -q 'No such file' "$out" && fail "an error reached the output after Ctrl-C"
awk '!/^<[0-7]>/ && length > 80 { exit 1 }' "$out" || fail "a line is wider than 80 columns"
sleep 0.5
if pgrep -f -- "$port" > /dev/null; then
    pgrep -fl -- "$port" >&2
    fail "processes of the demo are still running after Ctrl-C"
fi
# The scores are the demo's last lines (the daemon's own, `<6>aqcast: ...`, may follow them
# where there is no journal, as it stops only once they are printed).
grep -v '^<[0-7]>' "$out" | tail -n 1 | grep -Eq '^  [0-9]h ahead: ' || fail "the scores are not the demo's last lines"

echo "check-demo: the demo ended by itself after $hours forecast hours, and after Ctrl-C with its scores and exit 0; nothing left running"
