#!/usr/bin/env bash
# Builds the Debian package (scripts/make-deb.sh), runs lintian on it (no errors allowed), and
# checks it as installed: unpacked into a scratch root, its program needs no Swift library from
# the toolchain, and `aqcast --version` and `aqcast evaluate` run from the package's own files;
# on amd64, `aqcast --version` and `aqcast forecast` also run under qemu's baseline x86-64 CPU
# (qemu64: no SSE4, AVX or FMA), and `aqcast evaluate` is timed against the native release build.
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
# The package size the operations guide gives, within 1 MB of this package's.
size=$(( ($(stat -c %s "$deb") + 524288) / 1048576 ))
said=$(grep -o 'The package is [0-9]* MB' docs/operations.md | grep -o '[0-9]*') || fail "docs/operations.md gives no package size"
[ $(( size > said ? size - said : said - size )) -le 1 ] || fail "docs/operations.md says the package is $said MB; it is $size MB"
echo "package: $size MB (docs/operations.md: $said MB)"
# Every file a unit's Documentation= names is in the package.
for doc in $(sed -n 's/^Documentation=//p' "$root"/usr/lib/systemd/system/aqcast* | tr ' ' '\n' | sed -n 's|^file://||p'); do
    [ -e "$root$doc" ] || fail "a unit's Documentation= names $doc, which the package does not ship"
done
table=$(cd / && "$program" evaluate) || fail "the packaged aqcast evaluate failed"
grep -q "persistence" <<<"$table" || fail "aqcast evaluate printed no table: $table"
echo "evaluate: $(wc -l <<<"$table") lines, from $(ls "$root/usr/share/aqcast/" | tr '\n' ' ')"

if [ "$(dpkg --print-architecture)" = amd64 ]; then
    command -v qemu-x86_64 >/dev/null || fail "qemu-x86_64 is missing (scripts/install-deps.sh installs qemu-user)"
    baseline=$(cd / && qemu-x86_64 -cpu qemu64 "$program" --version 2>&1) \
        || fail "the packaged program does not start on a baseline x86-64 CPU: $baseline"
    forecast=$(cd / && qemu-x86_64 -cpu qemu64 "$program" forecast --json 2>&1) \
        || fail "the packaged program does not forecast on a baseline x86-64 CPU: $forecast"
    grep -q '"pm25"' <<<"$forecast" || fail "no forecast under qemu64: $forecast"
    echo "baseline x86-64 (qemu -cpu qemu64): --version and forecast run"
    native="$PWD/.build/release/aqcast"
    if [ -x "$native" ]; then
        # Best of three runs each, the same evaluation (mostly the forecast kernel over the test year).
        best() {
            local b=999999 t0 t1
            for _ in 1 2 3; do
                t0=$(date +%s%N); (cd / && "$1" evaluate >/dev/null); t1=$(date +%s%N)
                b=$(( (t1 - t0) / 1000000 < b ? (t1 - t0) / 1000000 : b ))
            done
            echo "$b"
        }
        p=$(best "$program"); n=$(best "$native")
        echo "evaluate: packaged (baseline x86-64) ${p} ms, native build ${n} ms, ratio $(awk "BEGIN{printf \"%.2f\", $p/$n}")"
    fi
fi
