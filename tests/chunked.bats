#!/usr/bin/env bats
# How ssed frames an event stream (issue 30): chunked to HTTP/1.1 clients,
# one chunk per write, so that clients which read a close-delimited body in
# blocks (Python requests' iter_lines) see each event as it comes; close-
# delimited to HTTP/1.0 clients; ended by the last chunk when ssed ends it.
# The raw clients decode the chunks strictly (tests/lib/chunked_body.py).

load lib/helpers

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
}

@test "chunked: Python requests iter_lines() with its defaults gets each event before the next is published" {
    python3 -c 'import requests' 2>/dev/null || skip "python3-requests is not installed"
    start_ssed --keepalive 0
    start_bg "$BATS_TEST_TMPDIR/py" "$BATS_TEST_TMPDIR/py.err" \
        python3 "$TOP/tests/lib/requests_lines.py" "$URL/" 120
    wait_for_line "$BATS_TEST_TMPDIR/py" '^streaming$' 10
    wait_for_stat subscribers -ge 1
    grep -qx 'transfer-encoding chunked' "$BATS_TEST_TMPDIR/py"
    # Lockstep: each event must come out of iter_lines() before the next
    # is published. Close-delimited, requests waits for
    # 512 bytes and yields none of these small events at all.
    local i
    for i in 1 2 3 4 5; do
        echo "$(date +%s%3N) event-$i" >&8
        wait_for_line "$BATS_TEST_TMPDIR/py" "^data [0-9]+ event-$i -?[0-9]+\$" 5
    done
    # The delay from publish to iter_lines(), for the record (a loaded
    # machine stretches it; the lockstep above is what is asserted).
    echo "requests delays (ms): $(awk '/^data /{print $4}' "$BATS_TEST_TMPDIR/py" | tr '\n' ' ')" >&3
}

@test "chunked: curl and npm eventsource still get every event; curl is told Transfer-Encoding: chunked" {
    start_ssed --keepalive 0
    subscribe curl / -D "$BATS_TEST_TMPDIR/curl.head"
    local es_pid=
    if [ -d "$TOP/tests/node_modules/eventsource" ]; then
        start_bg "$BATS_TEST_TMPDIR/es" "$BATS_TEST_TMPDIR/es.err" \
            env ES_CLIENT_TIMEOUT_MS=$((20000 * SSETOOLS_WAIT_SCALE)) node "$TOP/tests/lib/es_client.mjs" "$URL/" 3
        es_pid=$BG_PID
        wait_for_stat subscribers -ge 2
    fi
    grep -qi '^transfer-encoding: chunked' "$BATS_TEST_TMPDIR/curl.head"
    printf 'one\ntwo\nthree\n' >&8
    wait_for_data "$BATS_TEST_TMPDIR/curl" 3
    [ "$(data_of "$BATS_TEST_TMPDIR/curl")" = $'one\ntwo\nthree' ]
    if [ -n "$es_pid" ]; then
        wait_for_exit "$es_pid" 30
        cat "$BATS_TEST_TMPDIR/es" "$BATS_TEST_TMPDIR/es.err"
        [ "$EXIT_STATUS" -eq 0 ]
        [ "$(python3 -c 'import json,sys; print(" ".join(json.loads(l)["data"] for l in sys.stdin))' <"$BATS_TEST_TMPDIR/es")" = "one two three" ]
    fi
}

@test "chunked: an HTTP/1.0 request gets no Transfer-Encoding and a body that ends with the connection; HTTP/1.1 ends with the last chunk" {
    start_ssed --keepalive 0
    start_bg "$BATS_TEST_TMPDIR/old" "$BATS_TEST_TMPDIR/old.err" \
        python3 "$TOP/tests/lib/raw_stream.py" "$PORT" / --http10 --raw "$BATS_TEST_TMPDIR/old.raw"
    local old=$BG_PID
    start_bg "$BATS_TEST_TMPDIR/new" "$BATS_TEST_TMPDIR/new.err" \
        python3 "$TOP/tests/lib/raw_stream.py" "$PORT" / --raw "$BATS_TEST_TMPDIR/new.raw"
    local new=$BG_PID
    wait_for_line "$BATS_TEST_TMPDIR/old" '^streaming$' 10
    wait_for_line "$BATS_TEST_TMPDIR/new" '^streaming$' 10
    wait_for_stat subscribers -ge 2
    printf 'a\nb\n' >&8
    wait_for_line "$BATS_TEST_TMPDIR/old" '^line data: b$' 10
    wait_for_line "$BATS_TEST_TMPDIR/new" '^line data: b$' 10
    kill -TERM "$SSED_PID"
    wait_for_exit "$old" 30
    wait_for_exit "$new" 30
    cat "$BATS_TEST_TMPDIR/old" "$BATS_TEST_TMPDIR/new"
    grep -qx 'framing close' "$BATS_TEST_TMPDIR/old"
    grep -qx 'end close' "$BATS_TEST_TMPDIR/old"
    ! grep -qi '^transfer-encoding' "$BATS_TEST_TMPDIR/old.raw"
    # Nothing but the events after the head: no chunk framing at all.
    python3 -c 'import sys
raw = open(sys.argv[1], "rb").read()
body = raw.split(b"\r\n\r\n", 1)[1]
sys.exit(1 if b"\r" in body else 0)' "$BATS_TEST_TMPDIR/old.raw"
    grep -qx 'framing chunked' "$BATS_TEST_TMPDIR/new"
    grep -qx 'end last-chunk' "$BATS_TEST_TMPDIR/new"
    [ "$(grep '^line data:' "$BATS_TEST_TMPDIR/new")" = $'line data: a\nline data: b' ]
}

