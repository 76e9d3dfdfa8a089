#!/usr/bin/env bash
# Unpacks Prometheus' own programs for the tests, without installing Prometheus as a service:
# Debian's `prometheus` package is downloaded and unpacked into .build-tools/prometheus, where
# the metrics tests find promtool (which lints the daemon's exposition) and the server (which
# scrapes a running daemon). Nothing is fetched when it is there already.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.build-tools/prometheus
[ -x "$dest/usr/bin/promtool" ] && [ -x "$dest/usr/bin/prometheus" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 0777 "$tmp"  # apt's own user writes the download
if ! (cd "$tmp" && apt-get download -qq prometheus 2>/dev/null); then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    (cd "$tmp" && apt-get download -qq prometheus)
fi
rm -rf "$dest"
mkdir -p "$dest"
dpkg-deb -x "$tmp"/prometheus_*.deb "$dest"
"$dest/usr/bin/promtool" --version | head -1
