#!/usr/bin/env bats
# ssecat --record and -o record against the scripted test server: the
# recording's exact lines (man ssecat, RECORDING), its times, what it never
# holds, reconnects, a recording cut by SIGKILL, a full disk, and that the
# recording read back gives the events the URL gave.

bats_require_minimum_version 1.5.0
load lib/helpers
load lib/ssecat_helpers

setup() {
    [ -x "$SSECAT" ] || skip "ssecat is not built"
    OUT="$BATS_TEST_TMPDIR/out"
    ERR="$BATS_TEST_TMPDIR/err"
    REC="$BATS_TEST_TMPDIR/feed.rec"
}

teardown() {
    stop_all
}

# A stream with every kind of block: a type, ids (one empty), multi-line
# data with an empty line, a retry-only block, a retry inside an event,
# comments with and without a space, an id-only block (dispatches nothing,
# so not recorded), and an event that comes half a second late. Its headers
# hold secrets that a recording never keeps.
SCRIPT='[{"headers":{"Content-Type":"text/event-stream","Set-Cookie":"session=SECRET1","X-Ok":"yes",
  "authorization":"Bearer SECRET2","Proxy-Authorization":"Basic SECRET3","COOKIE":"c=SECRET4"},
  "chunks":["event: update\nid: 41\ndata: {\"a\":1}\ndata: second line\n\n",":keepalive\n: ping\n",
  "retry: 5000\n\n",{"sleep":0.5},"id:\ndata:\n\n","retry: 7000\ndata: hello\ndata:\ndata: x\n\n",
  "event: message\ndata: plain\n\nid: 9\n\ndata: last\n\n"]}]'

# What the recording of SCRIPT holds, with times as T and the start as S.
expected_recording() {
    cat <<EOF
: ssecat-recording=1
: url=http://127.0.0.1:$PORT/stream
: start=S
: status=200
: header=Content-Type: text/event-stream
: header=X-Ok: yes
: header=Connection: close
: t=T
event: update
id: 41
data: {"a":1}
data: second line

: t=T
: comment=keepalive
: t=T
: comment= ping
: t=T
retry: 5000

: t=T
id:
data:

: t=T
data: hello
data:
data: x
retry: 7000

: t=T
data: plain

: t=T
data: last

: end=stream ended
EOF
}

# normalized FILE: the recording with its times and start replaced by T and S.
normalized() {
    sed -E 's/^: t=[0-9]+\.[0-9]{3}$/: t=T/; s/^: start=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$/: start=S/' "$1"
}

# times_of FILE: the recording's times, one a line; fails unless every
# "t=" has three decimals and none is less than the one before.
times_of() {
    python3 - "$1" <<'PY'
import re, sys
last = -1.0
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith(": t="):
        m = re.fullmatch(r": t=(\d+\.\d{3})\n", line)
        assert m, "malformed time line %r" % line
        t = float(m.group(1))
        assert t >= last, "time went back: %s after %s" % (t, last)
        last = t
        print(m.group(1))
PY
}

@test "--record writes every block exactly: types, ids, empty id, multi-line data, retry blocks, comments" {
    start_sse_server "$SCRIPT"
    local secret_url="http://someone:SECRET5@127.0.0.1:$PORT/stream"
    run -0 timeout 20 "$SSECAT" --no-reconnect --comments -H 'Authorization: Bearer SECRET6' \
        --record "$REC" "$secret_url"
    [ "$(normalized "$REC")" = "$(expected_recording)" ]
    # Printed as usual meanwhile.
    [[ "$output" == *'{"a":1}'*keepalive*hello*last* ]]
    ! grep -q SECRET "$REC"
    [ "$(request 0 header authorization)" = "Bearer SECRET6" ] # it was sent, not recorded
}

@test "recorded times have three decimals, never decrease, and show a half-second delay" {
    start_sse_server "$SCRIPT"
    run -0 timeout 20 "$SSECAT" --no-reconnect -o data --comments --record "$REC" "$URL"
    run -0 times_of "$REC"
    [ "${#lines[@]}" -eq 8 ]
    # The 4th time is the retry block before the sleep, the 5th the event after it.
    python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(not (0.4 <= b - a < 30))" \
        "${lines[3]}" "${lines[4]}"
    python3 -c "import sys; sys.exit(not float(sys.argv[1]) < 30)" "${lines[0]}"
}

