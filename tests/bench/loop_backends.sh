#!/usr/bin/env bash
# ssed's event-loop backends side by side (make LOOP=; README, "Building on
# macOS / FreeBSD"): epoll (build/) and poll (build-poll/, built here when
# missing) at 1,000 and 10,000 subscribers, two loads each, a fresh ssed per
# run:
#   fanout: one POST per event as fast as the subscribers keep up
#           (compare.sh's post1): deliveries/s and ssed's CPU per delivery;
#   rate:   100 events/s: delivery latency (p50, p99) and ssed's CPU share,
#           where poll's look at every descriptor on every turn shows most.
# Prints one row per run and the load average; asserts nothing. Linux only
# (loadgen uses epoll, and reads ssed's CPU time in /proc).
# Usage: tests/bench/loop_backends.sh [SECONDS (5)] [SUBSCRIBER COUNTS ("1000 10000")]
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-5} counts=${2:-1000 10000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$top"
make --no-print-directory -j2 all >/dev/null || exit 1
make --no-print-directory -j2 LOOP=poll BUILD_DIR=build-poll all >/dev/null || exit 1
cc -O2 -std=c11 -Wall -Wextra -D_GNU_SOURCE -pthread -o "$work/loadgen" tests/bench/loadgen.c || exit 1
ulimit -n 65536 2>/dev/null || ulimit -n 30000 2>/dev/null || true

# one_run BUILD SUBSCRIBERS LOADGEN_ARGS...: a fresh ssed, one loadgen run;
# prints loadgen's result line.
one_run() {
    local build=$1 subs=$2 pid port line
    shift 2
    "$build/ssed" -l 127.0.0.1:0 --no-stdin --max-clients $((subs + 1000)) 2>"$work/err" &
    pid=$!
    for _ in $(seq 1 100); do
        port=$(grep -oE 'serving http://127\.0\.0\.1:[0-9]+' "$work/err" | head -1 | sed 's/.*://')
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { echo "ssed did not start: $(cat "$work/err")" >&2; kill "$pid"; return 1; }
    line=$("$work/loadgen" --port "$port" --conns "$subs" --warmup 1 --duration "$seconds" --size 100 \
        --pub-post / --pub-inflight 1 --server-pid "$pid" "$@" 2>&1 | tail -1)
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null
    echo "$line"
}

field() { grep -oE " $1=[0-9.]+" | head -1 | cut -d= -f2; }

printf '%-6s %11s %-7s %14s %12s %10s %10s %8s\n' loop subscribers load deliveries/s cpu_us/deliv p50_us p99_us cpu_pct
for subs in $counts; do
    for loop in epoll poll; do
        build=$top/build
        [ "$loop" = poll ] && build=$top/build-poll
        for load in fanout rate; do
            if [ "$load" = fanout ]; then
                line=$(one_run "$build" "$subs" --mode fanout)
            else
                line=$(one_run "$build" "$subs" --mode rate --rate 100)
            fi
            printf '%-6s %11s %-7s %14s %12s %10s %10s %8s\n' "$loop" "$subs" "$load" \
                "$(field rate <<<" $line")" "$(field cpu_us_per_delivery <<<" $line")" \
                "$(field p50_us <<<" $line")" "$(field p99_us <<<" $line")" "$(field server_cpu_pct <<<" $line")"
        done
    done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores, shared)"
