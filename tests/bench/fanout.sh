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

scenario "fan-out, as fast as possible" 0
scenario "latency at 100 events/s" 100
