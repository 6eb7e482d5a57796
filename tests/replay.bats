#!/usr/bin/env bats
# ssed --replay FILE: recordings (the format of man ssecat, RECORDING)
# written here by hand, served at their pace on the shared timeline, on a
# subscriber's own (?replay=start), to a POST (--method POST) and from
# stdin. Timing is asserted one way only: an event recorded 1 s in is not
# delivered in the first 0.5 s (a loaded machine only makes it later).

load lib/helpers

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
}

# rec FILE: a recording of four items: an event with type and id, a
# comment, an event with a retry and no id, an event with an id, 1 s in.
rec() {
    cat >"$1" <<'R'
: ssecat-recording=1
: url=http://127.0.0.1:9/feed
: start=2026-12-07T23:10:00.123Z
: status=200
: header=Content-Type: text/event-stream
: t=0.010
event: update
id: 41
data: {"a":1}
data: second line

: t=0.020
: comment= ping
: t=0.030
retry: 5000
data: no id here

: t=1.000
id: 43
data: one second in

: end=stream ended
R
}

# many FILE N GAP: N events e1..eN with ids, GAP seconds apart.
many() {
    local file=$1 n=$2 gap=$3
    python3 - "$file" "$n" "$gap" <<'PY'
import sys
path, n, gap = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
with open(path, "w") as f:
    f.write(": ssecat-recording=1\n")
    for i in range(1, n + 1):
        f.write(": t=%.3f\nid: e%d\ndata: event %d\n\n" % (i * gap, i, i))
PY
}

# start_replay [OPTIONS...]: ssed with stdin closed, its options given.
start_replay() {
    SSED_ERR="$BATS_TEST_TMPDIR/ssed.err"
    start_bg "$BATS_TEST_TMPDIR/ssed.out" "$SSED_ERR" "$SSED" -l 127.0.0.1:0 "$@"
    SSED_PID=$BG_PID
    wait_for_line "$SSED_ERR" 'serving http://127\.0\.0\.1:[0-9]+/' 10
    PORT=$(grep -oE 'serving http://127\.0\.0\.1:[0-9]+' "$SSED_ERR" | head -1 | sed 's/.*://')
    URL="http://127.0.0.1:$PORT"
}

@test "replay: ?replay=start gives each subscriber the whole recording in order, with types, ids, comment and retry" {
    rec "$BATS_TEST_TMPDIR/r.rec"
    start_replay --replay "$BATS_TEST_TMPDIR/r.rec" --speed 4
    # The stream ends with the recording: curl returns by itself.
    curl -sN --max-time $((10 * SSETOOLS_WAIT_SCALE)) "$URL/?replay=start" >"$BATS_TEST_TMPDIR/a"
    curl -sN --max-time $((10 * SSETOOLS_WAIT_SCALE)) "$URL/?replay=start" >"$BATS_TEST_TMPDIR/b"
    for s in a b; do
        run sed -n '3,$p' "$BATS_TEST_TMPDIR/$s"
        [ "$output" = "$(printf 'event: update\nid: 41\ndata: {"a":1}\ndata: second line\n\n: ping\n\nretry: 5000\ndata: no id here\n\nid: 43\ndata: one second in')" ]
    done
}

@test "replay: at speed 1 an event recorded 1 s in is not delivered in the first 0.5 s, and comes after the earlier ones" {
    rec "$BATS_TEST_TMPDIR/r.rec"
    start_replay --replay "$BATS_TEST_TMPDIR/r.rec"
    curl -sN --max-time 0.5 "$URL/?replay=start" >"$BATS_TEST_TMPDIR/early" || true
    ! grep -q 'one second in' "$BATS_TEST_TMPDIR/early"
    curl -sN --max-time $((10 * SSETOOLS_WAIT_SCALE)) "$URL/?replay=start" >"$BATS_TEST_TMPDIR/all"
    [ "$(data_of "$BATS_TEST_TMPDIR/all")" = "$(printf '{"a":1}\nsecond line\nno id here\none second in')" ]
}

@test "replay: --speed max delivers every event at once, however far apart they were recorded" {
    many "$BATS_TEST_TMPDIR/m.rec" 3000 10
    start_replay --replay "$BATS_TEST_TMPDIR/m.rec" --speed max --max-pending 64KiB
    curl -sN --max-time $((20 * SSETOOLS_WAIT_SCALE)) "$URL/?replay=start" >"$BATS_TEST_TMPDIR/s"
    [ "$(grep -c '^data:' "$BATS_TEST_TMPDIR/s")" -eq 3000 ]
    [ "$(grep '^id:' "$BATS_TEST_TMPDIR/s" | tail -1)" = "id: e3000" ]
    [ "$(grep '^data:' "$BATS_TEST_TMPDIR/s" | sed 's/data: event //' | sort -n -c && echo sorted)" = sorted ]
}

