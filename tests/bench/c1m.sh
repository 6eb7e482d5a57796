#!/usr/bin/env bash
# A million subscribers as one service (issue 33), `make bench-c1m`: N ssed
# processes behind one port (--reuse-port) sharing channels, ids and history
# through one local redis-server (--redis), held by the project's own lean
# client (tests/bench/c1m_client.c: one epoll process per ~18,000 sockets,
# each on source addresses of its own, 127.0.0.2 upwards). Prints figures;
# asserts nothing.
#
# What it prints:
#   - subscribers held (and how long connecting took);
#   - ssed's RSS per subscriber: all ssed processes' VmRSS summed, in all and
#     its growth from before the subscribers connected, divided by those held;
#   - the machine's used memory (MemTotal - MemAvailable) before and while held;
#   - CPU while idle over C1M_IDLE_SECONDS: ssed's (all processes), redis's
#     and the clients', in % of one core (utime + stime from /proc/PID/stat);
#   - a broadcast phase per rate in C1M_RATES: one C1M_EVENT_SIZE-byte event
#     per 1/rate s for C1M_BROADCAST_SECONDS, each published once (one POST to
#     the shared port: one node takes it, Redis carries it to the others);
#     then, once deliveries stop, events delivered against published x held,
#     dropped (owed but not delivered), subscribers closed, sequence gaps, and
#     p50 / p99 / max delivery latency over every delivery (1 ms buckets);
#   - the load average at the start and the end.
#
# Usage: c1m.sh BUILD_DIR   (make bench-c1m runs it niced)
# Environment:
#   C1M_SUBS=200000            subscribers
#   C1M_PER_SSED=15000         subscribers per ssed process (each under
#                              ulimit -n 20000; --reuse-port spreads by hash,
#                              so leave room): N = C1M_SUBS / this, rounded up
#   C1M_PER_CLIENT=18000       sockets per client process (its own ulimit -n)
#   C1M_IDLE_SECONDS=30        the idle CPU window
#   C1M_RATES="1 10"           broadcast rates, events/s ("" skips broadcasts)
#   C1M_BROADCAST_SECONDS=30   length of each broadcast (the issue asks 60)
#   C1M_EVENT_SIZE=100         bytes of each event's data
#   C1M_SSED_OPTS=""           more ssed options (e.g. "--keepalive 30s")
# A million: C1M_SUBS=1000000 C1M_BROADCAST_SECONDS=60 nice make bench-c1m
# (67 ssed and 56 client processes; about 11 GiB; see tests/bench/README.md).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bench="$top/tests/bench"
build="$top/${1:-build}"
subs=${C1M_SUBS:-200000}
per_ssed=${C1M_PER_SSED:-15000}
per_client=${C1M_PER_CLIENT:-18000}
idle_seconds=${C1M_IDLE_SECONDS:-30}
rates=${C1M_RATES-1 10}
bc_seconds=${C1M_BROADCAST_SECONDS:-30}
event_size=${C1M_EVENT_SIZE:-100}
node_fds=20000

work=$(mktemp -d /tmp/ssetools-c1m.XXXXXX)
pids=()
. "$bench/bench_lib.sh"
on_exit_stop_all
note() { echo "c1m: $*" >&2; }

command -v redis-server >/dev/null || { note "redis-server is not installed: skipped"; exit 0; }
if timeout 5 "$build/ssed" --no-stdin -l 127.0.0.1:0 --redis redis://127.0.0.1:1 2>&1 | grep -q 'without Redis'; then
    note "ssed was built without Redis (make REDIS=0): skipped"
    exit 0
fi
[ "$(ulimit -Hn)" -ge "$node_fds" ] || { note "ulimit -Hn $(ulimit -Hn) is below $node_fds: skipped"; exit 0; }
"${CC:-cc}" -O2 -g -std=c11 -Wall -Wextra -D_GNU_SOURCE -o "$build/c1m_client" "$bench/c1m_client.c" || exit 1

procs=$(((subs + per_ssed - 1) / per_ssed))
clients=$(((subs + per_client - 1) / per_client))
[ $((2 + 2 * clients)) -le 254 ] || { note "$clients clients need more than 127.0.0.2-254: raise C1M_PER_CLIENT"; exit 2; }
hz=$(getconf CLK_TCK)

