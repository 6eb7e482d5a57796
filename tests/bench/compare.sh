#!/usr/bin/env bash
# The server comparison: ssed next to nginx+nchan (one worker, one per core),
# a Node.js/Express server and the "limit" program, driven by the same load
# generator on the same machine in the same run. Prints Markdown tables and
# saves them under tests/bench/results/. Asserts nothing.
#
# Like with like: the headline scenarios feed every server the same way, one
# HTTP POST per event with one request in flight (what an application that
# awaits each answer does). ssed's batched inputs (FIFO, a POST of many
# lines, ssepub) are measured apart, next to the limit program, which reads a
# FIFO and writes many events to a socket at once.
#
# Usage: compare.sh BUILD_DIR
# Environment:
#   BENCH_RUNS=3          runs of each scenario; the tables show medians
#   BENCH_QUICK=1         short durations and small counts (a smoke run)
#   BENCH_SERVERS="ssed nchan-1w nchan-Nw node limit"
#   BENCH_SCENARIOS="idle post1 rate batched scaling publish parser"
#   BENCH_SECONDS=5 (post1, rate, batched)  BENCH_SCALING_SECONDS=3
#   BENCH_IDLE_COUNTS="10000 50000"  BENCH_SCALING_SUBS="10 100 1000 10000"
#   BENCH_SCALING_SIZES="64 1024 16384"  BENCH_SUBSCRIBERS=1000 BENCH_RATE=1000
#   BENCH_EVENT_SIZE=100 BENCH_WINDOW=32 BENCH_POST_BATCH=32
#   BENCH_PUBLISH_EVENTS=200000 BENCH_CURL_EVENTS=500 BENCH_PARSER_MB=200
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bench="$top/tests/bench"
build="$top/${1:-build}"
quick=${BENCH_QUICK:-0}
runs=${BENCH_RUNS:-3}
servers=${BENCH_SERVERS:-ssed nchan-1w nchan-Nw node limit}
scenarios=${BENCH_SCENARIOS:-idle post1 rate batched scaling publish parser}
if [ "$quick" = 1 ]; then q_s=2 q_scale=1 q_idle="2000 5000" q_pub=20000 q_curl=100 q_mb=50; else
    q_s=5 q_scale=3 q_idle="10000 50000" q_pub=200000 q_curl=500 q_mb=200; fi
seconds=${BENCH_SECONDS:-$q_s}
scaling_s=${BENCH_SCALING_SECONDS:-$q_scale}
idle_counts=${BENCH_IDLE_COUNTS:-$q_idle}
scaling_subs=${BENCH_SCALING_SUBS:-10 100 1000 10000}
scaling_sizes=${BENCH_SCALING_SIZES:-64 1024 16384}
subs=${BENCH_SUBSCRIBERS:-1000}
rate=${BENCH_RATE:-1000}
size=${BENCH_EVENT_SIZE:-100}
window=${BENCH_WINDOW:-32}
post_batch=${BENCH_POST_BATCH:-32}
publish_events=${BENCH_PUBLISH_EVENTS:-$q_pub}
curl_events=${BENCH_CURL_EVENTS:-$q_curl}
parser_mb=${BENCH_PARSER_MB:-$q_mb}
cores=$(nproc)
shard=15000 # connections per load generator process (each stays under ulimit -n)

work=$(mktemp -d /tmp/ssetools-bench.XXXXXX)
results="$work/results.tsv"
: >"$results"
pids=()
. "$bench/bench_lib.sh"
on_exit_stop_all

note() { echo "bench: $*" >&2; }

# record SCENARIO SERVER RUN KEY=VALUE...
record() {
    local scenario=$1 server=$2 run=$3
    shift 3
    printf '%s\t%s\t%s\t%s\n' "$scenario" "$server" "$run" "$*" >>"$results"
}

# --- set-up ---------------------------------------------------------------

# Tens of thousands of sockets: as many descriptors as the hard limit allows
# (raising the hard limit needs CAP_SYS_RESOURCE, which a container may lack).
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)
[ "$nofile" -ge 65536 ] || note "ulimit -n is $nofile: each server holds at most about that many subscribers"

cc=${CC:-cc}
"$cc" -O2 -g -std=c11 -Wall -Wextra -D_GNU_SOURCE -pthread -o "$build/loadgen" "$bench/loadgen.c" || exit 1
"$cc" -O2 -g -std=c11 -Wall -Wextra -D_GNU_SOURCE -o "$build/limit_server" "$bench/limit_server.c" || exit 1

if ! have_nchan && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    note "installing nginx and libnginx-mod-nchan"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx libnginx-mod-nchan \
            >/dev/null || note "apt-get install nginx libnginx-mod-nchan failed"
    # The package may start a system nginx on port 80; the benchmark needs none.
    [ -f /run/nginx.pid ] && nginx -s quit 2>/dev/null || true