@test "replay: the shared timeline keeps the recorded ids; Last-Event-ID resumes inside the replay" {
    many "$BATS_TEST_TMPDIR/m.rec" 50 0.001
    start_replay -v --replay "$BATS_TEST_TMPDIR/m.rec" --speed max --history 100
    wait_for_line "$SSED_ERR" 'recording ended' 10
    curl -sN --max-time 2 -H 'Last-Event-ID: e45' "$URL/" >"$BATS_TEST_TMPDIR/s" || true
    [ "$(grep '^id:' "$BATS_TEST_TMPDIR/s" | tr '\n' ' ')" = "id: e46 id: e47 id: e48 id: e49 id: e50 " ]
    [ "$(data_of "$BATS_TEST_TMPDIR/s" | head -1)" = "event 46" ]
}

@test "replay: --replay N and --replay FILE together: a late subscriber gets the last N of the recording" {
    rec "$BATS_TEST_TMPDIR/r.rec"
    start_replay -v --replay 10 --replay "$BATS_TEST_TMPDIR/r.rec" --speed max
    wait_for_line "$SSED_ERR" 'recording ended' 10
    curl -sN --max-time 2 "$URL/" >"$BATS_TEST_TMPDIR/s" || true
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(printf '{"a":1}\nsecond line\nno id here\none second in')" ]
    grep -q '^event: update$' "$BATS_TEST_TMPDIR/s"
    grep -q '^id: 41$' "$BATS_TEST_TMPDIR/s"
    # an event recorded without an id gets one of ssed's, for resume
    [ "$(grep -c '^id: [0-9]\{10,\}$' "$BATS_TEST_TMPDIR/s")" -eq 1 ]
}

@test "replay: --method POST answers a POST (any body) with the recording as an event stream" {
    rec "$BATS_TEST_TMPDIR/r.rec"
    start_replay --replay "$BATS_TEST_TMPDIR/r.rec" --speed 4 --method POST -c v1/chat
    curl -sN -i --max-time $((10 * SSETOOLS_WAIT_SCALE)) -H 'Content-Type: application/json' \
        -d '{"model":"gpt","stream":true,"messages":[]}' "$URL/v1/chat" >"$BATS_TEST_TMPDIR/p"
    grep -qi '^Content-Type: text/event-stream' "$BATS_TEST_TMPDIR/p"
    [ "$(data_of "$BATS_TEST_TMPDIR/p")" = "$(printf '{"a":1}\nsecond line\nno id here\none second in')" ]
    # chunked bodies too, and an empty one
    printf '{"a":' | curl -sN --max-time $((10 * SSETOOLS_WAIT_SCALE)) -H 'Transfer-Encoding: chunked' \
        --data-binary @- "$URL/v1/chat" >"$BATS_TEST_TMPDIR/c"
    [ "$(data_of "$BATS_TEST_TMPDIR/c" | wc -l)" -eq 4 ]
    curl -sN --max-time $((10 * SSETOOLS_WAIT_SCALE)) -X POST "$URL/v1/chat" >"$BATS_TEST_TMPDIR/e"
    [ "$(data_of "$BATS_TEST_TMPDIR/e" | wc -l)" -eq 4 ]
}

@test "replay: a file that is not a recording exits 2, one that cannot be opened exits 1, naming the file" {
    printf 'data: plain sse\n\n' >"$BATS_TEST_TMPDIR/plain.sse"
    run "$SSED" -l 127.0.0.1:0 --replay "$BATS_TEST_TMPDIR/plain.sse"
    [ "$status" -eq 2 ]
    [[ "$output" == *"--replay $BATS_TEST_TMPDIR/plain.sse: not a recording"* ]]
    printf ': ssecat-recording=7\n' >"$BATS_TEST_TMPDIR/v7.rec"
    run "$SSED" -l 127.0.0.1:0 --replay "$BATS_TEST_TMPDIR/v7.rec"
    [ "$status" -eq 2 ]
    [[ "$output" == *"version '7' is not known"* ]]
    : >"$BATS_TEST_TMPDIR/empty.rec"
    run "$SSED" -l 127.0.0.1:0 --replay "$BATS_TEST_TMPDIR/empty.rec"
    [ "$status" -eq 2 ]
    run "$SSED" -l 127.0.0.1:0 --replay "$BATS_TEST_TMPDIR/missing.rec"
    [ "$status" -eq 1 ]
    [[ "$output" == *"--replay $BATS_TEST_TMPDIR/missing.rec: No such file or directory"* ]]
    # --check reads the first line too, and serves nothing
    run "$SSED" --check --replay "$BATS_TEST_TMPDIR/plain.sse"
    [ "$status" -eq 2 ]
    [[ "$output" == *"--replay $BATS_TEST_TMPDIR/plain.sse: not a recording"* ]]
    rec "$BATS_TEST_TMPDIR/r.rec"
    run "$SSED" --check --replay "$BATS_TEST_TMPDIR/r.rec"
    [ "$status" -eq 0 ]
    # stdin that is not a recording: found when it comes, exit 2
    run sh -c 'printf "hello\n" | "$1" -l 127.0.0.1:0 --replay -' sh "$SSED"
    [ "$status" -eq 2 ]
    [[ "$output" == *"--replay stdin: not a recording"* ]]
}

