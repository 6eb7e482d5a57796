#!/usr/bin/env bash
# ssed's kqueue loop (cmd/ssed/net/loop_kqueue.c) run on Linux, through
# libkqueue's emulation of kqueue on epoll: builds libkqueue with cmake from
# a checkout of its public repository (github.com/mheily/libkqueue; it is
# not packaged in Debian 12, and CI reaches no other source of it), builds
# ssed with LOOP=kqueue against it in build-kqueue/, and runs the server
# suites given (default: tests/ssed.bats tests/publish.bats) on that build.
# Without a checkout it says so and exits 0: CI does not run it.
# Usage: LIBKQUEUE_SRC=DIR tests/kqueue/libkqueue.sh [BATS FILES...]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
src=${LIBKQUEUE_SRC:-}
if [ -z "$src" ] || [ ! -f "$src/CMakeLists.txt" ]; then
    echo "libkqueue.sh: set LIBKQUEUE_SRC to a checkout of libkqueue (not packaged in Debian 12); skipped"
    exit 0
fi
command -v cmake >/dev/null || { echo "libkqueue.sh: cmake is needed (apt-get install cmake)" >&2; exit 1; }
build="$top/build-kqueue"
prefix="$build/libkqueue"
if [ ! -f "$prefix/lib/pkgconfig/libkqueue.pc" ]; then
    echo "== building libkqueue from $src into ${prefix#"$top"/}"
    cmake -S "$src" -B "$build/libkqueue-build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" \
        >"$build/libkqueue-cmake.log" 2>&1 || { cat "$build/libkqueue-cmake.log"; exit 1; }
    make -C "$build/libkqueue-build" -j2 install >"$build/libkqueue-make.log" 2>&1 ||
        { tail -30 "$build/libkqueue-make.log"; exit 1; }
fi
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
echo "== ssed with LOOP=kqueue (libkqueue) in build-kqueue/"
make --no-print-directory -j2 LOOP=kqueue BUILD_DIR=build-kqueue all >"$build/make.log" 2>&1 ||
    { grep -E 'error:|warning:' "$build/make.log" | head -20; exit 1; }
ldd build-kqueue/ssed | grep -q libkqueue || { echo "libkqueue.sh: build-kqueue/ssed does not link libkqueue" >&2; exit 1; }
[ $# -gt 0 ] || set -- tests/ssed.bats tests/publish.bats
SSETOOLS_BUILD="$build" bats "$@"
