#!/usr/bin/env bash
# Memory per idle TLS subscriber: ssed next to nginx+nchan (one worker), part
# of `make bench`. Prints figures and the target as met or NOT met; asserts
# nothing.
#
# Each server gets the same BENCH_TLS_IDLE_SUBS (1,000) subscribers over TLS
# 1.3 and HTTP/1.1, one connection each, from one h2_loadgen process (--http1
# --tls); nothing is published, so every subscriber stays idle. Memory is RSS
# growth from before the subscribers connect to a second after the last one
# has its answer: ssed's VmRSS, nginx's master and worker VmRSS summed (from
# /proc/PID/status). The plaintext rows are there for scale.
#
# Usage: tls_idle_memory.sh BUILD_DIR
# Environment:
#   BENCH_TLS_IDLE_SUBS=1000   idle subscribers per server
#   BENCH_TLS_RUNS=3           runs of each row (medians shown)
# Target: an idle TLS subscriber costs ssed at most half what it costs nginx.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bench="$top/tests/bench"
build="$top/${1:-build}"
subs=${BENCH_TLS_IDLE_SUBS:-1000}
runs=${BENCH_TLS_RUNS:-3}

work=$(mktemp -d /tmp/ssetools-tls-idle.XXXXXX)
pids=()
. "$bench/bench_lib.sh"
on_exit_stop_all
note() { echo "tls idle: $*" >&2; }

if [[ "$("$build/ssed" --tls-cert /dev/null --tls-key /dev/null 2>&1)" == *"built without TLS"* ]]; then
    note "ssed was built without TLS (make TLS=0): skipped"
    exit 0
fi
"${CC:-cc}" -O2 -g -std=c11 -Wall -Wextra -D_GNU_SOURCE -o "$build/h2_loadgen" "$bench/h2_loadgen.c" \
    -lnghttp2 -lssl -lcrypto || { note "h2_loadgen did not build (libnghttp2-dev, libssl-dev): skipped"; exit 0; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -gt $((subs + 100)) ] || { note "ulimit -n $(ulimit -n) is below $subs subscribers: skipped"; exit 0; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost \
    -keyout "$work/k.pem" -out "$work/c.pem" 2>/dev/null || { note "openssl req failed"; exit 1; }

# start ROW PORT: the row's server on PORT; sets SRV_PID and SRV_ALL (the
# PIDs whose memory counts). Returns 1 if it did not start.
start() {
    local row=$1 port=$2 tls=()
    case $row in
    ssed-*)
        [ "$row" = ssed-tls ] && tls=(--tls-cert "$work/c.pem" --tls-key "$work/k.pem")
        "$build/ssed" --no-stdin -l "$([ "$row" = ssed-tls ] && echo https || echo http)://127.0.0.1:$port" \
            "${tls[@]}" --max-clients $((subs + 100)) --keepalive 0 2>"$work/ssed.err" &
        SRV_PID=$!
        pids+=("$SRV_PID")
        wait_for_line "$work/ssed.err" 'serving http' 10 || { note "ssed did not start: $(cat "$work/ssed.err")"; return 1; }
        SRV_ALL=$SRV_PID
        ;;
    nchan-*)
        [ "$row" = nchan-tls ] && tls=("$work/c.pem" "$work/k.pem")
        start_nchan "$work/nchan" "$port" 1 $((subs + 100)) "${tls[@]}"
        local started=$?
        SRV_PID=$NCHAN_PID
        pids+=("$SRV_PID")
        [ $started = 0 ] || { note "nginx did not start: $(cat "$work/nchan/stderr" "$work/nchan/error.log")"; return 1; }
        SRV_ALL="$SRV_PID $(pgrep -P "$SRV_PID")"
        ;;
    esac
}

stop_tracked() {
    local p
    for p in "${pids[@]}"; do stop_pid "$p"; done
    pids=()
}

# one_run ROW: sets GROWTH to the row's RSS growth per subscriber in bytes
# (empty if the run failed). Not in a subshell, so that an interrupted run
# still has its processes stopped by PID.
one_run() {
    GROWTH=""
    local row=$1 port before after lg path=/ tls=() out=$work/loadgen.out
    port=$(free_port)
    start "$row" "$port" || { stop_tracked; return 1; }
    case $row in *-tls) tls=(--tls) ;; esac
    case $row in nchan-*) path=/sub ;; esac
    sleep 0.5
    before=$(rss_kib $SRV_ALL)
    "$build/h2_loadgen" --port "$port" --path "$path" --http1 "${tls[@]}" --conns "$subs" --streams 1 \
        --seconds 120 >"$out" 2>"$work/loadgen.err" &
    lg=$!
    pids+=("$lg")
    wait_for_line "$out" '^ready' 60 || {
        note "$row: subscribers not ready: $(cat "$work/loadgen.err")"
        stop_tracked
        return 1
    }
    sleep 1
    after=$(rss_kib $SRV_ALL)
    stop_tracked
    note "$row: $subs idle subscribers, RSS $before -> $after KiB"
    GROWTH=$(((after - before) * 1024 / subs))
}

rows="ssed-plain ssed-tls"
if have_nchan; then rows="$rows nchan-plain nchan-tls"; else note "nginx with nchan is missing: its rows are skipped"; fi
echo "== idle subscribers over TLS (HTTP/1.1): RSS growth per subscriber, $subs subscribers, median of $runs"
declare -A per
for row in $rows; do
    all=""
    for run in $(seq 1 "$runs"); do
        one_run "$row"
        all="$all $GROWTH"
    done
    per[$row]=$(echo "$all" | median)
    printf '%-12s %8d bytes per idle subscriber   (runs:%s)\n' "$row" "${per[$row]}" "$all"
done
if [ -n "${per[nchan-tls]:-}" ] && [ "${per[nchan-tls]}" -gt 0 ]; then
    ratio=$(awk -v s="${per[ssed-tls]}" -v n="${per[nchan-tls]}" 'BEGIN { printf "%.2f", s / n }')
    met=$(awk -v r="$ratio" 'BEGIN { print (r <= 0.5 ? "met" : "NOT met") }')
    echo "target: an idle TLS subscriber costs ssed <= 1/2 of nginx+nchan: ${ratio} x (${per[ssed-tls]} vs ${per[nchan-tls]} bytes): $met"
fi