@test "replay: option errors exit 2; digits alone are still a count" {
    run "$SSED" --speed 2
    [ "$status" -eq 2 ]
    [[ "$output" == *"--speed: needs --replay FILE"* ]]
    run "$SSED" --replay - --loop
    [ "$status" -eq 2 ]
    run "$SSED" --replay x.rec --speed fast
    [ "$status" -eq 2 ]
    [[ "$output" == *"--speed"*"'fast'"* ]]
    run "$SSED" --replay 123 --history 10
    [ "$status" -eq 2 ]
    [[ "$output" == *"--replay: cannot be more than --history"* ]]
    run "$SSED" --replay x.rec --method PUT
    [ "$status" -eq 2 ]
}

@test "replay: a truncated recording (its last block incomplete) replays what is complete" {
    rec "$BATS_TEST_TMPDIR/r.rec"
    # cut as SIGKILL may: the last block's data line is complete, its
    # blank line is not there
    sed '/^: end=/d' "$BATS_TEST_TMPDIR/r.rec" | head -c -1 >"$BATS_TEST_TMPDIR/cut.rec"
    [ "$(tail -n 1 "$BATS_TEST_TMPDIR/cut.rec")" = "data: one second in" ]
    start_replay --replay "$BATS_TEST_TMPDIR/cut.rec" --speed max
    curl -sN --max-time $((10 * SSETOOLS_WAIT_SCALE)) "$URL/?replay=start" >"$BATS_TEST_TMPDIR/s"
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(printf '{"a":1}\nsecond line\nno id here')" ]
}

@test "replay: --replay - reads the recording from stdin as it comes; --exit-on-eof exits 0 at its end" {
    many "$BATS_TEST_TMPDIR/m.rec" 5 0.001
    start_ssed --replay - --exit-on-eof
    subscribe s /
    cat "$BATS_TEST_TMPDIR/m.rec" >&8
    wait_for_data "$BATS_TEST_TMPDIR/s" 5
    [ "$(grep '^id:' "$BATS_TEST_TMPDIR/s" | tr '\n' ' ')" = "id: e1 id: e2 id: e3 id: e4 id: e5 " ]
    exec 8>&-
    wait_for_exit "$SSED_PID" 10
    [ "$EXIT_STATUS" -eq 0 ]
}

@test "replay: --replay-from skips the start; --loop starts again with the same ids" {
    many "$BATS_TEST_TMPDIR/m.rec" 10 0.001
    start_replay --replay "$BATS_TEST_TMPDIR/m.rec" --speed max --replay-from 0.006s
    curl -sN --max-time $((10 * SSETOOLS_WAIT_SCALE)) "$URL/?replay=start" >"$BATS_TEST_TMPDIR/s"
    [ "$(grep '^id:' "$BATS_TEST_TMPDIR/s" | tr '\n' ' ')" = "id: e6 id: e7 id: e8 id: e9 id: e10 " ]
    stop_pid "$SSED_PID"
    start_replay --replay "$BATS_TEST_TMPDIR/m.rec" --speed 10 --loop
    curl -sN --max-time $((3 * SSETOOLS_WAIT_SCALE)) "$URL/?replay=start" >"$BATS_TEST_TMPDIR/l" || true
    [ "$(grep -c '^id: e1$' "$BATS_TEST_TMPDIR/l")" -ge 2 ]
}

@test "replay: a recorded block larger than --max-event-size is skipped with a warning" {
    python3 -c 'print(": ssecat-recording=1\n: t=0.001\ndata: small\n\n: t=0.002\ndata: " + "x" * 3000 + "\n\n: t=0.003\ndata: after\n")' >"$BATS_TEST_TMPDIR/big.rec"
    start_replay --replay "$BATS_TEST_TMPDIR/big.rec" --speed max --max-event-size 1KiB
    curl -sN --max-time $((10 * SSETOOLS_WAIT_SCALE)) "$URL/?replay=start" >"$BATS_TEST_TMPDIR/s"
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(printf 'small\nafter')" ]
    grep -q 'skipped a recorded block larger than --max-event-size 1024' "$SSED_ERR"
}
