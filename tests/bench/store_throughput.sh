#!/usr/bin/env bash
# Durable history's cost: `seq N | ssepub` into ssed with one subscriber
# attached, history in memory next to --store with each --sync mode, and
# the store's size on disk afterwards (bounded by --history, whatever N).
# Then the engine comparison that chose SQLite (tests/bench/store_bench.c:
# LMDB and SQLite on ssed's pattern). Prints figures, asserts nothing.
# Usage: store_throughput.sh BUILD_DIR [EVENTS] [HISTORY]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build="$top/${1:-build}"
events=${2:-1000000}
history=${3:-1000}
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

rate() { awk -v n="$1" -v s="$2" -v e="$3" 'BEGIN { printf "%.0f", n / ((e - s) / 1e9) }'; }

# run_one LABEL [SSED OPTIONS...]: publish, print events/s and the store's size.
run_one() {
    local label=$1
    shift
    "$build/ssed" -l 127.0.0.1:0 --no-stdin --history "$history" --max-pending 256M "$@" 2>"$work/err" &
    local ssed=$!
    pids+=($ssed)
    for _ in $(seq 1 200); do grep -q 'serving http' "$work/err" && break; sleep 0.05; done
    local url
    url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+/' "$work/err" | head -1)
    curl -sN --max-time 3600 "$url" >/dev/null &
    local sub=$!
    pids+=($sub)
    sleep 0.3
    local start end
    start=$(date +%s%N)
    seq "$events" | "$build/ssepub" -q --url "$url"
    end=$(date +%s%N)
    local size=""
    if [ -f "$work/s.store" ]; then
        # Running (database and its log) and after a clean stop.
        size=" store $(du -cb "$work"/s.store* | tail -1 | cut -f1) bytes running"
    fi
    kill "$ssed" "$sub" 2>/dev/null || true
    wait "$ssed" 2>/dev/null || true
    if [ -f "$work/s.store" ]; then
        size="$size, $(du -cb "$work"/s.store* | tail -1 | cut -f1) stopped"
        rm -f "$work"/s.store*
    fi
    printf '%-44s %12s events/s%s\n' "$label" "$(rate "$events" "$start" "$end")" "$size"
}

echo "== seq $events | ssepub into ssed (--history $history), one subscriber"
run_one "in memory"
for mode in off batch always; do
    run_one "--store --sync $mode" --store "$work/s.store" --sync "$mode"
done

echo "== store engines on ssed's pattern (appends in batches of 64, evict oldest past 1000, 100-event range reads)"
"${CC:-cc}" -O2 -std=c11 -D_GNU_SOURCE -o "$build/store-bench" "$top/tests/bench/store_bench.c" -llmdb -lsqlite3 2>/dev/null &&
    "$build/store-bench" "$work" ||
    echo "(skipped: needs liblmdb-dev and libsqlite3-dev)"
