#!/usr/bin/env bash
# ssed's memory under HTTP/2 clients that never read: RSS before, during and
# after. Prints figures; asserts nothing (tests/h2_memory.bats asserts).
#
# Rows:
#   stalled  BENCH_H2_CONNS connections x BENCH_H2_STREAMS subscriptions
#            whose stream windows stay 0 (tests/lib/h2_raw.py stalled-conns),
#            then BENCH_H2_KB KiB published in 1 KiB events
#   unread   the same with windows wide open and sockets never read
#   paced    one h2c stream replaying BENCH_H2_REPLAY_MB MB of history with a
#            16 KiB window given back frame by frame (h2_raw.py paced)
# "during" is after a plain HTTP/1.1 subscriber has every event; "after" is
# once the attackers have closed and ssed counts one subscriber again.
#
# Usage: h2_memory.sh BUILD_DIR [SSED OPTIONS...]
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build="$top/${1:-build}"
shift
conns=${BENCH_H2_CONNS:-20}
streams=${BENCH_H2_STREAMS:-256}
kb=${BENCH_H2_KB:-400}
replay_mb=${BENCH_H2_REPLAY_MB:-20}

work=$(mktemp -d /tmp/ssetools-h2mem.XXXXXX)
pids=()
. "$top/tests/bench/bench_lib.sh"
on_exit_stop_all


# wait_until CMD...: poll CMD for up to 120 s.
wait_until() {
    local i
    for i in $(seq 1 1200); do
        "$@" && return 0
        sleep 0.1
    done
    echo "h2 memory: timed out waiting for: $*" >&2
    return 1
}
stat_is() { [ "$(curl -s --max-time 5 "$url/_ssed/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])" 2>/dev/null)" = "$2" ]; }
has_data() { [ "$(grep -c '^data:' "$work/healthy")" -ge "$1" ]; }

# start_ssed OPTIONS...: ssed on a free port, its stdin a FIFO held on fd 8.
start_ssed() {
    port=$(free_port)
    url="http://127.0.0.1:$port"
    rm -f "$work/feed"
    mkfifo "$work/feed"
    "$build/ssed" -l "127.0.0.1:$port" --max-clients 100000 "$@" <"$work/feed" 2>"$work/ssed.err" &
    ssed_pid=$!
    pids+=("$ssed_pid")
    exec 8>"$work/feed"
    wait_for_line "$work/ssed.err" "serving http://" 10
    curl -sN "$url/" >"$work/healthy" &
    pids+=($!)
    wait_for_line "$work/healthy" '^: ssed stream' 10
}
stop_ssed() {
    exec 8>&-
    stop_pid "$ssed_pid"
}

# publish N: N events of about 1 KiB on stdin.
publish() {
    local pad
    pad=$(head -c 1000 /dev/zero | tr '\0' x)
    for i in $(seq 1 "$1"); do echo "event $i $pad"; done >&8
}

row_attack() {
    local name=$1 window=$2 read=$3 before during after
    shift 3
    start_ssed "$@"
    before=$(rss_kib "$ssed_pid")
    H2_STREAMS=$streams H2_WINDOW=$window H2_READ=$read \
        python3 "$top/tests/lib/h2_raw.py" "$port" stalled-conns "$conns" 600 >"$work/raw" 2>&1 &
    local raw=$!
    pids+=("$raw")
    wait_for_line "$work/raw" '^READY' 120 || { echo "$name: the streams were not answered" >&2; cat "$work/raw" >&2; }
    publish "$kb"
    wait_until has_data "$kb"
    during=$(rss_kib "$ssed_pid")
    stop_pid "$raw"
    wait_until stat_is subscribers 1
    after=$(rss_kib "$ssed_pid")
    printf '%-8s %4d x %3d streams, %d KiB published: RSS %6d KiB before, %7d during, %6d after\n' \
        "$name" "$conns" "$streams" "$kb" "$before" "$during" "$after"
    grep -cE 'HTTP/2|dropping' "$work/ssed.err" | sed "s/^/$name: warnings logged: /"
    stop_ssed
}

row_paced() {
    local events=$((replay_mb * 1000)) before during
    start_ssed --history "$events" --max-history-bytes 1GiB --replay "$events" "$@"
    publish "$events"
    wait_until has_data "$events"
    before=$(rss_kib "$ssed_pid")
    python3 "$top/tests/lib/h2_raw.py" "$port" paced "$events" 300 >"$work/raw" 2>&1 &
    local raw=$!
    pids+=("$raw")
    wait_for_line "$work/raw" '^DONE' 300
    during=$(rss_kib "$ssed_pid")
    stop_pid "$raw"
    printf '%-8s one h2c stream, %d MB replayed with a 16 KiB window: RSS %6d KiB before, %7d with it all read, stream open (%s)\n' \
        paced "$replay_mb" "$before" "$during" "$(grep -c DONE "$work/raw") done"
    stop_ssed
}

row_attack stalled 0 1 "$@"
row_attack unread $((1 << 30)) 0 "$@"
row_paced "$@"
