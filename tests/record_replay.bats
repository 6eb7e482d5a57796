#!/usr/bin/env bats
# ssecat --record and ssed --replay together (issue 31): a stream recorded,
# replayed through ssed and recorded again holds the same blocks at the
# same pace; a recording cut by SIGKILL replays; npm's eventsource and
# Chromium's see a replay at its recorded pace. Timing is asserted one way only (an event is
# not early); the 10 ms figure is tests/bench/replay_timing.sh's.

bats_require_minimum_version 1.5.0
load lib/helpers
load lib/ssecat_helpers

setup() {
    [ -x "$SSECAT" ] || skip "ssecat is not built"
    REC="$BATS_TEST_TMPDIR/first.rec"
    REC2="$BATS_TEST_TMPDIR/second.rec"
}

teardown() {
    stop_all
}

# Every kind of block a recording keeps, with a half-second pause.
SCRIPT='[{"headers":{"Content-Type":"text/event-stream"},
  "chunks":["event: update\nid: 41\ndata: {\"a\":1}\ndata: second line\n\n","retry: 5000\n\n",
  {"sleep":0.5},"id:\ndata:\n\n","retry: 7000\ndata: hello\ndata:\ndata: x\n\n",
  "event: message\ndata: plain\n\ndata: last\n\n"]}]'

# blocks FILE: the recording without its comment lines (times, headers).
blocks() { grep -v '^: ' "$1"; }

# seconds FILE: the time of each block after the first, from the first.
seconds() {
    python3 - "$1" <<'PY'
import sys
ts = [float(l[4:]) for l in open(sys.argv[1], encoding="utf-8") if l.startswith(": t=")]
print(" ".join("%.3f" % (t - ts[0]) for t in ts[1:]))
PY
}

# start_replay [OPTIONS...]: ssed serving a recording, stdin closed.
start_replay() {
    start_bg "$BATS_TEST_TMPDIR/ssed.out" "$BATS_TEST_TMPDIR/ssed.err" "$SSED" -l 127.0.0.1:0 "$@"
    wait_for_line "$BATS_TEST_TMPDIR/ssed.err" 'serving http://127\.0\.0\.1:[0-9]+/' 10
    SURL="http://127.0.0.1:$(grep -oE 'serving http://127\.0\.0\.1:[0-9]+' "$BATS_TEST_TMPDIR/ssed.err" | head -1 | sed 's/.*://')"
}

@test "round trip: recorded, replayed by ssed and recorded again, every block is the same, the pause kept" {
    start_sse_server "$SCRIPT"
    run -0 timeout 20 "$SSECAT" --no-reconnect -o record "$URL"
    printf '%s\n' "$output" >"$REC"
    start_replay --replay "$REC" --no-stdin
    run -0 timeout 30 "$SSECAT" --no-reconnect --record "$REC2" -o data "$SURL/?replay=start"
    [ -n "$(blocks "$REC")" ]
    [ "$(blocks "$REC2")" = "$(blocks "$REC")" ]
    # the pause before the empty-id event is replayed (never early; late
    # only as much as a loaded machine makes it)
    local first second
    first=$(seconds "$REC" | cut -d' ' -f2)
    second=$(seconds "$REC2" | cut -d' ' -f2)
    python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if a >= 0.45 and b >= a - 0.02 else 1)" "$first" "$second" ||
        { echo "recorded pause $first s, replayed $second s" >&2; false; }
    # and read back by ssecat, both give the same events
    [ "$("$SSECAT" -o sse - <"$REC2")" = "$("$SSECAT" -o sse - <"$REC")" ]
}

@test "a recording cut by SIGKILL replays the events it holds" {
    start_sse_server '[{"chunks":["event: e\ndata: one\n\n","id: 2\ndata: two\ndata: lines\n\n","data: thr",{"sleep":20}]}]'
    start_bg "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" "$SSECAT" --no-reconnect -o sse --record "$REC" "$URL"
    local pid=$BG_PID
    wait_for_line "$BATS_TEST_TMPDIR/out" '^data: lines$' 10
    kill -KILL "$pid"
    wait_for_exit "$pid" 10
    start_replay --replay "$REC" --no-stdin
    run -0 timeout 20 "$SSECAT" --no-reconnect -o sse "$SURL/?replay=start"
    [ "$output" = "$(printf 'event: e\ndata: one\n\nid: 2\ndata: two\ndata: lines')" ]
}

# paced FILE: three events with ids a, b, c, recorded 0.6 s apart.
paced() {
    cat >"$1" <<'R'
: ssecat-recording=1
: t=0.000
id: a
data: at once

: t=0.600
id: b
data: 0.6 s in

: t=1.200
id: c
data: 1.2 s in

R
}

@test "npm eventsource gets a replay at its recorded pace: nothing early, in order, ids kept" {
    paced "$REC"
    start_replay --replay "$REC" --no-stdin
    run --separate-stderr -0 env ES_CLIENT_TIMES=1 ES_CLIENT_TIMEOUT_MS=$((20000 * SSETOOLS_WAIT_SCALE)) \
        timeout $((30 * SSETOOLS_WAIT_SCALE)) node "$TOP/tests/lib/es_client.mjs" "$SURL/?replay=start" 3
    printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/es.out"
    python3 - "$BATS_TEST_TMPDIR/es.out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert [(r["data"], r["lastEventId"]) for r in rows] == [("at once", "a"), ("0.6 s in", "b"), ("1.2 s in", "c")], rows
gaps = [rows[1]["ms"] - rows[0]["ms"], rows[2]["ms"] - rows[0]["ms"]]
print("gaps from the first event (ms):", gaps, file=sys.stderr)
assert gaps[0] >= 550 and gaps[1] >= 1150, gaps
PY
}

@test "Chromium's EventSource gets a replay at its recorded pace: nothing early, in order, ids kept" {
    [ -x /usr/bin/chromium ] || skip "chromium is not installed (make deps)"
    [ -d "$TOP/tests/node_modules/playwright-core" ] || skip "playwright-core is not installed (make deps)"
    paced "$REC"
    run timeout $((120 * SSETOOLS_WAIT_SCALE)) node "$TOP/tests/browser/replay_pace_test.mjs" "$SSED" "$(free_port)" "$REC"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"all checks passed"* ]]
}