# cpu_ticks PID...: utime + stime of these processes, summed (clock ticks).
cpu_ticks() {
    local p t=0 v
    for p in "$@"; do
        v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null)
        t=$((t + ${v:-0}))
    done
    echo "$t"
}
used_mib() { awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 } END { printf "%.0f", (t - a) / 1024 }' /proc/meminfo; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
pct() { awk -v t="$1" -v hz="$hz" -v s="$2" 'BEGIN { printf "%.1f", t / hz / s * 100 }'; }

mkdir -p "$bench/results"
saved="$bench/results/c1m-$(date -u +%Y-%m-%d-%H%M).txt"
exec > >(tee "$saved") # what it prints is also kept
started=$(date +%s)
load_start=$(loadavg)
mem_start=$(used_mib)

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" >"$work/redis.out" 2>&1 &
redis_pid=$!
pids+=("$redis_pid")
for i in $(seq 1 100); do
    redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break
    sleep 0.05
done

port=$(free_port)
ssed_pids=()
for i in $(seq 1 "$procs"); do
    # shellcheck disable=SC2086 # C1M_SSED_OPTS is a list of options
    (ulimit -n "$node_fds" && exec "$build/ssed" --no-stdin -q -l "127.0.0.1:$port" --reuse-port \
        --redis "redis://127.0.0.1:$redis_port" ${C1M_SSED_OPTS:-}) 2>"$work/ssed-$i.err" &
    pids+=($!)
    ssed_pids+=($!)
done
for i in $(seq 1 200); do
    curl -s -o /dev/null -m 1 "http://127.0.0.1:$port/_ssed/health" && break
    sleep 0.1
done
sleep 2 # every node joins the cluster (-q hides its "ready")
for p in "${ssed_pids[@]}"; do
    kill -0 "$p" 2>/dev/null || { note "an ssed process exited: $(cat "$work"/ssed-*.err)"; exit 1; }
done
rss_before=$(rss_kib "${ssed_pids[@]}")
mem_before=$(used_mib)

client_pids=()
connect_start=$(date +%s.%N)
for i in $(seq 0 $((clients - 1))); do
    n=$((subs / clients + (i < subs % clients ? 1 : 0)))
    (ulimit -n "$node_fds" && exec "$build/c1m_client" --port "$port" --conns "$n" --sources "$((2 + 2 * i)):2" \
        --connect-timeout 300) >"$work/client-$i.out" 2>"$work/client-$i.err" &
    pids+=($!)
    client_pids+=($!)
done
held=0 failed=0
for i in $(seq 0 $((clients - 1))); do
    wait_for_line "$work/client-$i.out" '^ready' 330 || note "client $i never ready: $(cat "$work/client-$i.err")"
    line=$(grep '^ready' "$work/client-$i.out")
    held=$((held + $(field held "$line"))) failed=$((failed + $(field failed "$line")))
done
connect_secs=$(awk -v a="$connect_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
sleep 5 # let the last connections' first writes and the allocator settle
rss_after=$(rss_kib "${ssed_pids[@]}")
mem_held=$(used_mib)
tcp_mib=$(awk '/^TCP:/ { printf "%.0f", $NF * 4 / 1024 }' /proc/net/sockstat)

echo "== $subs subscribers: $procs ssed processes on 127.0.0.1:$port (--reuse-port, --redis), $clients clients"
echo "held:                $held (failed $failed), connected in $connect_secs s"
awk -v a="$rss_after" -v b="$rss_before" -v h="$held" 'BEGIN {
    printf "ssed RSS:            %.0f MiB in all, %.3f KiB per subscriber (growth %.3f KiB per subscriber)\n",
        a / 1024, h ? a / h : 0, h ? (a - b) / h : 0 }'
echo "machine memory used: $mem_start MiB at start, $mem_before MiB with ssed and redis up, $mem_held MiB held" \
    "(kernel TCP buffers $tcp_mib MiB)"

