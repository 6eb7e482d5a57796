#!/usr/bin/env bats
# ssed --redis: nodes share channels, ids and history through a real
# redis-server on a free loopback port (no persistence, a temp dir).

load lib/helpers

setup() {
    command -v redis-server >/dev/null || skip "redis-server is not installed"
    RT="$BATS_TEST_TMPDIR"
    start_redis
}

teardown() {
    # A Redis left stopped by a test would take stop_pid's whole grace period.
    [ -z "${REDIS_PID:-}" ] || kill -CONT "$REDIS_PID" 2>/dev/null || true
    stop_all
}

CHECK="python3 $BATS_TEST_DIRNAME/lib/cluster_check.py"

# start_redis: on REDIS_PORT (a free one the first time), data in $RT
# (no persistence unless REDIS_AOF=1).
start_redis() {
    : "${REDIS_PORT:=$(free_port)}"
    # REDIS_AOF=1: every write in the append-only file, fsynced before Redis answers.
    if [ "${REDIS_AOF:-0}" = 1 ]; then
        set -- --appendonly yes --appendfsync always
    else
        set -- --appendonly no
    fi
    start_bg "$RT/redis.out" "$RT/redis.err" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
        "$@" --dir "$RT"
    REDIS_PID=$BG_PID
    local i
    for i in $(seq 1 $((100 * SSETOOLS_WAIT_SCALE))); do
        redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.05
    done
    echo "redis-server did not start" >&2
    return 1
}

# start_node NAME [OPTIONS...]: an ssed node with --redis (NODE_REDIS_URL,
# or the test's Redis), stdin from the FIFO $RT/NAME.in (held open on a
# descriptor of its own); sets NAME_URL. NODE_NO_WAIT=1: do not wait for
# the cluster to be ready, only for the listener.
start_node() {
    local name=$1
    shift
    mkfifo "$RT/$name.in"
    # The writer first (in the background), so opening the reader returns.
    sleep 3600 >"$RT/$name.in" 3>&- 8>&- 9>&- &
    echo $! >>"$BATS_TEST_TMPDIR/pids"
    "$SSED" -l 127.0.0.1:0 -c news --redis "${NODE_REDIS_URL:-redis://127.0.0.1:$REDIS_PORT}" "$@" <"$RT/$name.in" \
        >"$RT/$name.out" 2>"$RT/$name.err" 3>&- 8>&- 9>&- &
    eval "${name}_PID=$!"
    echo $! >>"$BATS_TEST_TMPDIR/pids"
    if [ "${NODE_NO_WAIT:-0}" = 1 ]; then
        wait_for_line "$RT/$name.err" 'serving http://127\.0\.0\.1:[0-9]+' 10
    else
        wait_for_line "$RT/$name.err" 'cluster [^ ]+ ready' 10
    fi
    eval "${name}_URL=http://127.0.0.1:$(grep -oE 'serving http://127\.0\.0\.1:[0-9]+' "$RT/$name.err" | head -1 | sed 's/.*://')"
}

# sub FILE URL [CURL OPTIONS...]: a subscriber saving the raw stream.
sub() {
    local file=$1 url=$2
    shift 2
    curl -sN --max-time 600 "$@" "$url/news" >"$RT/$file" 2>/dev/null 3>&- 8>&- 9>&- &
    SUB_PID=$!
    echo $SUB_PID >>"$BATS_TEST_TMPDIR/pids"
    wait_for_line "$RT/$file" '^: ssed stream' 10
}

# post_code URL DATA [CURL OPTIONS...]: the status of a POST of DATA.
post_code() {
    local url=$1 data=$2
    shift 2
    curl -s -o /dev/null -w '%{http_code}' --max-time 30 -XPOST --data-binary "$data" "$@" "$url" 3>&- 8>&- 9>&-
}

# eventually SECONDS CMD...: run CMD every 0.1 s until it succeeds, at most
# SECONDS (scaled by SSETOOLS_WAIT_SCALE).
eventually() {
    local limit=$(($1 * 10 * SSETOOLS_WAIT_SCALE)) i
    shift
    for i in $(seq 1 "$limit"); do
        "$@" && return 0
        sleep 0.1
    done
    echo "not within the limit: $*" >&2
    return 1
}

code_is() { [ "$(post_code "$2" "$3")" = "$1" ]; }

# stat_above NODE_URL KEY N: the member is above N now.
stat_above() { [ "$(stat "$1" "$2")" -gt "$3" ]; }

# stat NODE_URL KEY: a member of the node's redis stats.
stat() {
    curl -s --max-time 10 "$1/_ssed/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["redis"][sys.argv[1]])' "$2"
}

# sub_until_open FILE URL [CURL OPTIONS...]: subscribe again while the
# node answers 503 (still reading history), then as `sub`.
sub_until_open() {
    local file=$1 url=$2 i
    shift 2
    for i in $(seq 1 $((100 * SSETOOLS_WAIT_SCALE))); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url/_ssed/stats")" = 200 ] || return 1
        sub "$file" "$url" "$@" 2>/dev/null && return 0
        kill "$SUB_PID" 2>/dev/null || true
        sleep 0.1
    done
    return 1
}