fi
have_nchan || note "nginx with nchan is missing: its rows are skipped"

if command -v node >/dev/null 2>&1 && [ ! -d "$bench/node_modules/express" ]; then
    note "installing express into tests/bench/node_modules (npm ci)"
    (cd "$bench" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || note "npm ci failed"
fi
have_node() { command -v node >/dev/null 2>&1 && [ -d "$bench/node_modules/express" ]; }
have_node || note "node or express is missing: its rows are skipped"

# --- servers --------------------------------------------------------------
# start_server NAME: starts it and sets SRV_PID, SRV_PORT, SRV_PATH (where
# subscribers GET), SRV_POST (where one event is POSTed; empty if the server
# has no such path), SRV_FIFO (its input FIFO; empty if none) and SRV_CPU
# (the PIDs whose CPU time is the server's). Returns 1 if skipped.
start_server() {
    local name=$1 err="$work/$1.err"
    : >"$err"
    SRV_POST="" SRV_FIFO=""
    case $name in
    ssed)
        rm -f "$work/ssed.fifo"
        "$build/ssed" -l 127.0.0.1:0 --no-stdin --fifo "$work/ssed.fifo" 2>"$err" &
        SRV_PID=$!
        wait_for_line "$err" 'serving http' 10 || { note "ssed did not start: $(cat "$err")"; return 1; }
        SRV_PATH=/ SRV_POST=/ SRV_FIFO="$work/ssed.fifo"
        ;;
    limit)
        rm -f "$work/limit.fifo"
        "$build/limit_server" "$work/limit.fifo" 2>"$err" &
        SRV_PID=$!
        wait_for_line "$err" 'serving http' 10 || { note "limit_server did not start"; return 1; }
        SRV_PATH=/ SRV_FIFO="$work/limit.fifo"
        ;;
    nchan-1w | nchan-Nw)
        have_nchan || return 1
        local dir="$work/$name" workers=1 port
        [ "$name" = nchan-Nw ] && workers=$cores
        port=$(free_port)
        start_nchan "$dir" "$port" "$workers" $((nofile - 100)) || note "$name: nginx is slow to start: $(cat "$dir/stderr")"
        SRV_PID=$NCHAN_PID
        echo "nchan: serving http://127.0.0.1:$port/" >>"$err"
        SRV_PATH=/sub SRV_POST=/pub
        ;;
    node)
        have_node || return 1
        node "$bench/node_server.js" 0 2>"$err" &
        SRV_PID=$!
        wait_for_line "$err" 'serving http' 20 || { note "node did not start: $(cat "$err")"; return 1; }
        SRV_PATH=/sub SRV_POST=/pub
        ;;
    *) return 1 ;;
    esac
    pids+=("$SRV_PID")
    SRV_PORT=$(grep -oE '127\.0\.0\.1:[0-9]+' "$err" | head -1 | cut -d: -f2)
    SRV_CPU=$(echo "$SRV_PID" $(pgrep -P "$SRV_PID" 2>/dev/null) | tr ' ' ,)
    sleep 0.2
}

# untrack PID: forget a stopped process, so cleanup never signals a reused PID.
untrack() {
    local keep=() p
    for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    pids=("${keep[@]}")
}
stop_server() {
    stop_pid "$SRV_PID"
    untrack "$SRV_PID"
}

# pss_kb PID: proportional set size of PID and its children (nginx workers),
# so memory shared between processes is counted once.
pss_kb() {
    local total=0 p kb
    for p in "$1" $(pgrep -P "$1" 2>/dev/null); do
        kb=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
        total=$((total + ${kb:-0}))
    done
    echo "$total"
}

# --- scenarios ------------------------------------------------------------

# (1) idle capacity: N subscribers held open; PSS growth per subscriber.
scenario_idle() {
    local server=$1 run=$2 n want shards i per out
    for want in $idle_counts; do
        start_server "$server" || return 0
        sleep 0.3
        local base held=0 failed=0 mem lg=()
        base=$(pss_kb "$SRV_PID")
        shards=$(((want + shard - 1) / shard))
        for i in $(seq 0 $((shards - 1))); do
            per=$((want / shards + (i < want % shards ? 1 : 0)))
            "$build/loadgen" --port "$SRV_PORT" --path "$SRV_PATH" --mode idle --conns "$per" \
                --sources "$((2 + 4 * i)):4" --hold 3 --connect-timeout 20 >"$work/idle.$i" 2>&1 &
            lg+=($!)
            pids+=($!)
        done
        for i in $(seq 0 $((shards - 1))); do
            wait_for_line "$work/idle.$i" '^ready' 40 || note "$server: load generator $i never ready"
        done
        sleep 1
        mem=$(pss_kb "$SRV_PID")
        for i in "${lg[@]}"; do
            wait "$i"
            untrack "$i"
        done
        for i in $(seq 0 $((shards - 1))); do
            out=$(grep '^held=' "$work/idle.$i")
            held=$((held + $(field held "$out")))
            failed=$((failed + $(field failed "$out")))
        done
        stop_server
        record "idle-$want" "$server" "$run" "held=$held" "failed=$failed" \
            "kib_per_sub=$(awk -v a="$base" -v b="$mem" -v h="$held" 'BEGIN { printf "%.2f", h ? (b - a) / h : 0 }')"
        note "idle $want $server run $run: held $held, PSS $base -> $mem KiB"
    done
}

