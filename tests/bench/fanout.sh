#!/usr/bin/env bash
# ssed fan-out figures with the project's load generator (tests/bench/fanout.c):
# events delivered per second to N subscribers when published as fast as
# possible, and delivery latency at a low rate. Prints one line per scenario.
# Usage: fanout.sh BUILD_DIR [SUBSCRIBERS] [SECONDS]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build="$top/${1:-build}"
subs=${2:-1000}
seconds=${3:-10}
work=$(mktemp -d)
pids=()
cleanup() {
    exec 7>&- 2>/dev/null || true
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
"${CC:-cc}" -O2 -std=c11 -D_GNU_SOURCE -o "$build/fanout" "$top/tests/bench/fanout.c"

# scenario NAME RATE: ssed fed by `fanout feed RATE`, watched by N subscribers.
scenario() {
    local name=$1 rate=$2 port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    rm -f "$work/feed"
    mkfifo "$work/feed"
    "$build/ssed" -q -l "127.0.0.1:$port" --keepalive 0 --history 10 --max-pending 64M <"$work/feed" &
    local ssed=$!
    pids+=("$ssed")
    exec 7>"$work/feed"
    sleep 0.3
    "$build/fanout" watch "$port" "$subs" "$((seconds + 1))" >"$work/out" 2>"$work/err" &
    local watcher=$!
    pids+=("$watcher")
    sleep 1
    "$build/fanout" feed "$rate" "$seconds" >&7
    exec 7>&-
    wait "$watcher"
    printf '%-34s %s ssed_peak_rss_kb=%s\n' "$name" "$(cat "$work/out")" \
        "$(awk '/VmHWM/ {print $2}' "/proc/$ssed/status")"
    kill "$ssed" 2>/dev/null || true
    wait "$ssed" 2>/dev/null || true
}

# idle N: N subscribers that get nothing; ssed's resident memory per subscriber.
idle() {
    local n=$1 port before after
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$build/ssed" -q -l "127.0.0.1:$port" --no-stdin --keepalive 0 &
    local ssed=$!
    pids+=("$ssed")
    sleep 0.3
    before=$(awk '/VmRSS/ {print $2}' "/proc/$ssed/status")
    "$build/fanout" watch "$port" "$n" 4 >"$work/out" 2>"$work/err" &
    local watcher=$!
    pids+=("$watcher")
    for _ in $(seq 1 100); do grep -q connected "$work/err" 2>/dev/null && break; sleep 0.1; done
    sleep 1
    after=$(awk '/VmRSS/ {print $2}' "/proc/$ssed/status")
    held=$(curl -s --max-time 5 "http://127.0.0.1:$port/_ssed/stats" | grep -o '"subscribers":[0-9]*' | head -1 | cut -d: -f2)
    printf '%-34s held=%s rss_before_kb=%s rss_after_kb=%s bytes_per_subscriber=%s\n' "idle subscribers ($n)" "$held" \
        "$before" "$after" "$(( (after - before) * 1024 / (held > 0 ? held : 1) ))"
    wait "$watcher" 2>/dev/null || true
    kill "$ssed" 2>/dev/null || true
    wait "$ssed" 2>/dev/null || true
}

# This sandbox allows 20,000 descriptors per process (hard limit), so the
# idle scenario stays below that; raise IDLE_SUBSCRIBERS where more fit.
idle "${IDLE_SUBSCRIBERS:-10000}"
scenario "fan-out, as fast as possible" 0
scenario "latency at 100 events/s" 100
