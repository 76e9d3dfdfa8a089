#!/usr/bin/env bash
# Checks the systemd units and `make install`/`make uninstall` without touching the system:
# installs into a scratch PREFIX, verifies the installed units (systemd-analyze verify only warns
# on unknown keys and still exits 0, so any output at all fails), scores the hardening of the
# units as shipped (exposure 2.0 or lower), then uninstalls and checks what is left.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "check-units: $*" >&2; exit 1; }


stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
make -s install PREFIX="$stage/usr" SYSCONFDIR="$stage/etc" >/dev/null
units="$stage/usr/lib/systemd/system"
for f in "$stage/usr/bin/aqcast" "$stage/usr/share/aqcast/aqcast-default.json" "$stage/etc/aqcast/aqcast.toml" \
    "$units/aqcast.service" "$units/aqcast-retrain.service" "$units/aqcast-retrain.timer" \
    "$stage/usr/share/man/man1/aqcast.1" "$stage/usr/share/bash-completion/completions/aqcast" \
    "$stage/usr/share/zsh/vendor-completions/_aqcast" "$stage/usr/share/fish/vendor_completions.d/aqcast.fish" \
    "$stage/usr/share/doc/aqcast/LICENSE" "$stage/usr/share/aqcast/PRSA_data_2010.1.1-2014.12.31.csv" \
    "$stage/usr/share/aqcast/multisite/PRSA_Data_Tiantan_20130301-20160229.csv"; do
    [ -e "$f" ] || fail "make install did not write $f"
done
grep -q "^ExecStart=$stage/usr/bin/aqcast run --config $stage/etc/aqcast/aqcast.toml" "$units/aqcast.service" \
    || fail "PREFIX/SYSCONFDIR not substituted in aqcast.service"
"$stage/usr/bin/aqcast" --help >/dev/null || fail "the installed program does not run"
version=$(cd / && "$stage/usr/bin/aqcast" --version) || fail "aqcast --version failed"
grep -Eq "^shipped model aqcast-default.json [a-z]+/seed [0-9]+/[0-9a-f]{16} \($stage/usr/bin/../share/aqcast/" <<<"$version" \
    || fail "aqcast --version does not name the installed model: $version"
echo "aqcast --version: $(tr '\n' ' ' <<<"$version")"
warnings=$(groff -mandoc -Tutf8 -ww -z "$stage/usr/share/man/man1/aqcast.1" 2>&1) || fail "the man page does not render"
[ -z "$warnings" ] || fail "the man page renders with warnings: $warnings"
page=$(groff -mandoc -Tutf8 -P-c -P-b -P-u "$stage/usr/share/man/man1/aqcast.1" 2>/dev/null)
for section in FILES ENVIRONMENT "EXIT STATUS" EXAMPLES; do
    grep -q "^$section\$" <<<"$page" || fail "the man page has no $section section"
done
grep -q 'µg/m³' <<<"$page" || fail "the man page drops µ or ³ (no µg/m³ rendered)"
grep -q '/etc/aqcast/aqcast.toml' <<<"$("$stage/usr/bin/aqcast" run --help)" \
    || fail "aqcast run --help does not name the installed configuration"
# READY=1 goes out once the model is loaded and the log opened, not once connected (the test
# brokerDownAtStartIsRetriedAndReportedNotFatal holds the daemon to it); the documents too.
if grep -rnE 'READY(=1)? once (it is )?connected' README.md docs man; then
    fail "a document says READY=1 waits for the broker"
fi
bash -n "$stage/usr/share/bash-completion/completions/aqcast" || fail "the bash completion is not valid bash"

# --man=no: the units' Documentation= names man:aqcast(1), installed only in the scratch root
# here (the checks above render it); verify would look for it in the system's manual.
out=$(systemd-analyze verify --man=no "$units/aqcast.service" "$units/aqcast-retrain.service" "$units/aqcast-retrain.timer" 2>&1) \
    || fail "systemd-analyze verify failed: $out"
[ -z "$out" ] || fail "systemd-analyze verify warned: $out"
echo "systemd-analyze verify: clean"

for unit in aqcast.service aqcast-retrain.service; do
    line=$(systemd-analyze security --offline=true "systemd/$unit" 2>&1 | grep "Overall exposure level") \
        || fail "no exposure score for $unit"
    score=$(sed -E 's/.*: ([0-9.]+) .*/\1/' <<<"$line")
    echo "$unit: exposure $score"
    awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "$unit exposure $score is above 2.0"
done

# An edited configuration survives a second install and the uninstall; everything else goes.
echo "# edited" >>"$stage/etc/aqcast/aqcast.toml"
make -s install PREFIX="$stage/usr" SYSCONFDIR="$stage/etc" >/dev/null
grep -q "^# edited" "$stage/etc/aqcast/aqcast.toml" || fail "make install overwrote an edited configuration"
make -s uninstall PREFIX="$stage/usr" SYSCONFDIR="$stage/etc" >/dev/null
left=$(cd "$stage" && find . -type f | sort)
[ "$left" = "./etc/aqcast/aqcast.toml" ] || fail "make uninstall left: $left"

# DESTDIR stages under the default PREFIX, units still naming /usr/local.
make -s install DESTDIR="$stage/dest" >/dev/null
grep -q "^ExecStart=/usr/local/bin/aqcast " "$stage/dest/usr/local/lib/systemd/system/aqcast.service" \
    || fail "DESTDIR leaked into the unit"
[ -x "$stage/dest/usr/local/bin/aqcast" ] || fail "DESTDIR install has no program"
make -s uninstall DESTDIR="$stage/dest" >/dev/null
[ -z "$(find "$stage/dest" -type f)" ] || fail "DESTDIR uninstall left files"
echo "make install/uninstall: ok"
