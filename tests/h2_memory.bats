#!/usr/bin/env bats
# ssed's memory under HTTP/2 clients that do not read (issue 27): many
# connections of many streams whose windows stay shut, the same with windows
# open and sockets never read, and one stream that paces its window. RSS is
# read from /proc/PID/status before, during and after, and held to a bound
# derived from the limits the test sets (not measured under the sanitizers,
# whose shadow memory says nothing of ssed's). tests/bench/h2_memory.sh
# prints the same figures at a larger scale.

load lib/helpers

# What one stream costs ssed besides the frames it holds: its stream, its
# nghttp2 stream, its queue of references to shared events (4 KiB for 400
# events); the test allows 8 KiB. Frames are held to --h2-conn-buffer per
# connection, plus a write batch of 64 KiB and a frame or so; 128 KiB.
PER_STREAM_KIB=8
PER_CONN_EXTRA_KIB=128
CONNS=10
STREAMS=256

setup() {
    grep -qa nghttp2_session_mem_recv "$SSED" || skip "this ssed was built without HTTP/2 (make H2=0)"
}

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
}

rss_kib() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# check_rss WHAT KIB BOUND: report the figure; fail past BOUND (KiB),
# unless the build is sanitized.
check_rss() {
    echo "$1: ssed grew by $2 KiB (bound $3 KiB)"
    [ -n "${SSETOOLS_SANITIZED:-}" ] || [ "$2" -le "$3" ]
}

# check_returned: once the streams closed, ssed gave back at least half
# of what it grew by while they were open (4 MiB is always allowed). What
# stays depends on where malloc_trim finds whole pages free: 4.0 to 7.5 MiB
# of 20 to 26 were seen on one machine, while without the trim all of it
# stayed (the 170 MB this file was written for).
check_returned() {
    local grew=$((DURING - BEFORE)) bound
    bound=$((grew / 2 > 4096 ? grew / 2 : 4096))
    check_rss "after they closed" $(($(rss_kib "$SSED_PID") - BEFORE)) "$bound"
}

# publish N: N events of about 1 KiB on ssed's stdin.
publish() {
    local pad
    pad=$(head -c 1000 /dev/zero | tr '\0' x)
    for i in $(seq 1 "$1"); do echo "event $i $pad"; done >&8
}

# attack WINDOW READ [OPTIONS...]: ssed with OPTIONS and an HTTP/1.1
# subscriber; CONNS x STREAMS h2 subscriptions with initial windows WINDOW
# that read (READ 1) or not (0); 400 KiB published and read by the HTTP/1.1
# subscriber. Leaves BEFORE and DURING (RSS, KiB) and RAW_PID.
attack() {
    local window=$1 read=$2
    shift 2
    start_ssed --max-clients 100000 "$@"
    subscribe healthy /
    BEFORE=$(rss_kib "$SSED_PID")
    H2_STREAMS=$STREAMS H2_WINDOW=$window H2_READ=$read start_bg "$BATS_TEST_TMPDIR/raw" "$BATS_TEST_TMPDIR/raw.err" \
        python3 "$TOP/tests/lib/h2_raw.py" "$PORT" stalled-conns "$CONNS" 120
    RAW_PID=$BG_PID
    wait_for_line "$BATS_TEST_TMPDIR/raw" '^READY' 30
    publish 400
    wait_for_data "$BATS_TEST_TMPDIR/healthy" 400 30
    DURING=$(rss_kib "$SSED_PID")
}

@test "h2 memory: streams whose windows stay shut hold no frames; RSS falls back once they close" {
    # Each held 64 KiB for frames the client would not take: 10 x 256
    # streams took ssed from 5 MB to 170 MB, and it stayed there after they
    # closed (the freed blocks sat in malloc's free lists).
    attack 0 1
    check_rss "2,560 stalled streams" $((DURING - BEFORE)) $((CONNS * STREAMS * PER_STREAM_KIB + CONNS * PER_CONN_EXTRA_KIB))
    [ "$(stat_of h2_buffered_bytes)" -eq 0 ]
    stop_pid "$RAW_PID"
    wait_for_stat subscribers -eq 1 10
    check_returned
}

@test "h2 memory: windows open and sockets unread: frames stay within --h2-conn-buffer per connection" {
    # The same 170 MB: ssed took 64 KiB for each stream whatever its window.
    attack $((1 << 30)) 0 # --h2-conn-buffer is 1 MiB
    check_rss "2,560 unread streams" $((DURING - BEFORE)) \
        $((CONNS * STREAMS * PER_STREAM_KIB + CONNS * (1024 + PER_CONN_EXTRA_KIB)))
    local held
    held=$(stat_of h2_buffered_bytes)
    echo "frames held: $held bytes"
    [ "$held" -le $((CONNS * 1024 * 1024)) ]
    stop_pid "$RAW_PID"
    wait_for_stat subscribers -eq 1 10
    check_returned
}

@test "h2 memory: past --h2-total-buffer the connection that reads nothing gets GOAWAY and its streams go" {
    # How much the stalled connections hold depends on when each socket
    # filled (650 KiB seen of their 2.5 MiB of budgets): past 256 KiB for
    # all, one full connection is already too many.
    attack $((1 << 30)) 0 --h2-conn-buffer 256KiB --h2-total-buffer 256KiB
    check_rss "2,560 unread streams, 256 KiB for all" $((DURING - BEFORE)) \
        $((CONNS * STREAMS * PER_STREAM_KIB + 256 + CONNS * PER_CONN_EXTRA_KIB))
    wait_for_line "$SSED_ERR" 'HTTP/2 client 127\.0\.0\.1:[0-9]+ holds [0-9]+ bytes .* past --h2-total-buffer 262144: GOAWAY' 10
    # Their streams are dropped (the healthy subscriber stays), and ssed
    # serves on: a new h2 stream gets what is published.
    wait_for_stat subscribers -lt $((CONNS * STREAMS + 1)) 10
    [ "$(stat_of h2_over_budget_goaways)" -ge 1 ]
    wait_for_stat h2_buffered_bytes -le $((256 * 1024)) 10
    subscribe fresh / --http2-prior-knowledge
    echo after >&8
    wait_for_data "$BATS_TEST_TMPDIR/fresh" 1
    wait_for_data "$BATS_TEST_TMPDIR/healthy" 401
}

@test "h2 memory: a stream that paces its window does not grow its buffer by what it carries" {
    # read_body drains the front, the stream appends at the back: a buffer that
    # never ran dry grew by all the stream carried (10 MB: +10 MB RSS).
    local events=10000
    start_ssed --history "$events" --max-history-bytes 64MiB --replay "$events"
    subscribe healthy /
    publish "$events"
    wait_for_data "$BATS_TEST_TMPDIR/healthy" "$events" 30
    local before
    before=$(rss_kib "$SSED_PID")
    start_bg "$BATS_TEST_TMPDIR/raw" "$BATS_TEST_TMPDIR/raw.err" \
        python3 "$TOP/tests/lib/h2_raw.py" "$PORT" paced "$events" 120
    wait_for_line "$BATS_TEST_TMPDIR/raw" '^DONE' 60
    check_rss "10 MB replayed to a paced stream" $(($(rss_kib "$SSED_PID") - before)) 2048
}