# ssed_stats: writes per delivery and slow subscribers dropped, from ssed's
# stats (since it started), as key=value words.
ssed_stats() {
    curl -s -m 2 "http://127.0.0.1:$SRV_PORT/_ssed/stats" |
        grep -oE '"(writes_per_delivery|slow_subscriber_drops)":[0-9.]+' | tr -d '"' | tr : = | tr '\n' ' '
}

# measure SCENARIO ROW RUN CONNS LOADGEN-ARGS...: one load generator run
# against the started server (its CPU measured), recorded as ROW.
measure() {
    local scenario=$1 row=$2 run=$3 conns=$4 out extra=""
    shift 4
    out=$("$build/loadgen" --port "$SRV_PORT" --path "$SRV_PATH" --conns "$conns" --warmup 1 --sources 2:8 \
        --server-pid "$SRV_CPU" "$@" 2>&1 | grep '^held=')
    [ "$SRV_PATH" = / ] && [ -n "$SRV_POST" ] && extra=$(ssed_stats)
    [ -n "$out" ] || note "$scenario $row run $run: the load generator printed no result"
    record "$scenario" "$row" "$run" "$out" $extra
    note "$scenario $row run $run: $out $extra"
}

# post1 (the headline): 1,000 subscribers, one POST per event, one request in
# flight, as fast as the subscribers keep up. Every server with a POST path.
scenario_post1() {
    local server=$1 run=$2
    start_server "$server" || return 0
    [ -n "$SRV_POST" ] && measure post1 "$server" "$run" "$subs" --size "$size" --mode fanout --window "$window" \
        --duration "$seconds" --pub-post "$SRV_POST" --pub-inflight 1
    stop_server
}

# rate: BENCH_RATE events/s to 1,000 subscribers, one POST per event, one in
# flight (events the server has not answered for wait); and ssed fed the same
# rate through its FIFO, the same input path as stdin.
scenario_rate() {
    local server=$1 run=$2
    start_server "$server" || return 0
    [ -n "$SRV_POST" ] && measure rate "$server" "$run" "$subs" --size "$size" --mode rate --rate "$rate" \
        --duration "$seconds" --pub-post "$SRV_POST" --pub-inflight 1
    stop_server
    # A fresh ssed, so its writes per delivery are this input's alone.
    [ "$server" = ssed ] || return 0
    start_server ssed || return 0
    measure rate ssed-fifo "$run" "$subs" --size "$size" --mode rate --rate "$rate" --duration "$seconds" \
        --pub-fifo "$SRV_FIFO"
    stop_server
}

# batched: as fast as delivered (a window of events per subscriber) through
# the inputs that carry many events at once: ssed's FIFO, a POST of many
# lines, ssepub reading lines from a pipe; and the limit program's FIFO.
scenario_batched() {
    local server=$1 run=$2 fan=(--size "$size" --mode fanout --window "$window" --duration "$seconds")
    case $server in ssed | limit) ;; *) return 0 ;; esac
    start_server "$server" || return 0
    measure batched "$server-fifo" "$run" "$subs" "${fan[@]}" --pub-fifo "$SRV_FIFO"
    stop_server
    [ "$server" = ssed ] || return 0
    start_server ssed || return 0
    measure batched ssed-post "$run" "$subs" "${fan[@]}" --pub-post / --pub-batch "$post_batch" --pub-inflight 0
    stop_server
    if [ -x "$build/ssepub" ]; then
        start_server ssed || return 0
        local fifo="$work/ssepub.fifo" sp
        rm -f "$fifo" && mkfifo "$fifo"
        "$build/ssepub" -q --url "http://127.0.0.1:$SRV_PORT/" <"$fifo" &
        sp=$!
        pids+=("$sp")
        measure batched ssed-ssepub "$run" "$subs" "${fan[@]}" --pub-fifo "$fifo"
        stop_pid "$sp"
        untrack "$sp"
        stop_server
    fi
}

