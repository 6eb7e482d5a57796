#!/bin/sh
# The build's dependency step: finds which of the packages that building and
# testing ssetools needs are missing; installs them with apt-get when run as
# root, otherwise prints the command to run and stops. With --build, only
# what building needs (make demo asks for no more).
set -u
build_packages="gcc make pkg-config libcurl4-openssl-dev libsqlite3-dev libhiredis-dev libssl-dev libjansson-dev libnghttp2-dev"
# systemd: systemd-socket-activate and systemd-analyze for tests/systemd.bats;
# dpkg-dev and lintian: make deb and make check-package; prometheus: promtool;
# nghttp2-client: nghttp for tests/h2.bats; sqlite3: a reader holding the
# store's lock in tests/store_files.bats; testssl.sh: tests/tls_conformance.bats;
# zsh and fish: tests/completions.bats runs each completion in its shell.
packages="$build_packages bats curl openssl clang libclang-rt-14-dev python3 valgrind chromium nginx redis-server systemd dpkg-dev lintian prometheus nghttp2-client sqlite3 testssl.sh zsh fish"
missing=""
build_only=0
[ "${1:-}" = --build ] && build_only=1 && packages=$build_packages
# Node.js may come from elsewhere than Debian (its npm is then built in).
if [ "$build_only" = 0 ] && ! { command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; }; then
    missing=" nodejs npm"
fi
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
install_npm_packages() {
    # Real peers for the tests (eventsource, better-sse, and playwright-core
    # to drive Debian's chromium), pinned by the lockfile, in tests/node_modules.
    top=$(cd "$(dirname "$0")/.." && pwd)
    complete=1
    for p in $(node -e 'console.log(Object.keys(require(process.argv[1]).dependencies).join(" "))' \
        "$top/tests/package.json"); do
        [ -d "$top/tests/node_modules/$p" ] || complete=0
    done
    [ "$complete" = 1 ] && return 0
    (cd "$top/tests" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
        { echo "ssetools: npm ci in tests/ failed" >&2; exit 1; }
}
if [ -z "$missing" ]; then
    [ "$build_only" = 1 ] || install_npm_packages
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "ssetools: missing packages:$missing" >&2
    echo "ssetools: install them with: sudo apt-get install$missing" >&2
    exit 1
fi
echo "ssetools: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || { echo "ssetools: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
    { echo "ssetools: apt-get install$missing failed" >&2; exit 1; }
[ "$build_only" = 1 ] || install_npm_packages
