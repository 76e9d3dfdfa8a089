#!/usr/bin/env bash
# Runs the libFuzzer targets in fuzz/ (reading payloads of every profile, weather payloads and
# the weather service's answers, the configuration file, the model file) for SECONDS each
# (default 60), or only the TARGETs named: `bash scripts/fuzz.sh 1800 FuzzReadings`. Built
# with `-sanitize=fuzzer,address` in release mode. Each starts from its seeds in
# fuzz/corpus/TARGET and grows a working corpus in .build-fuzz/corpus/TARGET (kept between
# runs); a crash, a leak or an input taking over 10 s stops it, leaves the input in
# .build-fuzz/artifacts/TARGET/ and fails the script. Prints each target's executions and
# corpus size.
set -euo pipefail
# Swift's own crash backtracer reads the crashed process's memory, which AddressSanitizer
# reports as an error of its own; libFuzzer's report is the one wanted.
export SWIFT_BACKTRACE=enable=no
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzReadings FuzzWeather FuzzConfiguration FuzzModelFile)
swift build --package-path fuzz -c release -Xswiftc -sanitize=fuzzer,address 2>&1 | grep -v "unhandled\|CMakeLists.txt" | tail -1
bin=$(swift build --package-path fuzz -c release -Xswiftc -sanitize=fuzzer,address --show-bin-path)
status=0
for t in "${targets[@]}"; do
    work=.build-fuzz/corpus/$t
    artifacts=.build-fuzz/artifacts/$t
    mkdir -p "$work" "$artifacts"
    log=.build-fuzz/$t.log
    if "$bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$work" "fuzz/corpus/$t" > "$log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
        corpus=$(find "$work" -type f | wc -l)
        echo "$t: ${seconds} s, $runs executions, no crash, leak or timeout; corpus $corpus inputs"
    else
        status=1
        echo "$t: FAILED after at most ${seconds} s; the input is in $artifacts/:" >&2
        grep -E "ERROR|SUMMARY|Test unit written|Fatal error|deadly signal" "$log" | head -20 >&2
    fi
done
exit $status