# scaling: ssed alone, subscribers x event size, one POST per event, one in
# flight, as fast as delivered: CPU per delivery and p99.
scenario_scaling() {
    local run=$1 n z
    for n in $scaling_subs; do
        for z in $scaling_sizes; do
            start_server ssed || return 0
            measure "scale-$n-$z" ssed "$run" "$n" --size "$z" --mode fanout --window "$window" \
                --duration "$scaling_s" --pub-post / --pub-inflight 1 --connect-timeout 30
            stop_server
        done
    done
}

# (4) publish throughput: ssepub lines/s into ssed, next to one curl per event.
scenario_publish() {
    local run=$1 err="$work/pub.err" url start end sub
    if [ ! -x "$build/ssepub" ]; then
        [ "$run" = 1 ] && note "publish: skipped: ssepub not built"
        return 0
    fi
    : >"$err"
    "$build/ssed" -l 127.0.0.1:0 --no-stdin 2>"$err" &
    SRV_PID=$!
    pids+=("$SRV_PID")
    wait_for_line "$err" 'serving http' 10 || { note "ssed did not start"; return 0; }
    url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+/' "$err" | head -1)
    curl -sN --max-time 600 -H 'Accept: text/event-stream' "$url" >/dev/null &
    sub=$!
    pids+=("$sub")
    sleep 0.3
    start=$(date +%s%N)
    seq "$publish_events" | "$build/ssepub" -q --url "$url" || note "ssepub failed"
    end=$(date +%s%N)
    record publish ssepub "$run" "rate=$(awk -v n="$publish_events" -v ns=$((end - start)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')"
    start=$(date +%s%N)
    for i in $(seq "$curl_events"); do curl -s -o /dev/null -d "$i" "$url"; done
    end=$(date +%s%N)
    record publish curl "$run" "rate=$(awk -v n="$curl_events" -v ns=$((end - start)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')"
    stop_pid "$sub"
    untrack "$sub"
    stop_server
}

# (5) parser throughput: ssecat - -o data next to cat of the same bytes.
scenario_parser() {
    local run=$1 file="$work/stream.sse" start end bytes
    if [ ! -x "$build/ssecat" ]; then
        [ "$run" = 1 ] && note "parser: skipped: ssecat not built"
        return 0
    fi
    [ -f "$file" ] || python3 "$top/tests/bench/make_stream.py" "$file" "$parser_mb"
    # Both tools read from the page cache: a first, untimed read warms it,
    # or whichever runs first pays for the freshly written file alone.
    cat "$file" >/dev/null
    bytes=$(stat -c %s "$file")
    local tool
    for tool in cat ssecat; do
        start=$(date +%s%N)
        if [ "$tool" = cat ]; then cat <"$file" >/dev/null; else "$build/ssecat" - -o data <"$file" >/dev/null; fi
        end=$(date +%s%N)
        record parser "$tool" "$run" "mb_s=$(awk -v b="$bytes" -v ns=$((end - start)) 'BEGIN { printf "%.0f", b / 1e6 / (ns / 1e9) }')"
    done
}

# --- run ------------------------------------------------------------------
started=$(date +%s)
for run in $(seq 1 "$runs"); do
    for scenario in $scenarios; do
        case $scenario in
        idle | post1 | rate | batched)
            for server in $servers; do "scenario_$scenario" "$server" "$run"; done
            ;;
        scaling) scenario_scaling "$run" ;;
        publish) scenario_publish "$run" ;;
        parser) scenario_parser "$run" ;;
        esac
    done
done

# --- report ---------------------------------------------------------------
nchan_version=$(dpkg-query -W -f='${Version}' libnginx-mod-nchan 2>/dev/null || echo none)
nginx_version=$(nginx -v 2>&1 | sed 's|.*nginx/||' || echo none)
express_version=$(node -p "require('$bench/node_modules/express/package.json').version" 2>/dev/null || echo none)
machine="$(date -u '+%Y-%m-%d %H:%M UTC'); $(uname -sr); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 |
    sed 's/^ *//'), $cores cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); ulimit -n $nofile"
versions="ssed $(git -C "$top" rev-parse --short HEAD 2>/dev/null), nginx $nginx_version + nchan $nchan_version, node $(node --version 2>/dev/null || echo none) + express $express_version"
mkdir -p "$bench/results"
out="$bench/results/$(date -u +%Y-%m-%d-%H%M).md"
python3 "$bench/report.py" "$results" "$machine" "$versions" "$runs" \
    "subscribers=$subs rate=$rate size=$size window=$window post_batch=$post_batch seconds=$seconds scaling_s=$scaling_s" \
    "$(($(date +%s) - started))" >"$out" ||
    exit 1
cat "$out"
echo
echo "saved: ${out#"$top"/} (took $(($(date +%s) - started)) s)"