@test "without --comments no comment is recorded; the file is mode 0600 and truncated" {
    start_sse_server "$SCRIPT"
    (umask 022 && timeout 20 "$SSECAT" --no-reconnect --record "$REC" "$URL" >"$OUT")
    # Each comment and the time before it gone (uniq: the times are all T).
    [ "$(normalized "$REC")" = "$(expected_recording | grep -v '^: comment=' | uniq)" ]
    [ "$(stat -c %a "$REC")" = 600 ]
    # An existing file is truncated, not appended to.
    head -c 100000 /dev/zero | tr '\0' x >"$REC"
    timeout 20 "$SSECAT" --no-reconnect --record "$REC" "$URL" >"$OUT"
    ! grep -q xxx "$REC"
    [ "$(head -1 "$REC")" = ": ssecat-recording=1" ]
}

@test "-o record writes to stdout what --record writes to its file, and nothing else" {
    start_sse_server "$SCRIPT"
    timeout 20 "$SSECAT" --no-reconnect --comments --record "$REC" "$URL" >/dev/null
    timeout 20 "$SSECAT" --no-reconnect --comments -o record "$URL" >"$OUT"
    [ "$(normalized "$OUT")" = "$(normalized "$REC")" ]
    [ "$(normalized "$OUT")" = "$(expected_recording)" ]
}

@test "a reconnect is marked with its number and the new response's status and headers" {
    start_sse_server '[{"chunks":["id: 1\ndata: a\n\n"]},{"headers":{"Content-Type":"text/event-stream; charset=utf-8"},"chunks":["data: b\n\n"]}]'
    run -0 timeout 20 "$SSECAT" -s -n 2 --retry-delay 10ms --record "$REC" "$URL"
    [ "$output" = "$(printf 'a\nb')" ]
    [ "$(request 1 header last-event-id)" = "1" ]
    [ "$(normalized "$REC")" = "$(cat <<EOF
: ssecat-recording=1
: url=$URL
: start=S
: status=200
: header=Content-Type: text/event-stream
: header=Connection: close
: t=T
id: 1
data: a

: t=T
: reconnect=1
: status=200
: header=Content-Type: text/event-stream; charset=utf-8
: header=Connection: close
: t=T
data: b

: end=done
EOF
)" ]
    run -0 times_of "$REC"
}

@test "a recording cut by SIGKILL holds every event printed, each block whole, and reads back" {
    start_sse_server '[{"chunks":["event: e\ndata: one\n\n","data: two\ndata: lines\n\n",
        "retry: 100\n\n","data: thr",{"sleep":20}]}]'
    start_bg "$OUT" "$ERR" "$SSECAT" --no-reconnect -o sse --record "$REC" "$URL"
    local pid=$BG_PID
    wait_for_line "$OUT" '^data: lines$' 10
    kill -KILL "$pid"
    wait_for_exit "$pid" 10
    [ "$EXIT_STATUS" -eq 137 ]
    ! grep -q '^: end=' "$REC"
    [ "$(tail -c 2 "$REC" | od -An -c | tr -d ' ')" = '\n\n' ]
    ! grep -q thr "$REC"
    run -0 timeout 10 "$SSECAT" -o sse - <"$REC"
    [ "$output" = "$(cat "$OUT")" ]
    [ "$output" = "$(printf 'event: e\ndata: one\n\ndata: two\ndata: lines')" ]
}

@test "a recording that cannot be written ends ssecat with status 1, naming the file" {
    [ -w /dev/full ] || skip "no /dev/full"
    start_sse_server "$SCRIPT"
    run -1 timeout 20 "$SSECAT" --no-reconnect --record /dev/full "$URL"
    [[ "$output" == *"/dev/full"*"No space left on device"* ]]
    run -1 timeout 20 "$SSECAT" --no-reconnect --record "$BATS_TEST_TMPDIR/no/such/dir/x.rec" "$URL"
    [[ "$output" == *"no/such/dir/x.rec: No such file or directory"* ]]
    # -o record to a full stdout fails the same way.
    run -1 sh -c 'timeout 20 "$0" --no-reconnect -o record "$1" 2>&1 >/dev/full' "$SSECAT" "$URL"
    [[ "$output" == *"standard output: No space left on device"* ]]
}

