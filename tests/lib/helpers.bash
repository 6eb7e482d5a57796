# Shared bats helpers: paths to the built binaries, background processes that
# are always stopped by PID, and bounded waits. Load with `load helpers`.

: "${SSETOOLS_BUILD:=$BATS_TEST_DIRNAME/../build}"
SSED="$SSETOOLS_BUILD/ssed"
SSECAT="$SSETOOLS_BUILD/ssecat"
SSEPUB="$SSETOOLS_BUILD/ssepub"
TOP="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
# Every wait below polls for its condition, so a longer deadline costs
# nothing when things go well; on a loaded machine (or under the
# sanitizers) they are stretched by this factor.
: "${SSETOOLS_WAIT_SCALE:=3}"

# start_bg OUT ERR CMD...: run CMD in the background with stdout and stderr
# to files; its PID is recorded for stop_all and left in BG_PID.
start_bg() {
    local out=$1 err=$2
    shift 2
    "$@" >"$out" 2>"$err" 3>&- 8>&- 9>&- &
    BG_PID=$!
    echo "$BG_PID" >>"$BATS_TEST_TMPDIR/pids"
}

# stop_pid PID: TERM, wait up to 5 s, then KILL.
stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

# stop_all: stop every process this test started. Call it from teardown.
stop_all() {
    local pid
    [ -f "$BATS_TEST_TMPDIR/pids" ] || return 0
    while read -r pid; do stop_pid "$pid"; done <"$BATS_TEST_TMPDIR/pids"
    rm -f "$BATS_TEST_TMPDIR/pids"
}

# wait_for_line FILE REGEX [SECONDS]: wait until a line of FILE matches.
wait_for_line() {
    local file=$1 regex=$2 limit=$((${3:-10} * SSETOOLS_WAIT_SCALE)) i
    for i in $(seq 1 $((limit * 20))); do
        grep -qE "$regex" "$file" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "timed out after ${limit}s waiting for /$regex/ in $file:" >&2
    cat "$file" >&2 2>/dev/null
    return 1
}

# wait_for_lines FILE N [SECONDS]: wait until FILE has at least N lines.
wait_for_lines() {
    local file=$1 want=$2 limit=$((${3:-10} * SSETOOLS_WAIT_SCALE)) i
    for i in $(seq 1 $((limit * 20))); do
        [ "$(wc -l <"$file" 2>/dev/null || echo 0)" -ge "$want" ] && return 0
        sleep 0.05
    done
    echo "timed out after ${limit}s waiting for $want lines in $file (have $(wc -l <"$file"))" >&2
    return 1
}

# wait_for_exit PID [SECONDS]: wait for a background process to end; its
# exit status is left in EXIT_STATUS.
wait_for_exit() {
    local pid=$1 limit=$((${2:-10} * SSETOOLS_WAIT_SCALE)) i
    for i in $(seq 1 $((limit * 20))); do
        if ! kill -0 "$pid" 2>/dev/null; then
            EXIT_STATUS=0
            wait "$pid" 2>/dev/null || EXIT_STATUS=$?
            return 0
        fi
        sleep 0.05
    done
    echo "process $pid still running after ${limit}s" >&2
    return 1
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_ssed [OPTIONS...]: start ssed on a free port of 127.0.0.1 (or on
# SSED_LISTEN, such as http://127.0.0.1:0 beside a TLS listener) with its
# stdin fed from a FIFO held open on fd 8 (feed lines with `>&8`, end the
# input with `exec 8>&-`). Sets SSED_PID, PORT, URL; logs in SSED_ERR.
start_ssed() {
    FEED="$BATS_TEST_TMPDIR/feed"
    SSED_ERR="$BATS_TEST_TMPDIR/ssed.err"
    rm -f "$FEED"
    mkfifo "$FEED"
    "$SSED" -l "${SSED_LISTEN:-127.0.0.1:0}" "$@" <"$FEED" >"$BATS_TEST_TMPDIR/ssed.out" 2>"$SSED_ERR" 3>&- 8>&- 9>&- &
    SSED_PID=$!
    echo "$SSED_PID" >>"$BATS_TEST_TMPDIR/pids"
    exec 8>"$FEED"
    wait_for_line "$SSED_ERR" 'serving http://127\.0\.0\.1:[0-9]+/' 10
    PORT=$(grep -oE 'serving http://127\.0\.0\.1:[0-9]+' "$SSED_ERR" | head -1 | sed 's/.*://')
    URL="http://127.0.0.1:$PORT"
}

# subscribe NAME PATH [CURL OPTIONS...]: a curl subscriber writing the raw
# stream to $BATS_TEST_TMPDIR/NAME; returns once the stream is open.
subscribe() {
    local name=$1 path=$2
    shift 2
    curl -sN --max-time 30 "$@" "$URL$path" >"$BATS_TEST_TMPDIR/$name" 2>/dev/null 3>&- 8>&- 9>&- &
    echo $! >>"$BATS_TEST_TMPDIR/pids"
    SUB_PID=$!
    wait_for_line "$BATS_TEST_TMPDIR/$name" '^: ssed stream' 10
}

# data_of FILE: the data fields of a raw stream, one per line.
data_of() {
    grep '^data:' "$1" | sed 's/^data: \{0,1\}//'
}

# wait_for_data FILE N [SECONDS]: wait until a raw stream has N data lines.
wait_for_data() {
    local file=$1 want=$2 limit=$((${3:-10} * SSETOOLS_WAIT_SCALE)) i
    for i in $(seq 1 $((limit * 20))); do
        [ "$(grep -c '^data:' "$file" 2>/dev/null)" -ge "$want" ] && return 0
        sleep 0.05
    done
    echo "timed out after ${limit}s: $(grep -c '^data:' "$file") of $want data lines in $file" >&2
    return 1
}

# raw_request [http_raw.py OPTIONS]: send stdin to ssed as is; print the reply.
raw_request() {
    python3 "$TOP/tests/lib/http_raw.py" "$PORT" "$@"
}

# stat_of KEY: a top-level number from /_ssed/stats.
stat_of() {
    curl -s --max-time 5 "$URL/_ssed/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}

# wait_for_stat KEY TEST VALUE [SECONDS]: until stat_of KEY compares to
# VALUE by TEST (-eq, -ge, ...); fails after SECONDS (default 10, times
# SSETOOLS_WAIT_SCALE). A server not answering yet counts as -1.
wait_for_stat() {
    local key=$1 test=$2 want=$3 limit=$((${4:-10} * SSETOOLS_WAIT_SCALE)) i
    for i in $(seq 1 $((limit * 10))); do
        [ "$(stat_of "$key" 2>/dev/null || echo -1)" "$test" "$want" ] 2>/dev/null && return 0
        sleep 0.1
    done
    echo "timed out after ${limit}s waiting for /_ssed/stats $key $test $want" >&2
    return 1
}
