#!/usr/bin/env bash
# The cluster benchmark (--redis), part of `make bench`: what the Redis hop
# costs next to one standalone ssed, and how many idle subscribers three
# --reuse-port processes hold. Prints figures and each target as met or not
# met, saves them under tests/bench/results/; asserts nothing.
#
# Like with like: every fan-out row is fed the same way, on the first node:
# more than any of them delivers (BENCH_CLUSTER_OFFER events/s, 20,000) in
# POSTs of up to 64 lines, at most 2 unanswered, so the figure is what the
# node delivers flat out; "2 nodes" spreads the subscribers over both.
# (A publisher that waits for deliveries before sending more, as compare.sh's
# fan-out does, measures the Redis round trip instead: with one event per
# POST a node then writes every event on its own.) Latency rows publish one
# event per POST (one in flight) at a low rate, so they show the hop itself.
#
# Usage: cluster_bench.sh BUILD_DIR
# Environment:
#   BENCH_CLUSTER_ROWS="fanout publish latency idle"  the rows to run ("" for none)
#   BENCH_CLUSTER_RUNS=3              runs of the cheap rows (medians shown)
#   BENCH_SECONDS=5                   length of each fan-out and latency run
#   BENCH_SUBSCRIBERS=1000            subscribers of fan-out and latency rows
#   BENCH_CLUSTER_OFFER=20000         events/s offered in the fan-out rows
#   BENCH_CLUSTER_PUBLISH_EVENTS=1000000  lines of `seq N | ssepub`
#   BENCH_CLUSTER_IDLE=50000          idle subscribers over 3 --reuse-port processes
#   BENCH_RECORD=1                    then try for the most idle subscribers:
#                                     BENCH_RECORD_PROCS (16) processes, BENCH_RECORD_WANT
#                                     (19,000 each) subscribers
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bench="$top/tests/bench"
build="$top/${1:-build}"
runs=${BENCH_CLUSTER_RUNS:-3}
rows=${BENCH_CLUSTER_ROWS-fanout publish latency idle}
seconds=${BENCH_SECONDS:-5}
subs=${BENCH_SUBSCRIBERS:-1000}
offer=${BENCH_CLUSTER_OFFER:-20000}
publish_events=${BENCH_CLUSTER_PUBLISH_EVENTS:-1000000}
idle_want=${BENCH_CLUSTER_IDLE:-50000}
node_fds=20000  # each ssed process's descriptor limit: 50,000 must go past one process
lg_conns=10000  # connections per load generator process (each under its own limit)

work=$(mktemp -d /tmp/ssetools-cluster-bench.XXXXXX)
pids=()
. "$bench/bench_lib.sh"
on_exit_stop_all
note() { echo "cluster bench: $*" >&2; }

command -v redis-server >/dev/null || { note "redis-server is not installed: skipped"; exit 0; }
if timeout 5 "$build/ssed" --no-stdin -l 127.0.0.1:0 --redis redis://127.0.0.1:1 2>&1 | grep -q 'without Redis'; then
    note "ssed was built without Redis (make REDIS=0): skipped"
    exit 0
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
"${CC:-cc}" -O2 -g -std=c11 -Wall -Wextra -D_GNU_SOURCE -pthread -o "$build/loadgen" "$bench/loadgen.c" || exit 1

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
    >"$work/redis.out" 2>&1 &
pids+=($!)
for i in $(seq 1 100); do
    redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break
    sleep 0.05
done

# start_ssed NAME [OPTIONS...]: an ssed on a free port; sets
# SSED_PID and SSED_PORT. With --redis it waits until the node is ready.
start_ssed() {
    local name=$1 err="$work/$1.err" ready='serving http'
    shift
    [[ " $* " == *" --redis "* ]] && ready='cluster [^ ]+ ready'
    "$build/ssed" --no-stdin -l 127.0.0.1:0 "$@" 2>"$err" &
    SSED_PID=$!
    pids+=("$SSED_PID")
    wait_for_line "$err" "$ready" 10 || { note "$name did not start: $(cat "$err")"; return 1; }
    SSED_PORT=$(grep -oE 'serving http://127\.0\.0\.1:[0-9]+' "$err" | head -1 | sed 's/.*://')
}

# stop_started: stops every ssed and load generator started since the last call.
stop_started() {
    local p
    for p in "${pids[@]:1}"; do stop_pid "$p"; done
    pids=("${pids[0]}")
}

# redis_opts: the options of a cluster node, with a key prefix of its own
# per row (each row runs in a subshell of its own).
redis_opts() { echo "--redis redis://127.0.0.1:$redis_port --redis-prefix bench$BASHPID"; }

