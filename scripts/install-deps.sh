#!/usr/bin/env bash
# Installs the Debian packages aqcast builds against and tests with (needs root or sudo):
# libmosquitto, libsystemd, SQLite and libcurl headers (the Debian package's program links
# Foundation's URLSession statically, and that needs libcurl to link), the mosquitto broker and
# clients, pkg-config, numpy for the training benchmark's reference run, Jinja2 (the Home
# Assistant tests render the discovery templates as Home Assistant does); systemd
# (systemd-analyze checks the units), openssl (the TLS tests make their own CA), make, groff-base
# (the unit checks render the man page), and dpkg-dev and lintian (the test command builds and
# checks the Debian package), qemu-user (the package check runs the packaged program on a
# baseline x86-64 CPU).
set -euo pipefail
packages=(pkg-config libmosquitto-dev libsystemd-dev libsqlite3-dev libcurl4-openssl-dev mosquitto mosquitto-clients python3-numpy python3-jinja2 systemd openssl make groff-base dpkg-dev lintian qemu-user)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
