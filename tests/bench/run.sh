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
# The comparison also measures ssepub next to curl and ssecat next to cat
# (its scenarios 4 and 5); ssecat_throughput.sh and ssepub_throughput.sh
# give the same two figures on their own, quickly.
echo "== server comparison: ssed, nginx+nchan, Node/Express and the limit program (BENCH_RUNS=1 BENCH_QUICK=1 for a short run)"
bash "$top/tests/bench/compare.sh" "${1:-build}"
echo "== TLS next to plaintext (HTTP/1.1): ssed CPU per delivery, idle memory per subscriber"
python3 "$top/tests/bench/tls_fanout.py" "$build/ssed" "${TLS_BENCH_SUBS:-500}" "${TLS_BENCH_EVENTS:-2000}"
