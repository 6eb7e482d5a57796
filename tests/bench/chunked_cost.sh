#!/usr/bin/env bash
# What chunked streams cost (issue 30): deliveries/s to 1,000 subscribers
# asking HTTP/1.1 (chunked, one chunk per write) against the same number
# asking HTTP/1.0 (close-delimited, no framing), one POST per event as fast
# as the subscribers keep up (compare.sh's post1). Runs alternate, a fresh
# ssed for each; prints every run, the medians, the ratio (target >= 0.95)
# and the load average.
# Usage: tests/bench/chunked_cost.sh [RUNS (3)] [SECONDS (5)] [SUBSCRIBERS (1000)]
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-3} seconds=${2:-5} subs=${3:-1000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -std=c11 -Wall -Wextra -D_GNU_SOURCE -pthread -o "$work/loadgen" "$top/tests/bench/loadgen.c" || exit 1
ulimit -n 65536 2>/dev/null || ulimit -n 4096

# one_run FRAMING: a fresh ssed, one loadgen run; prints its rate.
one_run() {
    local framing=$1 pid port rate
    "$top/build/ssed" -l 127.0.0.1:0 --no-stdin --max-clients 5000 2>"$work/err" &
    pid=$!
    for _ in $(seq 1 100); do
        port=$(grep -oE 'serving http://127\.0\.0\.1:[0-9]+' "$work/err" | head -1 | sed 's/.*://')
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { echo "ssed did not start" >&2; kill "$pid"; return 1; }
    rate=$("$work/loadgen" --port "$port" --conns "$subs" --warmup 1 --mode fanout --size 100 \
        --duration "$seconds" --pub-post / --pub-inflight 1 $([ "$framing" = close ] && echo --http10) 2>&1 |
        grep -oE ' rate=[0-9]+' | cut -d= -f2)
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null
    echo "${rate:-0}"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

: >"$work/chunked"
: >"$work/close"
for run in $(seq 1 "$runs"); do
    for framing in chunked close; do
        r=$(one_run "$framing")
        echo "run $run $framing: $r deliveries/s"
        echo "$r" >>"$work/$framing"
    done
done
c=$(median <"$work/chunked")
p=$(median <"$work/close")
echo "median chunked (HTTP/1.1): $c deliveries/s; close-delimited (HTTP/1.0): $p deliveries/s"
awk -v c="$c" -v p="$p" 'BEGIN { printf "ratio chunked/close: %.3f (target >= 0.95)\n", p ? c / p : 0 }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