@test "--record - and recording a captured stream are usage errors" {
    run -2 "$SSECAT" --record - http://127.0.0.1:1/stream
    [[ "$output" == *"--record -"*"-o record"* ]]
    run -2 "$SSECAT" --record "$REC" -o record http://127.0.0.1:1/stream
    [[ "$output" == *"cannot be used together"* ]]
    run -2 "$SSECAT" --record "$REC" - </dev/null
    [[ "$output" == *"not a captured one"* ]]
    run -2 "$SSECAT" -o record --input /dev/null
    [[ "$output" == *"not a captured one"* ]]
    [ ! -e "$REC" ]
}

@test "round trip: the recording read back with -o sse gives what -o sse gave from the URL" {
    # Without the id-only block, which the format (version 1) does not keep:
    # -o sse passes its id on with the next event.
    start_sse_server "${SCRIPT/id: 9\\n\\n/}"
    timeout 20 "$SSECAT" --no-reconnect -o sse --record "$REC" "$URL" >"$OUT"
    timeout 20 "$SSECAT" --no-reconnect -o sse "$URL" >"$BATS_TEST_TMPDIR/live.sse"
    run -0 timeout 10 "$SSECAT" -o sse - <"$REC"
    [ -n "$output" ]
    [ "$output" = "$(cat "$BATS_TEST_TMPDIR/live.sse")" ]
    [ "$output" = "$(cat "$OUT")" ]
    # And as JSON, types, ids and data alike (the times aside).
    timeout 20 "$SSECAT" --no-reconnect -o json "$URL" >"$BATS_TEST_TMPDIR/live.json"
    timeout 10 "$SSECAT" -o json --input "$REC" >"$BATS_TEST_TMPDIR/replay.json"
    [ "$(events_of "$BATS_TEST_TMPDIR/replay.json")" = "$(events_of "$BATS_TEST_TMPDIR/live.json")" ]
}

@test "a failed attempt is recorded as error= without the URL's credentials, and the end says why" {
    local port
    port=$(free_port)
    run -4 timeout 20 "$SSECAT" -s --retry-connrefused --max-retries 1 --retry-delay 10ms \
        --record "$REC" "http://someone:SECRET7@127.0.0.1:$port/x"
    [ "$(normalized "$REC")" = "$(cat <<EOF
: ssecat-recording=1
: url=http://127.0.0.1:$port/x
: start=S
: t=T
: error=connect http://127.0.0.1:$port/x: Connection refused
: t=T
: error=connect http://127.0.0.1:$port/x: Connection refused
: end=connection failed
EOF
)" ]
    [[ "$output" == *SECRET7* ]] # on stderr, as ever; never in the recording
    ! grep -q SECRET "$REC"
}

@test "Ctrl-C and SIGTERM end the recording cleanly with end=interrupted" {
    start_sse_server '[{"chunks":["data: one\n\n",{"sleep":20}]}]'
    local sig pid
    for sig in INT TERM; do
        start_bg "$OUT" "$ERR" "$SSECAT" --no-reconnect --record "$REC" "$URL"
        pid=$BG_PID
        wait_for_line "$OUT" '^one$' 10
        kill -"$sig" "$pid"
        wait_for_exit "$pid" 10
        [ "$EXIT_STATUS" -eq 0 ]
        [ "$(tail -1 "$REC")" = ": end=interrupted" ]
        [ "$(timeout 10 "$SSECAT" - <"$REC")" = "one" ]
    done
}

@test "-o record on a terminal shows the stream's control characters in caret notation" {
    start_sse_server '[{"chunks":["data: \u001b]0;owned\u0007 x\n\n"]}]'
    python3 - "$SSECAT" "$URL" "$OUT" <<'PY'
import os, pty, select, subprocess, sys
master, slave = pty.openpty()
p = subprocess.Popen([sys.argv[1], "--no-reconnect", "-o", "record", sys.argv[2]],
                     stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.DEVNULL)
os.close(slave)
got = b""
while True:
    ready, _, _ = select.select([master], [], [], 20)
    if not ready:
        break
    try:
        chunk = os.read(master, 65536)
    except OSError:
        chunk = b""
    if not chunk:
        break
    got += chunk
p.wait(timeout=20)
open(sys.argv[3], "wb").write(got)
PY
    grep -q '^data: ^\[\]0;owned^G x' "$OUT"
    ! grep -q $'\x1b' "$OUT"
}