@test "cluster: after SCRIPT FLUSH, POSTs and stdin lines are still published" {
    start_node A
    sub a1 "$A_URL"
    redis-cli -p "$REDIS_PORT" script flush >/dev/null
    [ "$(post_code "$A_URL/news" one)" = 200 ]
    echo two >"$RT/A.in"
    redis-cli -p "$REDIS_PORT" script flush >/dev/null
    echo three >"$RT/A.in"
    wait_for_data "$RT/a1" 3 10
    printf '%s\n' one two three >"$RT/want"
    run $CHECK same "$RT/want" "$RT/a1"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "cluster: an error answer (OOM) fails the POST with 503; stdin is retried once Redis takes writes again" {
    start_node A
    sub a1 "$A_URL"
    redis-cli -p "$REDIS_PORT" config set maxmemory 1 >/dev/null
    [ "$(post_code "$A_URL/news" refused)" = 503 ]
    echo later >"$RT/A.in"
    wait_for_line "$RT/A.err" 'OOM' 10
    redis-cli -p "$REDIS_PORT" config set maxmemory 0 >/dev/null
    wait_for_line "$RT/a1" '^data: later$' 10
    [ "$(post_code "$A_URL/news" after)" = 200 ]
    wait_for_line "$RT/a1" '^data: after$' 10
    ! grep -q '^data: refused$' "$RT/a1"
}

@test "cluster: --redis with --store, a bad URL, or --redis-prefix alone are usage errors" {
    run "$SSED" --redis redis://127.0.0.1:1 --store "$RT/s.db"
    [ "$status" -eq 2 ]
    [[ "$output" == *"--store: cannot be used with --redis"* ]]
    run "$SSED" --redis 'redis://:topsecret@h:99999'
    [ "$status" -eq 2 ]
    [[ "$output" == *"--redis"* ]]
    [[ "$output" != *topsecret* ]]
    run "$SSED" --redis-prefix x
    [ "$status" -eq 2 ]
    run "$SSED" --redis redis://127.0.0.1:1 --redis-prefix 'a*'
    [ "$status" -eq 2 ]
}

@test "cluster: large batches (calls pipelined, one message per call) from ssepub and stdin arrive once, in order, on every node" {
    start_node A
    start_node B
    sub a1 "$A_URL"; sub b1 "$B_URL"
    { seq -f 'pub-%.0f' 1 20000; seq -f 'in-%.0f' 1 20000; } >"$RT/want"
    seq -f 'in-%.0f' 1 20000 >"$RT/B.in" 3>&- &
    seq -f 'pub-%.0f' 1 20000 | "$SSEPUB" -q --url "$A_URL/news"
    for f in a1 b1; do wait_for_data "$RT/$f" 40000 60; done
    run $CHECK same "$RT/want" "$RT/a1" "$RT/b1"
    echo "$output"
    [ "$status" -eq 0 ]
    for source in pub in; do # each publisher's events in its order
        $CHECK events "$RT/b1" | cut -d' ' -f2 | grep "^$source-" | cut -d- -f2 | sort -n -c
    done
    # One entry per script call, trimmed by events: the entries hold at
    # least --history (1000) events and fewer than that plus one call's
    # (calls hold up to 1,000), and the count the script keeps agrees.
    held=$(redis-cli -p "$REDIS_PORT" eval "local n = 0
        for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
            n = n + tonumber(string.match(e[2][2], '^#%d+ %d+ (%d+)'))
        end
        return n" 1 ssed:s:news)
    echo "events held in the stream: $held"
    [ "$held" -ge 1000 ] && [ "$held" -lt 2000 ]
    [ "$(redis-cli -p "$REDIS_PORT" hget ssed:kept news)" -eq "$held" ]
}

@test "cluster: three nodes, publishing on each at once: every subscriber gets every event once, same order and ids" {
    start_node A
    start_node B
    start_node C
    sub a1 "$A_URL"; sub b1 "$B_URL"; sub c1 "$C_URL"
    : >"$RT/want"
    for i in $(seq 1 200); do echo "post-$i"; done >>"$RT/want"
    for i in $(seq 1 200); do echo "stdin-$i"; done >>"$RT/want"
    for i in $(seq 1 200); do echo "pub-$i"; done >>"$RT/want"
    (for i in $(seq 1 200); do curl -s -XPOST --data-binary "post-$i" "$A_URL/news" >/dev/null; done) &
    P1=$!
    (for i in $(seq 1 200); do echo "stdin-$i"; done) >"$RT/B.in" 3>&- &
    (for i in $(seq 1 200); do echo "pub-$i"; done) | "$SSEPUB" -q --url "$C_URL/news" &
    P3=$!
    wait $P1 $P3
    for f in a1 b1 c1; do wait_for_data "$RT/$f" 600 30; done
    run $CHECK same "$RT/want" "$RT/a1" "$RT/b1" "$RT/c1"
    echo "$output"
    [ "$status" -eq 0 ]

    # Read up to the 250th event on A; resume on C after it: exactly the rest.
    last=$($CHECK events "$RT/a1" | sed -n 250p | cut -d' ' -f1)
    $CHECK events "$RT/a1" | tail -n +251 | cut -d' ' -f2- >"$RT/rest"
    sub c2 "$C_URL" -H "Last-Event-ID: $last"
    wait_for_data "$RT/c2" "$(wc -l <"$RT/rest")" 30
    run $CHECK same "$RT/rest" "$RT/c2"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(curl -s "$B_URL/_ssed/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["redis"]["connected"])')" = True ]
}

@test "cluster: a node killed mid-stream: its subscriber resumes on another node and loses nothing" {
    start_node A
    start_node B
    sub b1 "$B_URL"
    seq 1 300 | sed 's/^/ev-/' >"$RT/want"
    (for i in $(seq 1 300); do curl -s -XPOST --data-binary "ev-$i" "$A_URL/news" >/dev/null; done) &
    P=$!
    wait_for_data "$RT/b1" 100 30
    kill -KILL "$B_PID"
    last=$(grep '^id:' "$RT/b1" | tail -1 | sed 's/^id: //')
    # An event cut off mid-write is not in the first file: resumed after the last whole one.
    python3 - "$RT/b1" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
open(sys.argv[1], "wb").write(data[: data.rfind(b"\n\n") + 2])
PY
    last=$($CHECK events "$RT/b1" | tail -1 | cut -d' ' -f1)
    sub b2 "$A_URL" -H "Last-Event-ID: $last"
    wait $P
    wait_for_line "$RT/b2" '^data: ev-300$' 30
    run $CHECK union "$RT/want" "$RT/b1" "$RT/b2"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "cluster: Redis stopped for 2 s mid-stream: ssepub's events arrive exactly once, no duplicates" {
    start_node A
    start_node B
    sub a1 "$A_URL"; sub b1 "$B_URL"
    seq 1 400 | sed 's/^/r-/' >"$RT/want"
    (for i in $(seq 1 400); do echo "r-$i"; sleep 0.01; done) | "$SSEPUB" -q --retry-for 60s --url "$B_URL/news" &
    P=$!
    wait_for_data "$RT/a1" 100 30
    # Stopped with its data saved (SHUTDOWN SAVE), started again on the same port and directory.
    redis-cli -p "$REDIS_PORT" shutdown save >/dev/null 2>&1 || true
    wait_for_exit "$REDIS_PID" 10
    wait_for_line "$RT/A.err" 'redis 127\.0\.0\.1:[0-9]+: connection lost' 10
    sleep 2 # the outage itself: what is tested is the behaviour across it
    code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST --data-binary x "$A_URL/other")
    [ "$code" = 503 ]
    start_redis
    wait $P
    for f in a1 b1; do wait_for_data "$RT/$f" 400 30; done
    run $CHECK same "$RT/want" "$RT/a1" "$RT/b1"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "cluster: pub/sub connections killed while events flow: holes are filled from the stream" {
    start_node A
    start_node B
    sub b1 "$B_URL"
    seq 1 600 | sed 's/^/k-/' >"$RT/want"
    (for i in $(seq 1 600); do echo "k-$i"; done | while read -r l; do echo "$l"; done) >"$RT/A.in" &
    (for i in $(seq 1 20); do redis-cli -p "$REDIS_PORT" client kill type pubsub >/dev/null; sleep 0.02; done) &
    K=$!
    wait $K
    wait_for_data "$RT/b1" 600 30
    run $CHECK same "$RT/want" "$RT/b1"
    echo "$output"
    [ "$status" -eq 0 ]
    reads=$(curl -s "$B_URL/_ssed/stats" | python3 -c 'import json,sys; r=json.load(sys.stdin)["redis"]; print(r["connects"])')
    [ "$reads" -gt 1 ]
}

@test "cluster: three processes with --reuse-port on one port share 300 subscribers, and each gets every event" {
    PORT=$(free_port)
    # A private second listener per process, so each one's own stats can be read.
    for n in 1 2 3; do
        start_bg "$RT/r$n.out" "$RT/r$n.err" "$SSED" --no-stdin -l "127.0.0.1:$PORT" -l 127.0.0.1:0 --reuse-port \
            --redis "redis://127.0.0.1:$REDIS_PORT"
        wait_for_line "$RT/r$n.err" 'cluster ssed ready' 10
        eval "own$n=http://127.0.0.1:$(grep -oE 'serving http://127\.0\.0\.1:[0-9]+' "$RT/r$n.err" |
            sed 's/.*://' | grep -vx "$PORT" | head -1)"
    done
    start_bg "$RT/watch" "$RT/watch.err" python3 "$BATS_TEST_DIRNAME/lib/sse_load.py" watch --port "$PORT" \
        --path /news --subs 300 --events 50 --timeout $((60 * SSETOOLS_WAIT_SCALE))
    W=$BG_PID
    wait_for_line "$RT/watch" '^subscribed 300' 30
    subscribers_sum() {
        [ "$(($(URL=$own1 stat_of subscribers) + $(URL=$own2 stat_of subscribers) + $(URL=$own3 stat_of subscribers)))" = 300 ]
    }
    eventually 20 subscribers_sum
    for n in 1 2 3; do
        eval "URL=\$own$n"
        count=$(stat_of subscribers)
        echo "process $n: $count subscribers"
        [ "$count" -gt 0 ]
    done
    python3 "$BATS_TEST_DIRNAME/lib/sse_load.py" feed --rate 100000 --count 50 >"$RT/events"
    [ "$(post_code "http://127.0.0.1:$PORT/news" @"$RT/events")" = 200 ]
    wait_for_exit "$W" 60
    cat "$RT/watch"
    grep -q '"complete": 300, "in_order": 300' "$RT/watch"
}

# lose_data_test HOW: two nodes with a subscriber each; Redis loses its
# data (HOW: flushall; restart: killed and started afresh, nothing saved;
# snapshot: restarted from a snapshot taken after e-3) between e-5 and e-6. Nothing is told as a gap, nothing repeats,
# ids go on increasing, each node logs the loss once with what it wrote
# back, and a node started afterwards resumes from before the loss with
# every event, ids as they were.
lose_data_test() {
    start_node A
    start_node B
    sub a "$A_URL"
    sub b "$B_URL"
    for i in 1 2 3; do [ "$(post_code "$A_URL/news" "e-$i")" = 200 ]; done
    # snapshot: Redis saves e-1 to e-3, and loads only that when restarted.
    [ "$1" != snapshot ] || redis-cli -p "$REDIS_PORT" save >/dev/null
    for i in 4 5; do [ "$(post_code "$A_URL/news" "e-$i")" = 200 ]; done
    for f in a b; do wait_for_data "$RT/$f" 5 10; done
    if [ "$1" = flushall ]; then
        redis-cli -p "$REDIS_PORT" flushall >/dev/null
    elif [ "$1" = snapshot ]; then
        kill -KILL "$REDIS_PID"
        wait_for_exit "$REDIS_PID" 10
        start_redis
        # The counter behind what the nodes delivered: taken for a loss
        # before anything is published on it.
        for n in A B; do wait_for_line "$RT/$n.err" 'Redis lost its data' 20; done
    else
        kill -KILL "$REDIS_PID"
        wait_for_exit "$REDIS_PID" 10
        start_redis
    fi
    # One POST per event, each retried while the node answers 503 (its
    # link coming back): a 503 published nothing.
    for i in 6 7 8; do eventually 20 code_is 200 "$B_URL/news" "e-$i"; done
    for i in 9 10; do eventually 20 code_is 200 "$A_URL/news" "e-$i"; done
    for f in a b; do wait_for_data "$RT/$f" 10 20; done
    seq 1 10 | sed 's/^/e-/' >"$RT/want"
    run $CHECK same "$RT/want" "$RT/a" "$RT/b"
    echo "$output"
    [ "$status" -eq 0 ]
    ! grep -q ssed-gap "$RT/a" "$RT/b"
    for n in A B; do
        wait_for_line "$RT/$n.err" 'Redis lost its data' 10
        grep 'Redis lost its data' "$RT/$n.err"
        [ "$(grep -c 'Redis lost its data' "$RT/$n.err")" = 1 ]
        ! grep -q 'no longer in the stream' "$RT/$n.err"
    done
    # Between them, A and B wrote back once what Redis lost (the other
    # found it there): e-1 to e-5, or e-4 and e-5 after the snapshot.
    total=$(grep -ohE '[0-9]+ events? of this node.s history written back' "$RT/A.err" "$RT/B.err" |
        awk '{ n += $1 } END { print n }')
    [ "$total" = "$([ "$1" = snapshot ] && echo 2 || echo 5)" ]
    start_node C
    curl -s --max-time 2 -H "Last-Event-ID: $(id_of "$RT/a" e-1)" "$C_URL/news" >"$RT/c" 2>/dev/null || true
    $CHECK events "$RT/a" | tail -n +2 >"$RT/a.events"
    $CHECK events "$RT/c" | diff "$RT/a.events" -
}

@test "cluster: Redis emptied by FLUSHALL: live subscribers get no ssed-gap and no duplicate, ids go on, and a node started afterwards resumes from before the loss with every event" {
    lose_data_test flushall
}

@test "cluster: Redis restarted from an older snapshot (its counter behind what the nodes delivered): taken for a loss, the rest written back; no ssed-gap, no duplicate, and a node started afterwards resumes from before it" {
    lose_data_test snapshot
}

@test "cluster: Redis restarted with nothing saved: live subscribers get no ssed-gap and no duplicate, ids go on, and a node started afterwards resumes from before the loss with every event" {
    lose_data_test restart
}

@test "cluster: a stream read refused (no XRANGE permission) is retried with backoff, and recovers when allowed" {
    start_node A
    for i in 1 2 3; do [ "$(post_code "$A_URL/news" "old-$i")" = 200 ]; done
    redis-cli -p "$REDIS_PORT" acl setuser nox on '>pw' '~*' '&*' +@all -xrange -xrevrange >/dev/null
    NODE_REDIS_URL="redis://nox:pw@127.0.0.1:$REDIS_PORT" start_node B
    eventually 10 stat_above "$B_URL" stream_reads_failed 2
    # Backoff, not a busy loop: a handful of reads per second at most.
    reads=$(stat "$B_URL" stream_reads)
    [ "$reads" -lt 30 ]
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$B_URL/news")" = 503 ]
    redis-cli -p "$REDIS_PORT" acl setuser nox +xrange +xrevrange >/dev/null
    first=$(redis-cli -p "$REDIS_PORT" xrange ssed:s:news - + count 1 | head -1 | cut -d- -f1)
    sub_until_open b1 "$B_URL" -H "Last-Event-ID: $first"
    [ "$(post_code "$A_URL/news" new)" = 200 ]
    wait_for_data "$RT/b1" 3 10
    printf '%s\n' old-2 old-3 new >"$RT/want"
    run $CHECK same "$RT/want" "$RT/b1"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "cluster: a Redis that stops answering: POSTs get 503 within the 5 s limit, then publishing works again" {
    start_node A
    sub a1 "$A_URL"
    [ "$(post_code "$A_URL/news" before)" = 200 ]
    kill -STOP "$REDIS_PID"
    start=$(date +%s)
    code=$(post_code "$A_URL/news" stalled)
    took=$(($(date +%s) - start))
    kill -CONT "$REDIS_PID"
    [ "$code" = 503 ]
    [ "$took" -le $((5 + 2 * SSETOOLS_WAIT_SCALE)) ]
    eventually 20 code_is 200 "$A_URL/news" after
    wait_for_line "$RT/a1" '^data: after$' 10
    [ "$(stat "$A_URL" connects)" -gt 1 ]
}

@test "cluster: a POST of 100000 lines goes in calls of at most 1000 events, delivered exactly once" {
    start_node A
    sub a1 "$A_URL"
    seq 1 100000 | sed 's/^/big-/' >"$RT/want"
    calls=$(stat "$A_URL" publish_calls)
    curl -s -o "$RT/answer" --max-time 120 -XPOST --data-binary @"$RT/want" "$A_URL/news" &
    P=$!
    echo $P >>"$BATS_TEST_TMPDIR/pids"
    # Redis keeps answering others while the body is published.
    eventually 10 stat_above "$A_URL" publish_calls $((calls + 1))
    redis-cli -p "$REDIS_PORT" ping | grep -q PONG
    wait $P
    grep -q '"accepted":100000' "$RT/answer"
    [ "$(stat "$A_URL" publish_calls)" -ge $((calls + 100)) ]
    wait_for_data "$RT/a1" 100000 60
    run $CHECK same "$RT/want" "$RT/a1"
    echo "$output"
    [ "$status" -eq 0 ]
    # 100 entries of 1,000 events were written; --history 1000 keeps one
    # (before the trimming counted events, all 100,000 stayed).
    [ "$(redis-cli -p "$REDIS_PORT" xlen ssed:s:news)" -le 2 ]
}

@test "cluster: a node that starts while Redis is stopped: a subscriber resuming there gets no old events and no gap" {
    start_node A
    for i in 1 2 3; do [ "$(post_code "$A_URL/news" "e-$i")" = 200 ]; done
    third=$(redis-cli -p "$REDIS_PORT" xrevrange ssed:s:news + - count 1 | head -1 | cut -d- -f1)
    kill -STOP "$REDIS_PID"
    NODE_NO_WAIT=1 start_node B
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Last-Event-ID: $third" "$B_URL/news")
    kill -CONT "$REDIS_PID"
    [ "$code" = 503 ]
    sub_until_open b1 "$B_URL" -H "Last-Event-ID: $third"
    [ "$(post_code "$A_URL/news" e-4)" = 200 ]
    wait_for_line "$RT/b1" '^data: e-4$' 10
    echo e-4 >"$RT/want"
    run $CHECK same "$RT/want" "$RT/b1"
    echo "$output"
    [ "$status" -eq 0 ]
    ! grep -q 'ssed-gap' "$RT/b1"
}

# resume_summary URL LAST_EVENT_ID: "<gap>" when the node announces one,
# then the data of each event it replays, one per line.
resume_summary() {
    curl -s --max-time 2 -H "Last-Event-ID: $2" "$1/news" >"$RT/resume" 2>/dev/null || true
    $CHECK events "$RT/resume" | cut -d' ' -f2-
}

@test "cluster: one call's 100 events in one stream entry: a node started later keeps the newest --history, and resumes as a single ssed does" {
    start_node A --history 10
    seq 1 100 | sed 's/^/h-/' >"$RT/all"
    curl -s -o "$RT/answer" --max-time 30 -XPOST --data-binary @"$RT/all" "$A_URL/news"
    grep -q '"accepted":100' "$RT/answer"
    [ "$(redis-cli -p "$REDIS_PORT" xlen ssed:s:news)" = 1 ]
    newest=$(redis-cli -p "$REDIS_PORT" xrevrange ssed:s:news + - count 1 | head -1 | cut -d- -f1)
    start_node B --history 10
    # After event 90: 91..100, nothing lost. After 89: 90 is no longer kept.
    resume_summary "$B_URL" $((newest - 10)) >"$RT/b90"
    resume_summary "$B_URL" $((newest - 11)) >"$RT/b89"
    seq 91 100 | sed 's/^/h-/' | diff - "$RT/b90"
    { echo '<gap>'; seq 91 100 | sed 's/^/h-/'; } | diff - "$RT/b89"
    # A single ssed with --history 10 answers the same (its ids need not
    # follow each other: a subscriber notes them).
    start_ssed --history 10
    subscribe s /news
    curl -s -o /dev/null --max-time 30 -XPOST --data-binary @"$RT/all" "$URL/news"
    wait_for_data "$RT/s" 100 30
    resume_summary "$URL" "$($CHECK events "$RT/s" | grep ' h-90$' | cut -d' ' -f1)" | diff "$RT/b90" -
    resume_summary "$URL" "$($CHECK events "$RT/s" | grep ' h-89$' | cut -d' ' -f1)" | diff "$RT/b89" -
    exec 8>&-
}

@test "cluster: stream entries of one event each (field e, as the version before wrote them) are still read" {
    redis-cli -p "$REDIS_PORT" xadd ssed:s:news 5-0 e "$(printf '5 0 -1 0 -1\nold-5')" >/dev/null
    redis-cli -p "$REDIS_PORT" hset ssed:last news 5 >/dev/null
    redis-cli -p "$REDIS_PORT" sadd ssed:channels news >/dev/null
    redis-cli -p "$REDIS_PORT" set ssed:id 5 >/dev/null
    start_node A --replay 10
    [ "$(post_code "$A_URL/news" new)" = 200 ]
    curl -s --max-time 2 "$A_URL/news" >"$RT/a1" || true
    $CHECK events "$RT/a1" >"$RT/a1.events"
    printf '5 old-5\n6 new\n' | diff - "$RT/a1.events"
}

@test "cluster: a resend overlapping what Redis took, on another node: only the events after it are published, once" {
    start_node A
    start_node B
    sub a1 "$A_URL"
    long=$(printf 'x%.0s' $(seq 1 150)) # lengths of 1, 2 and 3 digits are skipped
    pub=(-H 'SSE-Publisher: 2b')
    [ "$(post_code "$A_URL/news" "$(printf 'one\n%s\n' "$long")" "${pub[@]}" -H 'SSE-Sequence: 1')" = 200 ]
    curl -s -o "$RT/answer" --max-time 30 -XPOST --data-binary "$(printf 'one\n%s\nthree\nfour\n' "$long")" \
        "${pub[@]}" -H 'SSE-Sequence: 1' "$B_URL/news"
    cat "$RT/answer"
    grep -q '"accepted":4' "$RT/answer"
    grep -q '"duplicates":2' "$RT/answer"
    wait_for_data "$RT/a1" 4 10
    printf 'one\n%s\nthree\nfour\n' "$long" >"$RT/want"
    run $CHECK same "$RT/want" "$RT/a1"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "cluster: SSE-Sequence of 2^53 or more is refused with 400" {
    start_node A
    [ "$(post_code "$A_URL/news" x -H 'SSE-Publisher: 1a' -H 'SSE-Sequence: 9007199254740992')" = 400 ]
    [ "$(post_code "$A_URL/news" x -H 'SSE-Publisher: 1a' -H 'SSE-Sequence: 9007199254740991')" = 200 ]
}

@test "cluster: a 100-byte prefix and a 200-byte channel name: history is read from the right stream" {
    prefix=$(printf 'p%.0s' $(seq 1 100))
    chan=$(printf 'c%.0s' $(seq 1 200))
    start_node A --redis-prefix "$prefix"
    for i in 1 2; do [ "$(post_code "$A_URL/$chan" "long-$i")" = 200 ]; done
    first=$(redis-cli -p "$REDIS_PORT" xrange "$prefix:s:$chan" - + count 1 | head -1 | cut -d- -f1)
    [ -n "$first" ]
    start_node B --redis-prefix "$prefix"
    curl -s --max-time 2 -H "Last-Event-ID: $first" "$B_URL/$chan" >"$RT/b1" || true
    grep -q '^data: long-2$' "$RT/b1"
    ! grep -q 'ssed-gap' "$RT/b1"
}

# conns_are NODE_URL N: the node counts N connections (the stats request's own among them).
conns_are() {
    [ "$(curl -s --max-time 1 "$1/_ssed/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["connections"])')" = "$2" ]
}

# post_then URL reset|close: a raw POST to /news, then a reset (SO_LINGER
# 0) or an ordinary close, without reading the answer.
post_then() {
    python3 - "${1##*:}" "$2" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"POST /news HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\nx\n")
if sys.argv[2] == "reset":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
PY
}

@test "cluster: a publisher that resets while its POST waits for Redis is let go at once" {
    start_node A
    kill -STOP "$REDIS_PID"
    post_then "$A_URL" reset
    # Closed before Redis' 5 s answer limit would have answered it: only
    # the stats request itself is left. Not scaled: the limit is ssed's.
    gone=0
    for i in $(seq 1 30); do
        conns_are "$A_URL" 1 && { gone=1; break; }
        sleep 0.1
    done
    kill -CONT "$REDIS_PID"
    [ "$gone" = 1 ]
    ! grep -q 'no answer' "$RT/A.err"
}

@test "cluster: a publisher that closes while its POST waits for Redis is held until Redis answers, then let go" {
    start_node A
    kill -STOP "$REDIS_PID"
    # A FIN alone may be a half-close, which is answered: the connection
    # waits for Redis, then reads the end and closes.
    post_then "$A_URL" close
    eventually 2 conns_are "$A_URL" 2
    kill -CONT "$REDIS_PID"
    eventually 5 conns_are "$A_URL" 1
}

# raw_exchange URL MODE: send a POST to /news on a raw socket and print
# every status line that comes back before the node closes (or 10 s,
# scaled). MODE pipelined: a GET of /_ssed/stats follows in the same
# write; MODE half-close: the POST, then shutdown(SHUT_WR).
raw_exchange() {
    python3 - "${1##*:}" "$2" "$((10 * SSETOOLS_WAIT_SCALE))" <<'PY'
import socket, sys, time
port, mode, limit = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
req = b"POST /news HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n\r\nraw\n"
if mode == "pipelined":
    req += b"GET /_ssed/stats HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
s = socket.create_connection(("127.0.0.1", port), timeout=limit)
s.sendall(req)
if mode == "half-close":
    s.shutdown(socket.SHUT_WR)
got, deadline = b"", time.time() + limit
try:
    while time.time() < deadline:
        data = s.recv(65536)
        if not data:
            print("closed")
            break
        got += data
except (socket.timeout, ConnectionResetError):
    print("no close")
for line in got.split(b"\n"):
    if line.startswith(b"HTTP/1.1 "):
        print(line.decode().rstrip("\r"))
PY
}

@test "cluster: a request pipelined behind a POST is answered once Redis answers the POST" {
    start_node A --header-timeout 60s
    run raw_exchange "$A_URL" pipelined
    printf "%s\n" "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = closed ]
    [ "${lines[1]}" = "HTTP/1.1 200 OK" ]
    [ "${lines[2]}" = "HTTP/1.1 200 OK" ]
    [ "${#lines[@]}" -eq 3 ]
}

@test "cluster: a publisher that half-closes after its POST gets its answer, then the node closes" {
    start_node A --header-timeout 60s
    sub a1 "$A_URL"
    run raw_exchange "$A_URL" half-close
    printf "%s\n" "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = closed ]
    [ "${lines[1]}" = "HTTP/1.1 200 OK" ]
    [ "${#lines[@]}" -eq 2 ]
    wait_for_line "$RT/a1" '^data: raw$' 10
}

@test "cluster: POSTs on HTTP/2 streams of one connection are each answered once Redis answers" {
    grep -qa nghttp2_session_mem_recv "$SSED" || skip "this ssed was built without HTTP/2 (make H2=0)"
    command -v nghttp >/dev/null || skip "nghttp is not installed"
    start_node A
    sub a1 "$A_URL"
    printf 'h2\n' >"$RT/body"
    run timeout $((20 * SSETOOLS_WAIT_SCALE)) nghttp -n -s -d "$RT/body" "$A_URL/news?1" "$A_URL/news?2" "$A_URL/news?3"
    printf '%s\n' "$output"
    [ "$status" -eq 0 ]
    [ "$(printf '%s\n' "$output" | grep -cE ' 200 +33 /news\?[123]$')" = 3 ]
    eventually 10 test "$(grep -c '^data: h2$' "$RT/a1")" = 3
}

# cluster_msg FIRST PREV ENCODING: a script call's message of one event
# (cluster_message.h), as any Redis client could publish it.
cluster_msg() { printf '#%s %s 1\n%s\n%s' "$1" "$2" "${#3}" "$3"; }

# stats_valid URL: /_ssed/stats is valid JSON.
stats_valid() { curl -s --max-time 10 "$1/_ssed/stats" | python3 -m json.tool >/dev/null; }

@test "cluster: the root channel (/) is shared: a POST to / on one node reaches a subscriber of / on another" {
    start_node A
    start_node B
    curl -sN --max-time 600 "$B_URL/" >"$RT/root" 2>/dev/null 3>&- 8>&- 9>&- &
    echo $! >>"$BATS_TEST_TMPDIR/pids"
    wait_for_line "$RT/root" '^: ssed stream' 10
    [ "$(post_code "$A_URL/" 'to the root')" = 200 ]
    wait_for_line "$RT/root" '^data: to the root$' 10
    [ "$(stat "$B_URL" redis_messages_refused)" = 0 ]
}

@test "cluster: hostile data from any Redis client (bad channel names, ids, numbers, garbage) is counted and skipped; stats stay JSON and events flow" {
    # The channel list read at start, and a stream entry whose id holds a
    # newline, as another Redis client could leave them.
    redis-cli -p "$REDIS_PORT" sadd ssed:channels 'x"y' ok >/dev/null
    redis-cli -p "$REDIS_PORT" xadd 'ssed:s:x"y' 1-0 b "$(cluster_msg 1 0 $'-1 0 -1\nlisted')" >/dev/null
    redis-cli -p "$REDIS_PORT" xadd ssed:s:ok 1-0 b "$(cluster_msg 1 0 $'-1 0 3\na\nbdata')" >/dev/null
    start_node A
    stats_valid "$A_URL"
    sub a "$A_URL"
    for i in $(seq 1 50); do
        redis-cli -p "$REDIS_PORT" publish 'ssed:c:a"b' "$(cluster_msg 1 0 $'-1 0 -1\nquoted')" >/dev/null
        redis-cli -p "$REDIS_PORT" publish ssed:c:news "$(cluster_msg 9007199254740993 0 $'-1 0 -1\nhuge')" >/dev/null
        redis-cli -p "$REDIS_PORT" publish ssed:c:news "$(cluster_msg 5 5 $'-1 0 -1\nself')" >/dev/null
        redis-cli -p "$REDIS_PORT" publish ssed:c:news 'garbage' >/dev/null
    done
    [ "$(post_code "$A_URL/news" real)" = 200 ]
    wait_for_line "$RT/a" '^data: real$' 10
    ! grep -qE '^data: (quoted|huge|self|listed)$' "$RT/a"
    stats_valid "$A_URL"
    eventually 10 stat_above "$A_URL" redis_messages_refused 200
    curl -s "$A_URL/_ssed/metrics" | grep -qE '^ssed_redis_messages_refused_total [0-9]{3}'
    # One line per kind, not one per message.
    [ "$(grep -c 'refused' "$RT/A.err")" -le 3 ]
}

@test "cluster: --exit-on-eof sends everything it read, a last line without newline included, before it exits" {
    start_node A
    sub a "$A_URL"
    for i in 1 2 3; do
        printf 'a-%s\nb-%s' "$i" "$i" | "$SSED" -l 127.0.0.1:0 -c news --redis "redis://127.0.0.1:$REDIS_PORT" \
            --exit-on-eof >"$RT/eof.out" 2>"$RT/eof.err" 3>&- 8>&- 9>&-
        wait_for_line "$RT/a" "^data: b-$i\$" 10
        ! grep -q 'resent' "$RT/eof.err"
    done
    printf 'data: a-1\ndata: b-1\ndata: a-2\ndata: b-2\ndata: a-3\ndata: b-3\n' >"$RT/want"
    [ "$(grep '^data: ' "$RT/a")" = "$(cat "$RT/want")" ]
}

# id_of FILE DATA: the id of the event with that data in a saved stream.
id_of() { $CHECK events "$1" | grep " $2\$" | head -1 | cut -d' ' -f1; }

@test "cluster: a hole the stream no longer covers is kept in history: a later resume across it gets ssed-gap, the log names the last event lost" {
    start_node A
    start_node B
    sub a "$A_URL"
    for i in 1 2; do [ "$(post_code "$A_URL/news" "e-$i")" = 200 ]; done
    eventually 10 stat_above "$B_URL" events_received 1
    # B frozen, its subscription cut: it misses e-3 and e-4, which then
    # leave the stream before it can read them back.
    kill -STOP "$B_PID"
    redis-cli -p "$REDIS_PORT" client kill type pubsub >/dev/null
    # (A's subscription was cut too: it answers 503 until it is back.)
    for i in 3 4; do eventually 10 code_is 200 "$A_URL/news" "e-$i"; done
    redis-cli -p "$REDIS_PORT" xtrim ssed:s:news maxlen 0 >/dev/null
    eventually 10 code_is 200 "$A_URL/news" e-5
    kill -CONT "$B_PID"
    eventually 10 stat_above "$B_URL" gaps 0
    wait_for_data "$RT/a" 5 10
    # The log names the last event lost (e-4), not the first kept (e-5).
    grep -q "events after $(id_of "$RT/a" e-2) up to $(id_of "$RT/a" e-4) are no longer" "$RT/B.err"
    # Resumes after the hole opened, by clients that were not connected:
    # told of it where it is, and given what B still holds on both sides.
    resume_summary "$B_URL" "$(id_of "$RT/a" e-2)" >"$RT/r2"
    printf '<gap>\ne-5\n' | diff - "$RT/r2"
    resume_summary "$B_URL" "$(id_of "$RT/a" e-1)" >"$RT/r1"
    printf 'e-2\n<gap>\ne-5\n' | diff - "$RT/r1"
    # Past the hole (it saw e-4 on A): nothing lost, no gap.
    resume_summary "$B_URL" "$(id_of "$RT/a" e-4)" >"$RT/r4"
    printf 'e-5\n' | diff - "$RT/r4"
}

@test "cluster: a resume on a node catching up (link back, its stream reads failing) waits (503) until it has caught up, then gets no duplicates" {
    redis-cli -p "$REDIS_PORT" acl setuser nox on '>pw' '~*' '&*' +@all >/dev/null
    start_node A
    NODE_REDIS_URL="redis://nox:pw@127.0.0.1:$REDIS_PORT" start_node B
    sub a "$A_URL"
    sub_until_open b0 "$B_URL"
    for i in 1 2; do [ "$(post_code "$A_URL/news" "e-$i")" = 200 ]; done
    wait_for_data "$RT/b0" 2 10
    # B's link cut: it reconnects, but cannot read the streams back, so
    # it stays behind on news while A publishes on.
    redis-cli -p "$REDIS_PORT" acl setuser nox -xrange -xrevrange >/dev/null
    redis-cli -p "$REDIS_PORT" client kill user nox >/dev/null
    eventually 10 stat_above "$B_URL" stream_reads_failed 0
    for i in 3 4; do eventually 10 code_is 200 "$A_URL/news" "e-$i"; done
    wait_for_data "$RT/a" 4 10
    seen=$(id_of "$RT/a" e-4)
    # A client that saw e-4 on A resumes on B: not yet.
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Last-Event-ID: $seen" "$B_URL/news")" = 503 ]
    # One that resumes from what B holds, or starts afresh, is served.
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 -H "Last-Event-ID: $(id_of "$RT/a" e-2)" "$B_URL/news")" = 200 ]
    redis-cli -p "$REDIS_PORT" acl setuser nox +xrange +xrevrange >/dev/null
    sub_until_open b "$B_URL" -H "Last-Event-ID: $seen"
    [ "$(post_code "$A_URL/news" e-5)" = 200 ]
    wait_for_line "$RT/b" '^data: e-5$' 10
    echo e-5 >"$RT/want"
    run $CHECK same "$RT/want" "$RT/b"
    echo "$output"
    [ "$status" -eq 0 ]
    # B's subscriber from before got everything once, in order.
    wait_for_data "$RT/b0" 5 10
    seq 1 5 | sed 's/^/e-/' >"$RT/want"
    run $CHECK same "$RT/want" "$RT/b0"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "cluster: a Redis client naming more channels than --max-channels allows: logged once per interval with a count, not once per event" {
    start_node A --max-channels 3
    sub a "$A_URL"
    local began=$SECONDS
    # Each message with its stream entry, as the publish script writes them
    # (a message without one is refused before it names a channel).
    redis-cli -p "$REDIS_PORT" eval "for i = 1, 200 do
            local msg = '#' .. i .. ' 0 1\n9\n-1 0 -1\nx'
            redis.call('XADD', 'ssed:s:flood-' .. i, i .. '-0', 'b', msg)
            redis.call('PUBLISH', 'ssed:c:flood-' .. i, msg)
        end" 0 >/dev/null
    [ "$(post_code "$A_URL/news" real)" = 200 ]
    wait_for_line "$RT/a" '^data: real$' 10
    wait_for_line "$RT/A.err" 'events? dropped: too many channels' 10
    grep 'too many channels' "$RT/A.err"
    # On a loaded machine the flood may span intervals: one line per 10 s of it.
    [ "$(grep -c 'too many channels' "$RT/A.err")" -le $((2 + (SECONDS - began) / 10)) ]
    # Every drop is in a count; SIGTERM logs the rest.
    kill -TERM "$A_PID"
    wait_for_exit "$A_PID" 10
    total=$(grep -oE '[0-9]+ events? dropped: too many channels' "$RT/A.err" | awk '{ n += $1 } END { print n }')
    [ "$total" -ge 190 ]
}

@test "cluster: the node's own stall (a loop turn of 6 s) is not taken for a silent Redis: the POST waiting meanwhile gets 200, no reconnect" {
    command -v cc >/dev/null || skip "no C compiler to build tests/lib/stall_shim.c"
    ! ldd "$SSED" | grep -q libasan || skip "an AddressSanitizer build cannot take an LD_PRELOAD shim"
    cc -shared -fPIC -o "$RT/stall_shim.so" "$TOP/tests/lib/stall_shim.c" -ldl
    # The shim stalls the write that sends this POST's script call to Redis.
    LD_PRELOAD="$RT/stall_shim.so" STALL_SHIM_MARK=stall-here STALL_SHIM_MS=6000 start_node A
    sub a "$A_URL"
    [ "$(post_code "$A_URL/news" before)" = 200 ]
    [ "$(post_code "$A_URL/news" stall-here)" = 200 ]
    wait_for_line "$RT/a" '^data: stall-here$' 10
    [ "$(stat "$A_URL" connects)" = 1 ]
    ! grep -q 'no answer' "$RT/A.err"
}

@test "cluster: Redis killed and restarted with appendonly yes and appendfsync always: nothing lost, no ssed-gap, ids go on" {
    REDIS_AOF=1
    stop_pid "$REDIS_PID"
    start_redis
    start_node A
    start_node B
    sub a "$A_URL"
    for i in 1 2 3; do [ "$(post_code "$A_URL/news" "e-$i")" = 200 ]; done
    wait_for_data "$RT/a" 3 10
    kill -KILL "$REDIS_PID"
    wait_for_exit "$REDIS_PID" 10
    start_redis
    eventually 20 code_is 200 "$B_URL/news" e-4
    wait_for_data "$RT/a" 4 20
    seq 1 4 | sed 's/^/e-/' >"$RT/want"
    run $CHECK same "$RT/want" "$RT/a"
    echo "$output"
    [ "$status" -eq 0 ]
    ! grep -q ssed-gap "$RT/a"
    # A node started after the restart has the history from before it.
    start_node C
    resume_summary "$C_URL" "$(id_of "$RT/a" e-1)" >"$RT/r"
    printf 'e-2\ne-3\ne-4\n' | diff - "$RT/r"
}

@test "cluster: a message any Redis client publishes with the next event number is refused: every subscriber gets the real event once, never the forged one" {
    start_node A
    start_node B
    sub a1 "$A_URL"; sub b1 "$B_URL"
    [ "$(post_code "$A_URL/news" first)" = 200 ]
    for f in a1 b1; do wait_for_line "$RT/$f" '^data: first$' 10; done
    # The number the next real event takes, and the one before it, as the
    # publish script keeps them.
    next=$(($(redis-cli -p "$REDIS_PORT" get ssed:id) + 1))
    prev=$(redis-cli -p "$REDIS_PORT" hget ssed:last news)
    redis-cli -p "$REDIS_PORT" publish ssed:c:news "$(cluster_msg "$next" "$prev" $'-1 0 -1\nforged')" >/dev/null
    # One between two real calls' numbers, and one that copies a real
    # call's number with other data: neither is in the stream as sent.
    redis-cli -p "$REDIS_PORT" publish ssed:c:news "$(cluster_msg "$prev" 1 $'-1 0 -1\naltered')" >/dev/null
    # No wait: each node takes a channel's messages in the order they came.
    [ "$(post_code "$B_URL/news" real)" = 200 ]
    [ "$(post_code "$A_URL/news" after)" = 200 ]
    for f in a1 b1; do wait_for_line "$RT/$f" '^data: after$' 10; done
    printf '%s\n' first real after >"$RT/want"
    run $CHECK same "$RT/want" "$RT/a1" "$RT/b1"
    echo "$output"
    [ "$status" -eq 0 ]
    ! grep -qE '^data: (forged|altered)$' "$RT/a1" "$RT/b1"
    [ "$(id_of "$RT/a1" real)" = "$next" ] && [ "$(id_of "$RT/b1" real)" = "$next" ]
    eventually 10 stat_above "$A_URL" redis_messages_refused 1
    eventually 10 stat_above "$B_URL" redis_messages_refused 1
    # Logged once per interval with a count, not once per message.
    n=$(grep -c "not the cluster's" "$RT/A.err")
    [ "$n" -ge 1 ] && [ "$n" -le 2 ]
}

@test "cluster: a node warns at start when Redis has no persistence (appendonly no, save ''), and not when it has AOF" {
    # The test's Redis: --appendonly no --save '' (start_redis).
    start_node A
    wait_for_line "$RT/A.err" 'Redis has no persistence' 10
    grep 'Redis has no persistence' "$RT/A.err" | grep -q 'appendonly no, save ""'
    [ "$(grep -c 'persist' "$RT/A.err")" = 1 ]
    stop_pid "$A_PID"
    stop_pid "$REDIS_PID"
    REDIS_AOF=1
    start_redis
    start_node B
    # Its CONFIG GET answers come before the channel list that made it ready.
    [ "$(post_code "$B_URL/news" x)" = 200 ]
    ! grep -qi 'persist' "$RT/B.err"
}

@test "cluster: a Redis user refused CONFIG: the node says it could not check persistence, and works" {
    redis-cli -p "$REDIS_PORT" acl setuser noconf on '>pw' '~*' '&*' +@all -config >/dev/null
    NODE_REDIS_URL="redis://noconf:pw@127.0.0.1:$REDIS_PORT" start_node A
    wait_for_line "$RT/A.err" 'could not check whether Redis persists' 10
    grep 'could not check' "$RT/A.err" | grep -q NOPERM
    [ "$(post_code "$A_URL/news" x)" = 200 ]
}

# old_piece N PREV DATA: one event as the version before stored it (field
# e) and framed it in a "*COUNT" batch: "N PREV " and its encoding.
old_piece() { printf '%s %s -1 0 -1\n%s' "$1" "$2" "$3"; }
# old_batch PIECE...: the version before's pub/sub batch of those pieces.
old_batch() {
    printf '*%s\n' "$#"
    local p
    for p in "$@"; do printf '%s\n%s' "${#p}" "$p"; done
}

@test "cluster: batches in the version before's format (*COUNT) are checked piece by piece against their stream entries: real ones delivered, forged ones refused" {
    start_node A
    sub a "$A_URL"
    [ "$(post_code "$A_URL/news" first)" = 200 ]
    wait_for_line "$RT/a" '^data: first$' 10
    f=$(redis-cli -p "$REDIS_PORT" get ssed:id)
    p1=$(old_piece $((f + 1)) "$f" old-1)
    p2=$(old_piece $((f + 2)) $((f + 1)) old-2)
    # A real batch of the version before: its pieces are its stream entries.
    redis-cli -p "$REDIS_PORT" xadd ssed:s:news $((f + 1))-0 e "$p1" >/dev/null
    redis-cli -p "$REDIS_PORT" xadd ssed:s:news $((f + 2))-0 e "$p2" >/dev/null
    redis-cli -p "$REDIS_PORT" set ssed:id $((f + 2)) >/dev/null
    redis-cli -p "$REDIS_PORT" hset ssed:last news $((f + 2)) >/dev/null
    redis-cli -p "$REDIS_PORT" publish ssed:c:news "$(old_batch "$p1" "$p2")" >/dev/null
    wait_for_line "$RT/a" '^data: old-2$' 10
    # Forged: a real piece with one claiming the next number; a real
    # number with other data.
    redis-cli -p "$REDIS_PORT" publish ssed:c:news \
        "$(old_batch "$p2" "$(old_piece $((f + 3)) $((f + 2)) forged)")" >/dev/null
    redis-cli -p "$REDIS_PORT" publish ssed:c:news "$(old_batch "$(old_piece $((f + 2)) $((f + 1)) altered)")" >/dev/null
    [ "$(post_code "$A_URL/news" after)" = 200 ]
    wait_for_line "$RT/a" '^data: after$' 10
    printf '%s\n' first old-1 old-2 after >"$RT/want"
    run $CHECK same "$RT/want" "$RT/a"
    echo "$output"
    [ "$status" -eq 0 ]
    ! grep -qE '^data: (forged|altered)$' "$RT/a"
    [ "$(id_of "$RT/a" after)" = $((f + 3)) ]
    eventually 10 stat_above "$A_URL" redis_messages_refused 1
}

@test "cluster: history written back after Redis lost its data keeps each event's type, own id, retry and data lines" {
    start_node A --replay 10
    printf 'event: kind\nid: own-id\nretry: 1500\ndata: line one\ndata:\ndata: line three\n\n' >"$RT/body"
    [ "$(post_code "$A_URL/news" "@$RT/body" -H 'Content-Type: text/event-stream')" = 200 ]
    [ "$(post_code "$A_URL/news" plain)" = 200 ]
    redis-cli -p "$REDIS_PORT" flushall >/dev/null
    [ "$(post_code "$A_URL/news" after)" = 200 ]
    wait_for_line "$RT/A.err" 'Redis lost its data' 10
    start_node C --replay 10
    curl -s --max-time 2 "$A_URL/news" >"$RT/a" 2>/dev/null || true
    sub_until_open c "$C_URL"
    wait_for_line "$RT/c" '^data: after$' 10
    grep -q '^event: kind$' "$RT/a"
    diff "$RT/a" "$RT/c"
}