@test "chunked: a subscriber that reads a few bytes at a time from a small buffer gets a byte-exact chunked stream of every event" {
    start_ssed --keepalive 0 --max-pending 64MiB
    start_bg "$BATS_TEST_TMPDIR/slow" "$BATS_TEST_TMPDIR/slow.err" \
        python3 "$TOP/tests/lib/raw_stream.py" "$PORT" / --rcvbuf 4096 --read 61 --seconds 120 \
        --data "$BATS_TEST_TMPDIR/slow.data"
    local slow=$BG_PID
    wait_for_line "$BATS_TEST_TMPDIR/slow" '^streaming$' 10
    wait_for_stat subscribers -ge 1
    # 3 MB to a 4 KiB receive buffer: ssed's writes stop short inside
    # chunks' size lines, bodies and CRLFs.
    python3 -c 'import sys
for i in range(3000): sys.stdout.write("%d %s\n" % (i, "y" * 1000))' >&8
    wait_for_line "$BATS_TEST_TMPDIR/slow" '^data 3000$' 60
    kill -TERM "$SSED_PID"
    wait_for_exit "$slow" 60
    grep -v '^data ' "$BATS_TEST_TMPDIR/slow"
    grep -qx 'framing chunked' "$BATS_TEST_TMPDIR/slow"
    grep -qx 'end last-chunk' "$BATS_TEST_TMPDIR/slow"
    python3 -c 'import sys
data = open(sys.argv[1]).read().split("\n")[:-1]
want = ["%d %s" % (i, "y" * 1000) for i in range(3000)]
sys.exit(0 if data == want else "events differ: %d of 3000" % len(data))' "$BATS_TEST_TMPDIR/slow.data"
}

@test "chunked: a stream whose token expires ends with ': token expired' and then the last chunk" {
    [[ "$("$SSED" --jwt-secret-file /dev/null 2>&1)" != *"built without JWT support"* ]] || skip "this ssed was built without JWT support (make JWT=0)"
    load lib/jwt_helpers
    head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$BATS_TEST_TMPDIR/secret"
    start_ssed --jwt-secret-file "$BATS_TEST_TMPDIR/secret" --jwt-leeway 0 --keepalive 0 --channel a
    local token
    token=$(jwt_mint HS256 "$BATS_TEST_TMPDIR/secret" "{\"exp\":$(now_plus $((2 + 2 * SSETOOLS_WAIT_SCALE))),\"ssed\":{\"subscribe\":[\"a\"]}}")
    start_bg "$BATS_TEST_TMPDIR/sub" "$BATS_TEST_TMPDIR/sub.err" \
        python3 "$TOP/tests/lib/raw_stream.py" "$PORT" /a --header "Authorization: Bearer $token" \
        --raw "$BATS_TEST_TMPDIR/sub.raw"
    local sub=$BG_PID
    wait_for_line "$BATS_TEST_TMPDIR/sub" '^streaming$' 10
    echo before >&8
    wait_for_line "$BATS_TEST_TMPDIR/sub" '^line data: before$' 10
    wait_for_exit "$sub" 30
    cat "$BATS_TEST_TMPDIR/sub"
    grep -qx 'line : token expired' "$BATS_TEST_TMPDIR/sub"
    grep -qx 'end last-chunk' "$BATS_TEST_TMPDIR/sub"
    # The notice, its chunk's CRLF, the last chunk, and the connection's end.
    python3 -c 'import sys
raw = open(sys.argv[1], "rb").read()
sys.exit(0 if raw.endswith(b": token expired\n\n\r\n0\r\n\r\n") else "ends %r" % raw[-40:])' "$BATS_TEST_TMPDIR/sub.raw"
    kill -0 "$SSED_PID"
}
