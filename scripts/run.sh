#!/usr/bin/env bash
# Sets up and runs the main job on a fresh Debian machine with the Swift toolchain: builds the
# release binary, evaluates the shipped model on the 2014 test year (model beside persistence),
# writes the HTML report, and prints one 8-hour forecast.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release
bin=.build/release/aqcast
$bin evaluate --report out/report
$bin forecast --at 2014-12-31T12
echo "report: $(pwd)/out/report/index.html"