c0=$(cpu_ticks "${ssed_pids[@]}") r0=$(cpu_ticks "$redis_pid") l0=$(cpu_ticks "${client_pids[@]}")
sleep "$idle_seconds"
c1=$(cpu_ticks "${ssed_pids[@]}") r1=$(cpu_ticks "$redis_pid") l1=$(cpu_ticks "${client_pids[@]}")
echo "idle CPU over $idle_seconds s (% of one core): ssed $(pct $((c1 - c0)) "$idle_seconds") (all $procs)," \
    "redis $(pct $((r1 - r0)) "$idle_seconds"), clients $(pct $((l1 - l0)) "$idle_seconds")"

# signal_all SIG: SIG to every client.
signal_all() {
    local p
    for p in "${client_pids[@]}"; do kill -"$1" "$p" 2>/dev/null; done
}

# peek_total: the events every client has counted this phase, summed.
peek_n=0
peek_total() {
    local i total=0
    peek_n=$((peek_n + 1))
    signal_all USR2
    for i in $(seq 0 $((clients - 1))); do
        for _ in $(seq 1 50); do
            [ "$(grep -c '^peek' "$work/client-$i.out")" -ge "$peek_n" ] && break
            sleep 0.1
        done
        total=$((total + $(grep '^peek' "$work/client-$i.out" | tail -1 | sed 's/.*events=//')))
    done
    echo "$total"
}

phase=0 # the clients' reports so far: each SIGUSR1 ends one
seq_next=1
broadcast() {
    local rate=$1 p0 p1 t0 secs i total last=-1 published
    signal_all USR1 # what came before (keep-alives) is not counted
    phase=$((phase + 1))
    p0=$(cpu_ticks "${ssed_pids[@]}") t0=$(date +%s.%N)
    "$build/c1m_client" --publish --port "$port" --rate "$rate" --seconds "$bc_seconds" --size "$event_size" \
        --first-seq "$seq_next" >"$work/publish.out" 2>&1
    published=$(field published "$(cat "$work/publish.out")")
    seq_next=$((seq_next + rate * bc_seconds))
    for i in $(seq 1 60); do # until a second passes without a delivery (at most a minute)
        sleep 1
        total=$(peek_total)
        [ "$total" = "$last" ] && break
        last=$total
    done
    p1=$(cpu_ticks "${ssed_pids[@]}") secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
    signal_all USR1
    phase=$((phase + 1))
    for i in $(seq 0 $((clients - 1))); do
        wait_for_line "$work/client-$i.out" "^endphase $phase\$" 30 || note "client $i did not report"
    done
    cat "$work"/client-*.out | awk -v ph="$phase" -v pub="$published" -v rate="$rate" -v secs="$bc_seconds" \
        -v cpu="$(pct $((p1 - p0)) "$secs")" -v drained="$secs" -v line="$(cat "$work/publish.out")" '
        $1 == "phase" { inph = ($2 == ph); if (!inph) next
            for (i = 3; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
            held += f["held"]; closed += f["closed"]; ev += f["events"]; gaps += f["gaps"]
            if (min == "" || f["min"] + 0 < min) min = f["min"] + 0
            if (f["max"] + 0 > max) max = f["max"] + 0
            next }
        $1 == "endphase" { inph = 0; next }
        $1 == "lat" && inph { h[$2 + 0] += $3; n += $3 }
        END {
            want = pub * held; drop = want - ev; if (drop < 0) drop = 0
            c = 0; p50 = p99 = mx = -1
            for (ms = 0; ms <= 120000; ms++) if (ms in h) { c += h[ms]; mx = ms
                if (p50 < 0 && c >= 0.5 * n) p50 = ms; if (p99 < 0 && c >= 0.99 * n) p99 = ms }
            printf "broadcast %d event/s for %d s (%s): %d held, %d closed\n", rate, secs, line, held, closed
            printf "  delivered %d of %d (every subscriber got %d to %d events), dropped %d, sequence gaps %d\n",
                ev, want, min, max, drop, gaps
            printf "  latency p50 %d ms, p99 %d ms, max %d ms; ssed CPU %s%% of a core (all processes, over the %.0f s from the first publish to drained)\n",
                p50, p99, mx, cpu, drained }'
}
for rate in $rates; do
    broadcast "$rate"
done
echo "load average: $load_start at the start, $(loadavg) at the end; took $(($(date +%s) - started)) s"
echo "saved: ${saved#"$top"/}"
