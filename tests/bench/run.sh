#!/usr/bin/env bash
# Every benchmark the project has; prints figures, asserts nothing.
# Usage: run.sh BUILD_DIR
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build="$top/${1:-build}"
echo "== parser throughput (best of 5, 64 KiB feeds); target: >= 1000 MB/s on json-payload"
"${CC:-cc}" -O2 -std=c11 -D_GNU_SOURCE -I"$top/common" -o "$build/parser-bench" "$top/tests/bench/parser_bench.c" \
    "$build/libssetools.a"
"$build/parser-bench" "${PARSER_BENCH_MB:-64}"
if [ -x "$build/ssecat" ]; then
    echo "== ssecat throughput on a captured stream (ssecat - -o data next to cat)"
    bash "$top/tests/bench/ssecat_throughput.sh" "${1:-build}" "${SSECAT_BENCH_MB:-200}" 3
fi
if [ -x "$build/ssepub" ]; then
    echo "== publish throughput into ssed with a subscriber attached"
    bash "$top/tests/bench/ssepub_throughput.sh" "${1:-build}" "${SSEPUB_BENCH_EVENTS:-1000000}" 2000
fi
echo "== ssed fan-out to ${FANOUT_SUBSCRIBERS:-1000} subscribers (tests/bench/fanout.c)"
bash "$top/tests/bench/fanout.sh" "${1:-build}" "${FANOUT_SUBSCRIBERS:-1000}" "${FANOUT_SECONDS:-10}"
