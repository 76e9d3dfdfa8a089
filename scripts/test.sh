#!/usr/bin/env bash
# Installs the packages (and unpacks Prometheus' programs for the metrics tests:
# scripts/fetch-prometheus.sh); checks the house style (the toolchain's swift-format with the
# checked-in .swift-format: `swift format --in-place --recursive Sources Tests Package.swift`
# fixes nearly all it finds); builds everything with warnings as errors (the release program
# too: the retraining tests run it, and `make install` installs it); runs the whole test suite
# and each fuzz target for 20 s (scripts/fuzz.sh); then checks the systemd units and `make install`/`make uninstall` (in a scratch folder), runs
# the demo briefly (scripts/check-demo.sh), and builds and checks the Debian package
# (scripts/check-deb.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/fetch-prometheus.sh
swift format lint --strict --recursive Sources Tests Package.swift fuzz/Package.swift fuzz/Sources
swift build --build-tests
swift build -c release --product aqcast
# The retraining tests run the release program (minutes in a debug build): this one, just built.
export AQCAST_RELEASE_PROGRAM="$(swift build -c release --show-bin-path)/aqcast"
# The suites that run the daemon's async services in process (HTTP fetches with deadlines, the
# announcer's timer) run on their own first: beside the suites that wait for daemon processes,
# whose blocking waits hold the test process' cooperative threads (two on two cores), their
# tasks were starved past their 30 to 60 s deadlines (CI of 2026-12-05).
in_process='WeatherServiceBoundsTests|DiscoveryAnnouncerTests|ReadingLogServiceTests'
swift test --skip-build --filter "$in_process"
swift test --skip-build --skip "$in_process"
# The fuzz targets, 20 s each (scripts/fuzz.sh; docs/sensors.md gives the 30-minute runs).
bash scripts/fuzz.sh 20
bash scripts/check-units.sh
bash scripts/check-demo.sh
bash scripts/check-deb.sh
