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
# --replay FILE --speed max next to --format sse from stdin (issue 31's
# target: a ratio of at least 0.8; REPLAY_BENCH_MB, 1000 for its 1 GB).
echo "== replay: tests/bench/replay_rate.sh"
bash "$top/tests/bench/replay_rate.sh" "${1:-build}" "${REPLAY_BENCH_MB:-50}"
# and how closely a replay keeps its recording's pace (target: within 10 ms).
bash "$top/tests/bench/replay_timing.sh" "${1:-build}"
# TLS and HTTP/2 next to plaintext HTTP/1.1 (fan-out), and an idle TLS
# subscriber's memory in ssed and in nginx+nchan; printed and saved together.
echo "== TLS and HTTP/2: tests/bench/tls_fanout.py and tests/bench/tls_idle_memory.sh"
mkdir -p "$top/tests/bench/results"
tls_out="$top/tests/bench/results/tls-$(date -u +%Y-%m-%d-%H%M).txt"
{
    python3 "$top/tests/bench/tls_fanout.py" "$build"
    bash "$top/tests/bench/tls_idle_memory.sh" "${1:-build}"
} | tee "$tls_out"
echo "saved: ${tls_out#"$top"/}"
