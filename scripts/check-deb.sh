#!/usr/bin/env bash
# Builds the Debian package (scripts/make-deb.sh), runs lintian on it (no errors allowed), and
# checks it as installed: unpacked into a scratch root, its program needs no Swift library from
# the toolchain, and `aqcast --version` and `aqcast evaluate` run from the package's own files.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "check-deb: $*" >&2; exit 1; }

deb=$(bash scripts/make-deb.sh | tail -n 1)
[ -f "$deb" ] || fail "make-deb.sh wrote no package"
echo "package: $deb, $(du -k "$deb" | cut -f1) KiB"
dpkg-deb -f "$deb" Depends | sed 's/^/depends: /'
report=$(lintian --fail-on error --tag-display-limit 0 "$deb" 2>&1) || fail "lintian: $report"
echo "lintian: ${report:-clean}" | sed '2,$s/^/  /'

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg-deb -x "$deb" "$root"
program="$root/usr/bin/aqcast"
if ldd "$program" | grep -E 'libswift|libFoundation|lib_FoundationICU|libdispatch' >/dev/null; then
    fail "the packaged program links the Swift runtime dynamically: $(ldd "$program" | grep -E 'swift|Foundation|dispatch')"
fi
version=$(cd / && "$program" --version) || fail "the packaged aqcast --version failed"
grep -q "(${root}/usr/bin/../share/aqcast/aqcast-default.json)" <<<"$version" \
    || fail "the packaged program does not use the packaged model: $version"
echo "$version" | sed 's/^/version: /'
table=$(cd / && "$program" evaluate) || fail "the packaged aqcast evaluate failed"
grep -q "persistence" <<<"$table" || fail "aqcast evaluate printed no table: $table"
echo "evaluate: $(wc -l <<<"$table") lines, from $(ls "$root/usr/share/aqcast/" | tr '\n' ' ')"
