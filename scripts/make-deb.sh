#!/usr/bin/env bash
# Builds aqcast_<version>-1_<arch>.deb with dpkg-deb: the program with the Swift runtime linked
# in statically (the target machine needs no Swift toolchain), installed by `make install` into
# a staging folder under /usr, with the units, the sample configuration as a conffile, the
# shipped model and histories, the man page and completions, Debian's copyright and changelog,
# and maintainer scripts that reload systemd and leave a running service alone on upgrade.
# Depends on the shared libraries the program links (dpkg-shlibdeps). Writes the package into
# the project folder and prints its name.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build/deb
# Built for the architecture, not this machine: AQCAST_PORTABLE keeps the numerics on baseline
# x86-64 (SSE2), where a native build would use this machine's AVX2 and FMA and die with
# "Illegal instruction" on an older CPU (check-deb.sh runs it under qemu's baseline CPU).
AQCAST_PORTABLE=1 swift build -c release --product aqcast --static-swift-stdlib --scratch-path "$scratch"
program="$scratch/release/aqcast"
version="$("$program" --version | head -n 1 | cut -d' ' -f2)-1"
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/root"

make -s install DESTDIR="$root" PREFIX=/usr SYSCONFDIR=/etc UNITDIR=/usr/lib/systemd/system PROGRAM="$program" \
    >/dev/null
# Symbols are for debugging; the package ships the program without them.
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/aqcast"

# Debian's documentation layout: the man page and changelogs compressed, the copyright file.
doc="$root/usr/share/doc/aqcast"
gzip -9n "$root/usr/share/man/man1/aqcast.1"
gzip -9n "$doc/README.md" "$doc"/docs/*.md
# The units name the README where the package puts it (compressed).
sed -i 's|/usr/share/doc/aqcast/README.md$|/usr/share/doc/aqcast/README.md.gz|' "$root"/usr/lib/systemd/system/aqcast*
rm "$doc/LICENSE"  # the copyright file points to the system's copy of the Apache licence
date=$(git log -1 --format=%aD 2>/dev/null || date -R)
cat > "$stage/changelog" <<EOF
aqcast ($version) unstable; urgency=medium

  * Packaged from the aqcast source tree; README.md and docs/ say what it does.

 -- aqcast maintainers <aqcast@users.noreply.github.com>  $date
EOF
gzip -9nc "$stage/changelog" > "$doc/changelog.Debian.gz"
cat > "$doc/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: aqcast

Files: *
Copyright: 2026 The aqcast authors
License: Apache-2.0
 Licensed under the Apache License, Version 2.0 (the "License"); you may not use this file
 except in compliance with the License. You may obtain a copy of the License at
 http://www.apache.org/licenses/LICENSE-2.0
 .
 On Debian systems, the complete text of the Apache License 2.0 can be found in
 /usr/share/common-licenses/Apache-2.0.

Files: usr/share/aqcast/PRSA_data_2010.1.1-2014.12.31.csv
Copyright: 2015 Liang, X., Zou, T., Guo, B., Li, S., Zhang, H., Zhang, S., Huang, H.
 and Chen, S. X.
License: CC-BY-4.0
 Beijing PM2.5 Data, UCI Machine Learning Repository (2015); "Assessing Beijing's PM2.5
 pollution: severity, weather impact, APEC and winter heating", Proceedings of the Royal
 Society A 471, 20150257. Licensed under the Creative Commons Attribution 4.0 International
 licence, https://creativecommons.org/licenses/by/4.0/legalcode.

Files: usr/share/aqcast/multisite/*
Copyright: 2017 Zhang, S., Guo, B., Dong, A., He, J., Xu, Z. and Chen, S. X.
License: CC-BY-4.0
 Beijing Multi-Site Air Quality Data, UCI Machine Learning Repository (2017); see
 /usr/share/aqcast/multisite/README.md for the citation. Licensed under the Creative Commons
 Attribution 4.0 International licence, https://creativecommons.org/licenses/by/4.0/legalcode.
EOF

# Maintainer scripts: systemd learns of the units; an upgrade leaves a running daemon running
# (it is restarted when the operator chooses: `systemctl restart aqcast`); a removal stops it.
# The program is linked statically with its Swift packages, and swift-nio-extras (which
# async-http-client uses to decompress the weather service's answers) carries its own copy of
# zlib for that; lintian's embedded-library check finds it. Said in an override with the reason.
mkdir -p "$root/usr/share/lintian/overrides"
cat > "$root/usr/share/lintian/overrides/aqcast" <<'EOF'
# swift-nio-extras' CNIOExtrasZlib (HTTP decompression, through async-http-client) is linked
# into the statically linked program, as the Swift runtime is.
aqcast: embedded-library zlib [usr/bin/aqcast]
EOF
mkdir -p "$root/DEBIAN"
cat > "$root/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = "configure" ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null || true
fi
EOF
cat > "$root/DEBIAN/prerm" <<'EOF'
#!/bin/sh
set -e
if [ -z "${DPKG_ROOT:-}" ] && [ "$1" = "remove" ] && [ -d /run/systemd/system ]; then
    deb-systemd-invoke stop aqcast-retrain.timer aqcast.service >/dev/null || true
fi
EOF
cat > "$root/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null || true
fi
EOF
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
echo "/etc/aqcast/aqcast.toml" > "$root/DEBIAN/conffiles"

# The libraries the program links, as package dependencies.
mkdir -p "$stage/src/debian"
printf 'Source: aqcast\n\nPackage: aqcast\nArchitecture: any\n' > "$stage/src/debian/control"
depends=$(cd "$stage/src" && dpkg-shlibdeps -O "$root/usr/bin/aqcast" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "make-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<EOF
Package: aqcast
Version: $version
Architecture: $arch
Maintainer: aqcast maintainers <aqcast@users.noreply.github.com>
Installed-Size: $size
Depends: $depends, init-system-helpers (>= 1.52)
Recommends: mosquitto, ca-certificates
Section: net
Priority: optional
Description: air-quality forecasting daemon for MQTT sensor networks
 aqcast subscribes to the PM2.5 and weather readings of a sensor network over
 MQTT, keeps a rolling 24-hour window per station, forecasts the next hours
 with a small deep recurrent network, publishes the forecasts with prediction
 intervals back to MQTT, logs every reading and retrains itself from that log,
 promoting a new model only when it beats the current one and persistence on
 held-out weeks. It runs as a hardened systemd service.
EOF
deb="aqcast_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
