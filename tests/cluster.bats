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
    stop_all
}

CHECK="python3 $BATS_TEST_DIRNAME/lib/cluster_check.py"

# start_redis: on REDIS_PORT (a free one the first time), data in $RT.
start_redis() {
    : "${REDIS_PORT:=$(free_port)}"
    start_bg "$RT/redis.out" "$RT/redis.err" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
        --appendonly no --dir "$RT"
    REDIS_PID=$BG_PID
    local i
    for i in $(seq 1 $((100 * SSETOOLS_WAIT_SCALE))); do
        redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.05
    done
    echo "redis-server did not start" >&2
    return 1
}

# start_node NAME [OPTIONS...]: an ssed node with --redis, stdin from the
# FIFO $RT/NAME.in (held open on a descriptor of its own); sets NAME_URL.
start_node() {
    local name=$1
    shift
    mkfifo "$RT/$name.in"
    # The writer first (in the background), so opening the reader returns.
    sleep 3600 >"$RT/$name.in" 3>&- 8>&- 9>&- &
    echo $! >>"$BATS_TEST_TMPDIR/pids"
    "$SSED" -l 127.0.0.1:0 -c news --redis "redis://127.0.0.1:$REDIS_PORT" "$@" <"$RT/$name.in" >"$RT/$name.out" \
        2>"$RT/$name.err" 3>&- 8>&- 9>&- &
    eval "${name}_PID=$!"
    echo $! >>"$BATS_TEST_TMPDIR/pids"
    wait_for_line "$RT/$name.err" 'cluster ssed ready' 10
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

@test "cluster: three processes with --reuse-port on one port serve as one server" {
    PORT=$(free_port)
    for n in 1 2 3; do
        start_bg "$RT/r$n.out" "$RT/r$n.err" "$SSED" --no-stdin -l "127.0.0.1:$PORT" --reuse-port -c news \
            --redis "redis://127.0.0.1:$REDIS_PORT"
        wait_for_line "$RT/r$n.err" 'cluster ssed ready' 10
    done
    for n in $(seq 1 9); do sub s$n "http://127.0.0.1:$PORT"; done
    seq 1 50 | sed 's/^/u-/' >"$RT/want"
    for i in $(seq 1 50); do curl -s -XPOST --data-binary "u-$i" "http://127.0.0.1:$PORT/news" >/dev/null; done
    for n in $(seq 1 9); do wait_for_data "$RT/s$n" 50 30; done
    run $CHECK same "$RT/want" $(for n in $(seq 1 9); do echo "$RT/s$n"; done)
    echo "$output"
    [ "$status" -eq 0 ]
}
