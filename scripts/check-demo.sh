#!/usr/bin/env bash
# Runs the README's demo (scripts/run.sh) on the program the test command has just built, with
# 40 hours replayed ten to a second, and checks what a newcomer would: it ends by itself, says
# what it does while the window fills, shows forecasts beside the values that came true and
# their scores beside persistence, and leaves no process behind.
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
echo "check-demo: the demo ended by itself after $(grep -c '^2014-01-02T' "$out") forecast hours, nothing left running"