# loadgen_run PUBPORT SUBPORTS CPU_PIDS ARGS...: one run; prints its result line.
loadgen_run() {
    local pubport=$1 subports=$2 cpu=$3
    shift 3
    "$build/loadgen" --port "$pubport" --sub-ports "$subports" --path / --conns "$subs" --warmup 1 --sources 2:8 \
        --server-pid "$cpu" --size 100 --pub-post / "$@" 2>&1 | grep '^held='
}

# fanout_run standalone|redis1|redis2: deliveries/s of one run.
fanout_run() {
    local kind=$1 line a b cpu
    local offered=(--mode rate --rate "$offer" --pub-batch 64 --pub-inflight 2 --duration "$seconds")
    case $kind in
    standalone) start_ssed fan-s || return 1 ;;
    *) start_ssed "fan-$kind" $(redis_opts) || return 1 ;;
    esac
    a=$SSED_PORT b=$SSED_PORT cpu=$SSED_PID
    if [ "$kind" = redis2 ]; then
        start_ssed fan-r2b $(redis_opts) || return 1
        b=$SSED_PORT cpu="$cpu,$SSED_PID"
    fi
    line=$(loadgen_run "$a" "$a,$b" "$cpu" "${offered[@]}")
    stop_started
    note "fan-out $kind: $line"
    field rate "$line"
}

# latency_run standalone|redis1: "p50 p99" (us) publish-to-receive.
latency_run() {
    local kind=$1 line opts=""
    [ "$kind" = redis1 ] && opts=$(redis_opts)
    start_ssed "lat-$kind" $opts || return 1
    line=$(loadgen_run "$SSED_PORT" "$SSED_PORT" "$SSED_PID" --mode rate --rate 200 --pub-inflight 1 \
        --duration "$seconds")
    stop_started
    note "latency $kind: $line"
    echo "$(field p50_us "$line") $(field p99_us "$line")"
}

# publish_run standalone|redis1: events/s of `seq N | ssepub` with one subscriber.
publish_run() {
    local kind=$1 opts="" start end sub
    [ "$kind" = redis1 ] && opts=$(redis_opts)
    start_ssed "pub-$kind" $opts || return 1
    curl -sN --max-time 600 "http://127.0.0.1:$SSED_PORT/" >/dev/null &
    pids+=($!)
    sleep 0.3
    start=$(date +%s%N)
    seq "$publish_events" | "$build/ssepub" -q --url "http://127.0.0.1:$SSED_PORT/" || note "ssepub failed"
    end=$(date +%s%N)
    stop_started
    [ "$kind" = redis1 ] && redis-cli -p "$redis_port" flushall >/dev/null
    awk -v n="$publish_events" -v ns=$((end - start)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }'
}

# idle_run WANT PROCS: WANT idle subscribers over PROCS --reuse-port
# processes (each limited to $node_fds descriptors); prints "HELD TCP_MIB
# FDS...": held, the kernel's TCP buffer memory while held, and each
# process's descriptors.
idle_run() {
    local want=$1 procs=$2 port i n lg=() held=0 fds="" shards tcp_mib
    port=$(free_port)
    local procpids=()
    for i in $(seq 1 "$procs"); do
        (ulimit -n "$node_fds" && exec "$build/ssed" --no-stdin -q -l "127.0.0.1:$port" --reuse-port \
            $(redis_opts)) 2>"$work/idle-$i.err" &
        pids+=($!)
        procpids+=($!)
    done
    # -q hides "ready": wait until the shared port answers instead.
    for i in $(seq 1 100); do
        curl -s -o /dev/null -m 1 "http://127.0.0.1:$port/_ssed/health" && break
        sleep 0.1
    done
    sleep 1
    shards=$(((want + lg_conns - 1) / lg_conns))
    for i in $(seq 0 $((shards - 1))); do
        n=$((want / shards + (i < want % shards ? 1 : 0)))
        "$build/loadgen" --port "$port" --path / --mode idle --conns "$n" --sources "$((2 + 2 * i)):2" \
            --hold $((5 + shards)) --connect-timeout 60 >"$work/idle-lg.$i" 2>&1 &
        lg+=($!)
        pids+=($!)
    done
    for i in $(seq 0 $((shards - 1))); do
        wait_for_line "$work/idle-lg.$i" '^ready' 90 || note "idle: load generator $i never ready"
    done
    for i in "${procpids[@]}"; do fds="$fds $(ls "/proc/$i/fd" 2>/dev/null | wc -l)"; done
    tcp_mib=$(awk '/^TCP:/ { printf "%.0f", $NF * 4 / 1024 }' /proc/net/sockstat)
    for i in "${lg[@]}"; do wait "$i"; done
    for i in $(seq 0 $((shards - 1))); do
        held=$((held + $(field held "$(grep '^held=' "$work/idle-lg.$i")")))
    done
    stop_started
    echo "$held $tcp_mib$fds"
}

verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v + 0 >= t + 0) ? "met" : "NOT met" }'; }

# median_of_runs COMMAND ARG: the median of $runs runs of COMMAND ARG.
median_of_runs() {
    local run r=""
    for run in $(seq 1 "$runs"); do r="$r $("$1" "$2")"; done
    echo "$r" | median
}

row_fanout() {
    local ratio fan_standalone fan_redis1 fan_redis2
    fan_standalone=$(median_of_runs fanout_run standalone)
    fan_redis1=$(median_of_runs fanout_run redis1)
    fan_redis2=$(median_of_runs fanout_run redis2)
    echo "fan-out to $subs subscribers (deliveries/s, median of $runs; $offer events/s offered in POSTs of 64 lines):"
    echo "  1 node, no Redis:     $fan_standalone"
    echo "  1 node with Redis:    $fan_redis1"
    echo "  2 nodes with Redis:   $fan_redis2 (subscribers split)"
    ratio=$(awk -v a="$fan_redis1" -v b="$fan_standalone" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
    echo "  target: 1 node with Redis >= 0.8x standalone: ${ratio}x, $(verdict "$ratio" 0.8)"
}

row_publish() {
    local ratio pub_standalone pub_redis1
    pub_standalone=$(median_of_runs publish_run standalone)
    pub_redis1=$(median_of_runs publish_run redis1)
    echo "publish throughput, seq $publish_events | ssepub (events/s, median of $runs):"
    echo "  no Redis:   $pub_standalone"
    echo "  with Redis: $pub_redis1"
    ratio=$(awk -v a="$pub_redis1" -v b="$pub_standalone" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
    echo "  target: with Redis >= 1/4 of standalone: ${ratio}x, $(verdict "$ratio" 0.25)"
}

row_latency() {
    local kind run a b p50s p99s
    for kind in standalone redis1; do
        p50s="" p99s=""
        for run in $(seq 1 "$runs"); do
            read -r a b <<<"$(latency_run "$kind")"
            p50s="$p50s $a" p99s="$p99s $b"
        done
        eval "local lat50_$kind=$(echo "$p50s" | median) lat99_$kind=$(echo "$p99s" | median)"
    done
    echo "publish-to-receive latency, 200 events/s to $subs subscribers, one POST per event (us, median of $runs):"
    echo "  no Redis:   p50 $lat50_standalone p99 $lat99_standalone"
    echo "  with Redis: p50 $lat50_redis1 p99 $lat99_redis1"
    echo "  the Redis hop adds: p50 $(awk -v a="$lat50_redis1" -v b="$lat50_standalone" 'BEGIN { printf "%.0f", a - b }')" \
        "p99 $(awk -v a="$lat99_redis1" -v b="$lat99_standalone" 'BEGIN { printf "%.0f", a - b }')"
}

row_idle() {
    local held tcp fds shards=$(((idle_want + lg_conns - 1) / lg_conns))
    read -r held tcp fds <<<"$(idle_run "$idle_want" 3)"
    echo "idle subscribers, 3 --reuse-port processes (ulimit -n $node_fds each), $shards load generators" \
        "over 127.0.0.2-127.0.0.$((1 + 2 * shards)):"
    echo "  held $held of $idle_want; descriptors per process: $fds; kernel TCP memory $tcp MiB"
    echo "  target: >= 50000: $(verdict "$held" 50000)"
}

# The record attempt: as many idle subscribers as BENCH_RECORD_PROCS
# processes hold, each under the same descriptor limit.
row_record() {
    local procs=${BENCH_RECORD_PROCS:-16} held tcp fds want
    want=${BENCH_RECORD_WANT:-$((procs * (node_fds - 1000)))}
    read -r held tcp fds <<<"$(idle_run "$want" "$procs")"
    echo "record attempt: $procs --reuse-port processes: held $held of $want; kernel TCP memory $tcp MiB"
    echo "  descriptors per process: $fds"
}

[ "${BENCH_RECORD:-0}" = 1 ] && rows="$rows record"
started=$(date +%s)
out="$work/report"
{
    echo "## Cluster (--redis) benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, redis $(redis-server --version | grep -oE 'v=[0-9.]+' | cut -d= -f2)"
    for row in $rows; do
        echo
        "row_$row"
    done
    echo
    echo "took $(($(date +%s) - started)) s"
} >"$out"
cat "$out"
mkdir -p "$bench/results"
saved="$bench/results/cluster-$(date -u +%Y-%m-%d-%H%M).md"
cp "$out" "$saved" && echo "saved: ${saved#"$top"/}"
