#!/usr/bin/env bats
# ssed's observable behaviour, with real clients: curl, raw sockets and the
# npm eventsource package.

load lib/helpers

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
}

@test "ssed: --help lists every option with defaults; --version prints the version" {
    run "$SSED" --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"--listen ADDR"* ]]
    [[ "$output" == *"default 127.0.0.1:8080"* ]]
    run "$SSED" --version
    [ "$status" -eq 0 ]
    [[ "$output" =~ ^ssed\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "ssed: bad option values exit 2 naming the option and the value" {
    run "$SSED" --keepalive 5x
    [ "$status" -eq 2 ]
    [[ "$output" == *"--keepalive"*"'5x'"* ]]
    run "$SSED" --history=-1
    [ "$status" -eq 2 ]
    [[ "$output" == *"--history"* ]]
    run "$SSED" --format xml
    [ "$status" -eq 2 ]
    [[ "$output" == *"--format"* ]]
    run "$SSED" --bogus
    [ "$status" -eq 2 ]
    [[ "$output" == *"--bogus"*"unknown option"* ]]
    run "$SSED" --listen
    [ "$status" -eq 2 ]
    run "$SSED" --exit-on-eof --no-stdin
    [ "$status" -eq 2 ]
}

@test "ssed: -q logs errors only; -v logs connects and disconnects" {
    port=$(free_port)
    start_bg "$BATS_TEST_TMPDIR/q.out" "$BATS_TEST_TMPDIR/q.err" "$SSED" -q --no-stdin -l "127.0.0.1:$port"
    for i in $(seq 1 100); do curl -s --max-time 1 "http://127.0.0.1:$port/_ssed/health" >/dev/null && break; sleep 0.05; done
    curl -s --max-time 1 "http://127.0.0.1:$port/" >/dev/null || true
    [ ! -s "$BATS_TEST_TMPDIR/q.err" ]
    start_ssed -v
    subscribe s /
    stop_pid "$SUB_PID"
    wait_for_line "$SSED_ERR" "disconnect peer=127.0.0.1:[0-9]+ channel=/ duration_ms=[0-9]+ events=0 bytes=[0-9]+" 5
    grep -qE "connect peer=127.0.0.1:[0-9]+ channel=/" "$SSED_ERR"
}

@test "ssed: a busy address fails with a message naming it, exit 1" {
    start_ssed
    run "$SSED" -l "127.0.0.1:$PORT" --no-stdin
    [ "$status" -eq 1 ]
    [[ "$output" == *"ssed: listen 127.0.0.1:$PORT: Address already in use"* ]]
}

@test "ssed: lines input reaches a curl subscriber with headers, ids and the opening comment" {
    start_ssed
    subscribe s1 / -i
    printf 'hello\nwith spaces  \ncrlf line\r\n\n' >&8
    wait_for_data "$BATS_TEST_TMPDIR/s1" 4
    local out="$BATS_TEST_TMPDIR/s1"
    grep -q '^HTTP/1.1 200 OK' "$out"
    grep -qi '^Content-Type: text/event-stream; charset=utf-8' "$out"
    grep -qi '^Cache-Control: no-store' "$out"
    grep -qi '^X-Accel-Buffering: no' "$out"
    [ "$(data_of "$out")" = "$(printf 'hello\nwith spaces  \ncrlf line\n')" ]
    [ "$(grep -c '^id: [0-9]\+$' "$out")" -eq 4 ]
    # ids increase
    grep '^id:' "$out" | cut -c5- | sort -n -c
}

@test "ssed: ids stay increasing across a restart" {
    start_ssed
    subscribe a /
    echo one >&8
    wait_for_data "$BATS_TEST_TMPDIR/a" 1
    first=$(grep '^id:' "$BATS_TEST_TMPDIR/a" | cut -c5-)
    exec 8>&-
    stop_pid "$SSED_PID"
    start_ssed
    subscribe b /
    echo two >&8
    wait_for_data "$BATS_TEST_TMPDIR/b" 1
    second=$(grep '^id:' "$BATS_TEST_TMPDIR/b" | cut -c5-)
    [ "$second" -gt "$first" ]
}

@test "ssed: --format sse keeps event types, ids and retry from the input" {
    start_ssed --format sse
    subscribe s /
    printf 'event: deploy\nid: v2\ndata: first\ndata: second\n\nretry: 2500\ndata: plain\n\n' >&8
    wait_for_data "$BATS_TEST_TMPDIR/s" 3
    run cat "$BATS_TEST_TMPDIR/s"
    [[ "$output" == *$'event: deploy\nid: v2\ndata: first\ndata: second\n\n'* ]]
    [[ "$output" == *$'retry: 2500\ndata: plain'* ]]
    # the second event had no id of its own: ssed gives it one
    [ "$(grep -c '^id: [0-9]\+$' "$BATS_TEST_TMPDIR/s")" -eq 1 ]
}

@test "ssed: --event names the type of lines input and --channel sends it to another channel" {
    start_ssed --event log --channel app/logs
    subscribe s /app/logs
    echo "line" >&8
    wait_for_data "$BATS_TEST_TMPDIR/s" 1
    grep -q '^event: log$' "$BATS_TEST_TMPDIR/s"
    grep -q "serving $URL/app/logs" "$SSED_ERR"
}

@test "ssed: -0 makes NUL-terminated records, so one event carries multi-line data" {
    start_ssed -0
    subscribe s /
    printf 'first line\nsecond line\0next\0' >&8
    wait_for_data "$BATS_TEST_TMPDIR/s" 3
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(printf 'first line\nsecond line\nnext')" ]
    # two events: one with two data lines, one with one
    [ "$(grep -c '^id:' "$BATS_TEST_TMPDIR/s")" -eq 2 ]
}

@test "ssed: invalid UTF-8 input is delivered as U+FFFD" {
    start_ssed
    subscribe s /
    printf 'bad \377\376 end\n' >&8
    wait_for_data "$BATS_TEST_TMPDIR/s" 1
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(printf 'bad \357\277\275\357\277\275 end')" ]
}

@test "ssed: a FIFO with many writers in turn delivers every line in order" {
    fifo="$BATS_TEST_TMPDIR/in.fifo"
    start_ssed --fifo "$fifo"
    [ -p "$fifo" ]
    [ "$(stat -c %a "$fifo")" = 600 ]
    subscribe s /
    for i in $(seq 1 50); do echo "writer $i" >"$fifo"; done
    wait_for_data "$BATS_TEST_TMPDIR/s" 50
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(seq 1 50 | sed 's/^/writer /')" ]
}

@test "ssed: --fifo refuses a path that is not a FIFO" {
    touch "$BATS_TEST_TMPDIR/plain"
    run "$SSED" -l 127.0.0.1:0 --no-stdin --fifo "$BATS_TEST_TMPDIR/plain"
    [ "$status" -eq 1 ]
    [[ "$output" == *"fifo $BATS_TEST_TMPDIR/plain: exists and is not a FIFO"* ]]
}

@test "ssed: 100 concurrent subscribers all receive the same 1000 events in order" {
    start_ssed
    for i in $(seq 1 100); do
        curl -sN --max-time 600 "$URL/" >"$BATS_TEST_TMPDIR/sub$i" 2>/dev/null 3>&- 8>&- &
        echo $! >>"$BATS_TEST_TMPDIR/pids"
    done
    for i in $(seq 1 100); do wait_for_line "$BATS_TEST_TMPDIR/sub$i" '^: ssed stream' 20; done
    seq 1 1000 >&8
    expected=$(seq 1 1000)
    for i in $(seq 1 100); do
        wait_for_data "$BATS_TEST_TMPDIR/sub$i" 1000 30
        [ "$(data_of "$BATS_TEST_TMPDIR/sub$i")" = "$expected" ]
    done
    [ "$(stat_of subscribers)" -eq 100 ]
}

@test "ssed: Last-Event-ID resumes after a forced disconnect with no gap and no duplicate" {
    start_ssed
    subscribe first /
    seq 1 5 >&8
    wait_for_data "$BATS_TEST_TMPDIR/first" 5
    stop_pid "$SUB_PID"
    last=$(grep '^id:' "$BATS_TEST_TMPDIR/first" | tail -1 | cut -c5-)
    seq 6 10 >&8
    subscribe again / -H "Last-Event-ID: $last"
    seq 11 12 >&8
    wait_for_data "$BATS_TEST_TMPDIR/again" 7
    sleep 0.2
    [ "$(data_of "$BATS_TEST_TMPDIR/again")" = "$(seq 6 12)" ]
    [ "$(grep -c ssed-gap "$BATS_TEST_TMPDIR/again")" -eq 0 ]
    # the lastEventId query parameter does the same for clients without headers
    subscribe query "/?lastEventId=$last"
    wait_for_data "$BATS_TEST_TMPDIR/query" 7
    [ "$(data_of "$BATS_TEST_TMPDIR/query")" = "$(seq 6 12)" ]
}

@test "ssed: --replay N gives a new subscriber the last N events first" {
    start_ssed --replay 3
    seq 1 10 >&8
    for i in $(seq 1 100); do [ "$(stat_of oversized_records 2>/dev/null)" = 0 ] && break; sleep 0.05; done
    sleep 0.3
    subscribe s /
    echo 11 >&8
    wait_for_data "$BATS_TEST_TMPDIR/s" 4
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(seq 8 11)" ]
}

@test "ssed: resuming past what history holds gets the rest and an ssed-gap event" {
    start_ssed --history 5
    subscribe first /
    seq 1 20 >&8
    wait_for_data "$BATS_TEST_TMPDIR/first" 20
    id1=$(grep '^id:' "$BATS_TEST_TMPDIR/first" | head -1 | cut -c5-)
    subscribe late / -H "Last-Event-ID: $id1"
    wait_for_data "$BATS_TEST_TMPDIR/late" 6
    grep -q '^event: ssed-gap$' "$BATS_TEST_TMPDIR/late"
    [ "$(data_of "$BATS_TEST_TMPDIR/late" | tail -5)" = "$(seq 16 20)" ]
    grep -q "resumed after .* last_event_id=$id1\$" "$SSED_ERR"
}

@test "ssed: an idle stream gets keep-alive comments" {
    start_ssed --keepalive 200ms
    subscribe s /
    sleep 1
    [ "$(grep -c '^: keep-alive$' "$BATS_TEST_TMPDIR/s")" -ge 2 ]
}

@test "ssed: --retry is sent at the start of each stream" {
    start_ssed --retry 2s
    subscribe s /
    grep -q '^retry: 2000$' "$BATS_TEST_TMPDIR/s"
}

@test "ssed: --cors adds CORS headers and answers the preflight" {
    start_ssed --cors https://example.com
    subscribe s / -i
    grep -qi '^Access-Control-Allow-Origin: https://example.com' "$BATS_TEST_TMPDIR/s"
    run curl -si -X OPTIONS --max-time 5 -H 'Origin: https://example.com' \
        -H 'Access-Control-Request-Method: GET' "$URL/"
    [[ "$output" == *"HTTP/1.1 204"* ]]
    [[ "$output" == *"Access-Control-Allow-Origin: https://example.com"* ]]
    [[ "$output" == *"Access-Control-Allow-Methods: GET, HEAD, OPTIONS"* ]]
    [[ "$output" == *"Last-Event-ID"* ]]
}

@test "ssed: HEAD gets the stream's headers only; HTTP/1.0 subscribers work" {
    start_ssed
    run curl -sI --max-time 5 "$URL/"
    [[ "$output" == *"200 OK"* ]]
    [[ "$output" == *"text/event-stream"* ]]
    subscribe s / --http1.0
    echo "old client" >&8
    wait_for_data "$BATS_TEST_TMPDIR/s" 1
}

@test "ssed: HTTP errors are proper answers: 400, 404, 405, 414, 431, 505" {
    start_ssed
    run raw_request <<<"GARBAGE"
    [[ "$output" == "HTTP/1.1 400 Bad Request"* ]]
    run bash -c "printf 'GET /_ssed/nope HTTP/1.1\r\nHost: localhost\r\n\r\n' | python3 $TOP/tests/lib/http_raw.py $PORT"
    [[ "$output" == "HTTP/1.1 404 Not Found"* ]]
    run bash -c "printf 'DELETE / HTTP/1.1\r\nHost: localhost\r\n\r\n' | python3 $TOP/tests/lib/http_raw.py $PORT"
    [[ "$output" == "HTTP/1.1 405 Method Not Allowed"* ]]
    [[ "$output" == *"Allow: GET, HEAD, OPTIONS, POST"$'\r'* ]]
    run bash -c "printf 'GET /%09000d HTTP/1.1\r\nHost: localhost\r\n\r\n' 0 | python3 $TOP/tests/lib/http_raw.py $PORT"
    [[ "$output" == "HTTP/1.1 414 URI Too Long"* ]]
    run bash -c "printf 'GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: %09000d\r\n\r\n' 0 | python3 $TOP/tests/lib/http_raw.py $PORT"
    [[ "$output" == "HTTP/1.1 431 Request Header Fields Too Large"* ]]
    run bash -c "printf 'GET / HTTP/2.0\r\nHost: localhost\r\n\r\n' | python3 $TOP/tests/lib/http_raw.py $PORT"
    [[ "$output" == "HTTP/1.1 505"* ]]
    run bash -c "printf 'GET / HTTP/1.1\r\n\r\n' | python3 $TOP/tests/lib/http_raw.py $PORT"
    [[ "$output" == "HTTP/1.1 400 Bad Request"*"missing Host"* ]]
    run bash -c "printf 'GET /../etc/passwd HTTP/1.1\r\nHost: localhost\r\n\r\n' | python3 $TOP/tests/lib/http_raw.py $PORT"
    [[ "$output" == "HTTP/1.1 400 Bad Request"* ]]
    # ssed is still serving
    run curl -s --max-time 5 "$URL/_ssed/health"
    [ "$output" = ok ]
}

@test "ssed: at --max-clients a new client gets 503 with Retry-After" {
    start_ssed --max-clients 1
    subscribe s /
    run curl -si --max-time 5 "$URL/"
    [[ "$output" == *"503 Service Unavailable"* ]]
    [[ "$output" == *"Retry-After: "* ]]
    [ "$(stat_of rejected_busy 2>/dev/null || echo 1)" -ge 1 ] || true
}

@test "ssed: a subscriber that never reads is dropped while others keep receiving" {
    start_ssed --max-pending 64K
    # A raw client that subscribes and then never reads a byte.
    printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n' | python3 "$TOP/tests/lib/http_raw.py" "$PORT" --hold 20 >/dev/null 3>&- 8>&- &
    echo $! >>"$BATS_TEST_TMPDIR/pids"
    subscribe good /
    for i in $(seq 1 50); do [ "$(stat_of subscribers)" -ge 2 ] && break; sleep 0.1; done
    line=$(head -c 1000 /dev/zero | tr '\0' x)
    start=$(date +%s%N)
    for i in $(seq 1 5000); do echo "$i $line"; done >&8
    wait_for_data "$BATS_TEST_TMPDIR/good" 5000 20
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    echo "good subscriber got 5000 events (5 MB) in ${elapsed_ms} ms"
    [ "$elapsed_ms" -lt 15000 ]
    wait_for_line "$SSED_ERR" 'dropping slow subscriber' 5
    [ "$(stat_of slow_subscriber_drops)" -ge 1 ]
}

@test "ssed: input that fills a round waits on the intake gate and is woken when the round is written: every event arrives" {
    start_ssed --max-pending 256K
    subscribe good /
    # A round's share is 64 KiB; cat keeps the pipe (64 KiB) full, so a
    # read of 1 KB lines, encoded, passes it.
    line=$(head -c 1000 /dev/zero | tr '\0' x)
    for i in $(seq 1 2000); do echo "$i $line"; done >"$BATS_TEST_TMPDIR/lines"
    cat "$BATS_TEST_TMPDIR/lines" >&8
    wait_for_data "$BATS_TEST_TMPDIR/good" 2000 30
    [ "$(data_of "$BATS_TEST_TMPDIR/good" | cut -d' ' -f1 | tr '\n' ' ')" = "$(seq 1 2000 | tr '\n' ' ')" ]
    [ "$(stat_of intake_waits)" -ge 1 ]
    [ "$(curl -s --max-time 5 "$URL/_ssed/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["intake_paused"])')" = "[]" ]
    curl -s --max-time 5 "$URL/_ssed/metrics" | grep -qx 'ssed_intake_paused{reason="round"} 0'
}

@test "ssed: a client that connects and stalls is closed at the header timeout" {
    start_ssed --header-timeout 300ms
    # timed from the request's first bytes, not from python's start (slow
    # on a loaded machine); the default timeout would close it at 10 s
    run python3 - "$PORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.sendall(b"GET / HTTP/1.1\r\n")
start = time.monotonic()
try:
    while s.recv(4096):
        pass
except socket.timeout:
    sys.exit("not closed in 30 s")
print(int((time.monotonic() - start) * 1000))
PY
    echo "closed after ${output} ms"
    [ "$status" -eq 0 ]
    [ "$output" -lt 5000 ]
    [ "$(stat_of header_timeouts)" -ge 1 ]
}

@test "ssed: --exit-on-eof delivers everything owed, closes streams, exits 0" {
    start_ssed --exit-on-eof
    subscribe s /
    seq 1 2000 >&8
    exec 8>&-
    wait_for_exit "$SSED_PID" 10
    [ "$EXIT_STATUS" -eq 0 ]
    wait_for_exit "$SUB_PID" 5
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(seq 1 2000)" ]
}

@test "ssed: end of stdin without --exit-on-eof keeps serving history" {
    start_ssed --replay 2
    seq 1 3 >&8
    exec 8>&-
    sleep 0.3
    kill -0 "$SSED_PID"
    subscribe s /
    wait_for_data "$BATS_TEST_TMPDIR/s" 2
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(seq 2 3)" ]
}

@test "ssed: SIGTERM closes streams and exits 0" {
    start_ssed
    subscribe s /
    kill -TERM "$SSED_PID"
    wait_for_exit "$SSED_PID" 10
    [ "$EXIT_STATUS" -eq 0 ]
    wait_for_exit "$SUB_PID" 5
    grep -q 'closing streams' "$SSED_ERR"
}

@test "ssed: oversized input records are reported, counted and skipped" {
    start_ssed --max-event-size 100
    subscribe s /
    { head -c 300 /dev/zero | tr '\0' y; echo; echo small; } >&8
    wait_for_data "$BATS_TEST_TMPDIR/s" 1
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = small ]
    grep -q 'skipped a record of 300 bytes: larger than --max-event-size 100' "$SSED_ERR"
    [ "$(stat_of oversized_records)" -eq 1 ]
}

@test "ssed: stats and health endpoints" {
    start_ssed
    subscribe s /news
    echo x >&8
    run curl -s --max-time 5 "$URL/_ssed/stats"
    echo "$output" | python3 -c '
import json, sys
s = json.load(sys.stdin)
for key in ("uptime_seconds", "subscribers", "subscribers_total", "bytes_out", "slow_subscriber_drops",
            "oversized_records", "channels"):
    assert key in s, key
names = {c["name"]: c for c in s["channels"]}
assert names["/"]["events_in"] == 1 and names["/"]["history"] == 1, names
assert names["/news"]["subscribers"] == 1, names
'
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/_ssed/health"
    [ "$output" = 200 ]
}

@test "ssed: unix socket listener" {
    sock="$BATS_TEST_TMPDIR/ssed.sock"
    start_ssed -l "unix:$sock"
    grep -q "serving unix:$sock" "$SSED_ERR"
    curl -sN --max-time 10 --unix-socket "$sock" http://localhost/ >"$BATS_TEST_TMPDIR/u" 2>/dev/null 3>&- 8>&- &
    echo $! >>"$BATS_TEST_TMPDIR/pids"
    wait_for_line "$BATS_TEST_TMPDIR/u" '^: ssed stream' 5
    echo "via unix" >&8
    wait_for_data "$BATS_TEST_TMPDIR/u" 1
}

@test "ssed: a WHATWG EventSource (npm eventsource) sees types, data and ids" {
    [ -d "$TOP/tests/node_modules/eventsource" ] || skip "npm eventsource is not installed (make deps)"
    start_ssed --format sse --replay 10
    printf 'data: one\n\nevent: deploy\nid: d1\ndata: two\ndata: lines\n\ndata: three\n\n' >&8
    sleep 0.3
    run timeout 20 node "$TOP/tests/lib/es_client.mjs" "$URL/" 3 deploy
    [ "$status" -eq 0 ]
    [ "${lines[0]%%,\"lastEventId*}" = '{"type":"message","data":"one"' ]
    [ "${lines[1]}" = '{"type":"deploy","data":"two\nlines","lastEventId":"d1"}' ]
    [[ "${lines[2]}" =~ ^\{\"type\":\"message\",\"data\":\"three\",\"lastEventId\":\"[0-9]+\"\}$ ]]
}

@test "ssed -v: every log line starts with its RFC 3339 UTC time" {
    start_ssed -v
    subscribe s /
    wait_for_line "$SSED_ERR" 'connect ' 10
    grep -E 'serving http' "$SSED_ERR" | grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z ssed: '
    grep -E 'connect ' "$SSED_ERR" | grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z ssed: connect '
}

@test "ssed: SIGHUP without TLS never ends ssed: it says there is nothing to reload and goes on serving" {
    start_ssed
    subscribe s /
    kill -HUP "$SSED_PID"
    wait_for_line "$SSED_ERR" 'SIGHUP: nothing to reload' 10
    kill -0 "$SSED_PID"
    echo after >&8
    wait_for_data "$BATS_TEST_TMPDIR/s" 1
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = after ]
}

@test "ssed: SIGHUP reads --token-file again: the old token is refused from then on, the new one publishes; an unreadable file keeps the old" {
    printf 'first-token\n' >"$BATS_TEST_TMPDIR/token"
    start_ssed --token-file "$BATS_TEST_TMPDIR/token"
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Authorization: Bearer first-token' -d one "$URL/"
    [ "$output" = 200 ]
    printf 'second-token\n' >"$BATS_TEST_TMPDIR/token"
    kill -HUP "$SSED_PID"
    wait_for_line "$SSED_ERR" "SIGHUP: publish token reloaded from --token-file $BATS_TEST_TMPDIR/token" 10
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Authorization: Bearer first-token' -d two "$URL/"
    [ "$output" != 200 ]
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Authorization: Bearer second-token' -d three "$URL/"
    [ "$output" = 200 ]
    rm "$BATS_TEST_TMPDIR/token"
    kill -HUP "$SSED_PID"
    wait_for_line "$SSED_ERR" 'SIGHUP: keeping the publish token in use: --token-file' 10
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Authorization: Bearer second-token' -d four "$URL/"
    [ "$output" = 200 ]
}

@test "ssed: --listen with a port out of range or without a colon is a usage error (2) naming the option, before anything is served" {
    # timeout: an ssed that takes the address serves until it is stopped
    local addr
    for addr in 127.0.0.1:99999 :65536 'http://127.0.0.1:70000' '[::1]:123456'; do
        run timeout $((5 * SSETOOLS_WAIT_SCALE)) "$SSED" --no-stdin -l "$addr"
        echo "$addr: $output"
        [ "$status" -eq 2 ]
        [[ "$output" == *"--listen $addr: port "*" is out of range (0 to 65535"* ]]
        [[ "$output" != *serving* ]]
    done
    run timeout $((5 * SSETOOLS_WAIT_SCALE)) "$SSED" --no-stdin -l 18406
    [ "$status" -eq 2 ]
    [[ "$output" == *"--listen 18406: expected HOST:PORT"*"(a port alone is :18406)"* ]]
    [[ "$output" != *serving* ]]
    run timeout $((5 * SSETOOLS_WAIT_SCALE)) "$SSED" --no-stdin -l unix:
    [ "$status" -eq 2 ]
    [[ "$output" == *"--listen unix:: socket path empty"* ]]
}

@test "ssed: a --fifo in a missing directory fails (1) naming --fifo, without saying 'serving' first" {
    run timeout $((5 * SSETOOLS_WAIT_SCALE)) "$SSED" --no-stdin -l 127.0.0.1:0 --fifo "$BATS_TEST_TMPDIR/missing/events"
    [ "$status" -eq 1 ]
    [[ "$output" == *"--fifo $BATS_TEST_TMPDIR/missing/events: mkfifo: No such file or directory"* ]]
    [[ "$output" != *serving* ]]
}

@test "ssed: -v logs a 421 (Host refused) and a 405 (method) as it logs a 400, with peer, status and reason" {
    start_ssed -v
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: evil.example' "$URL/x"
    [ "$output" = 421 ]
    wait_for_line "$SSED_ERR" 'bad request peer=127\.0\.0\.1:[0-9]+ status=421 reason="this ssed listens on loopback' 10
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X DELETE "$URL/x"
    [ "$output" = 405 ]
    wait_for_line "$SSED_ERR" 'bad request peer=127\.0\.0\.1:[0-9]+ status=405 reason="channels answer GET, HEAD, OPTIONS and POST"' 10
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X PUT "$URL/_ssed/stats"
    [ "$output" = 405 ]
    wait_for_line "$SSED_ERR" 'bad request .*status=405 reason="the /_ssed/ endpoints answer GET and HEAD"' 10
}

@test "ssed: Last-Event-ID 0 on a fresh channel is no gap: no warning, no ssed-gap notice, and the stream gets what comes" {
    start_ssed
    subscribe s /fresh -H 'Last-Event-ID: 0'
    curl -s -o /dev/null --max-time 5 -d one "$URL/fresh"
    wait_for_data "$BATS_TEST_TMPDIR/s" 1
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = one ]
    ! grep -q 'ssed-gap' "$BATS_TEST_TMPDIR/s"
    ! grep -q 'no longer in history' "$SSED_ERR"
}

@test "ssed: /_ssed/stats and /_ssed/metrics count TCP connections as connections; HTTP/2 streams on one of them have their own figures" {
    start_ssed
    # five subscriptions on one HTTP/2 connection (lib/h2_raw.py), held open
    H2_STREAMS=5 H2_WINDOW=65535 start_bg "$BATS_TEST_TMPDIR/raw" "$BATS_TEST_TMPDIR/raw.err" \
        python3 "$TOP/tests/lib/h2_raw.py" "$PORT" stalled-conns 1 60
    wait_for_line "$BATS_TEST_TMPDIR/raw" '^READY' 20
    wait_for_stat subscribers -eq 5
    # the stats request is a TCP connection of its own
    [ "$(stat_of connections)" -eq 2 ]
    [ "$(stat_of h2_streams)" -eq 5 ]
    [ "$(stat_of h2_streams_total)" -eq 5 ]
    run curl -s --max-time 5 "$URL/_ssed/metrics"
    [[ "$output" == *$'\nssed_connections 2\n'* ]]
    [[ "$output" == *$'\nssed_h2_streams 5\n'* ]]
}
