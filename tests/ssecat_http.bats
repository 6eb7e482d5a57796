#!/usr/bin/env bats
# ssecat against the scripted test server (tests/servers/sse_test_server.py): what
# the request carries, which responses open a stream, reconnection with
# Last-Event-ID and the server's retry, and the stopping rules.

bats_require_minimum_version 1.5.0
load lib/helpers
load lib/ssecat_helpers

setup() {
    [ -x "$SSECAT" ] || skip "ssecat is not built"
    OUT="$BATS_TEST_TMPDIR/out"
    ERR="$BATS_TEST_TMPDIR/err"
}

teardown() {
    stop_all
}

STREAM_OK='{"chunks":["id: 1\ndata: hello\n\n"]}'

@test "the request asks for an event stream and carries -H, -A and Accept-Encoding with --compressed" {
    start_sse_server "[$STREAM_OK]"
    run -0 timeout 10 "$SSECAT" --no-reconnect -H 'X-Trace: abc 123' -H 'X-Empty;' -A 'probe/1' --compressed "$URL"
    [ "$output" = "hello" ]
    [ "$(request 0 method)" = "GET" ]
    [ "$(request 0 path)" = "/stream" ]
    [ "$(request 0 header accept)" = "text/event-stream" ]
    [ "$(request 0 header cache-control)" = "no-cache" ]
    [ "$(request 0 header x-trace)" = "abc 123" ]
    [ "$(request 0 header user-agent)" = "probe/1" ]
    [ -n "$(request 0 header accept-encoding)" ]
    [ -z "$(request 0 header last-event-id)" ]
}

@test "the default User-Agent names ssecat; -H replaces the default Accept" {
    start_sse_server "[$STREAM_OK]"
    run -0 timeout 10 "$SSECAT" --no-reconnect -H 'Accept: text/event-stream, */*' "$URL"
    [[ "$(request 0 header user-agent)" == ssecat/* ]]
    [ "$(request 0 header accept)" = "text/event-stream, */*" ]
}

@test "--last-event-id sets the first request's Last-Event-ID" {
    start_sse_server "[$STREAM_OK]"
    run -0 timeout 10 "$SSECAT" --no-reconnect --last-event-id 'abc-41' "$URL"
    [ "$(request 0 header last-event-id)" = "abc-41" ]
}

@test "POST with --json: the body and its type reach the server; the stream ending is the end" {
    start_sse_server '[{"chunks":["data: {\"delta\":\"Hel\"}\n\n","data: {\"delta\":\"lo\"}\n\n","data: [DONE]\n\n"]}]'
    run --separate-stderr -0 timeout 10 "$SSECAT" -o data --json '{"model":"m","stream":true}' "$URL"
    [ "$output" = "$(printf '{"delta":"Hel"}\n{"delta":"lo"}\n[DONE]')" ]
    [ "$(request_count)" -eq 1 ]
    [ "$(request 0 method)" = "POST" ]
    [ "$(request 0 body)" = '{"model":"m","stream":true}' ]
    [ "$(request 0 header content-type)" = "application/json" ]
    [ "$(request 0 header accept)" = "text/event-stream" ]
    [ -z "$stderr" ]
}

@test "an LLM-style stream: POST, bearer token, --until [DONE] with the server still open" {
    start_sse_server '[{"chunks":["data: {\"t\":1}\n\n","data: [DONE]\n\n"],"hold":20}]'
    SECONDS=0
    run -0 timeout 10 env SSECAT_BEARER=sk-secret-1 "$SSECAT" -o data -d @<(printf '{"q":1}') --until '[DONE]' "$URL"
    [ "$SECONDS" -lt 5 ]
    [ "$output" = '{"t":1}' ]
    [ "$(request 0 header authorization)" = "Bearer sk-secret-1" ]
    [ "$(request 0 body)" = '{"q":1}' ]
    [ "$(request 0 header content-type)" = "application/x-www-form-urlencoded" ]
}

@test "--bearer wins over SSECAT_BEARER, -u sends basic auth, and -v never shows the secrets" {
    start_sse_server "[$STREAM_OK]"
    run --separate-stderr -0 timeout 10 env SSECAT_BEARER=from-env "$SSECAT" --no-reconnect -v --bearer tok-XYZ "$URL"
    [ "$(request 0 header authorization)" = "Bearer tok-XYZ" ]
    [[ "$stderr" == *"> Authorization: Bearer ***"* ]]
    [[ "$stderr" == *"> GET /stream HTTP/1.1"* ]]
    [[ "$stderr" == *"< HTTP/1.1 200 OK"* ]]
    [[ "$stderr" == *"< Content-Type: text/event-stream"* ]]
    [[ "$stderr" != *tok-XYZ* ]]
    run --separate-stderr -0 timeout 10 "$SSECAT" --no-reconnect -v -u 'ann:pw' "$URL"
    [ "$(request 1 header authorization)" = "Basic $(printf 'ann:pw' | base64)" ]
    [[ "$stderr" == *"> Authorization: Basic ***"* ]]
}

@test "-X sets the method; a non-GET stream is not reconnected unless --reconnect" {
    start_sse_server "[$STREAM_OK]"
    run -0 timeout 10 "$SSECAT" -X PUT --retry-delay 50ms "$URL"
    [ "$(request 0 method)" = "PUT" ]
    [ "$(request_count)" -eq 1 ]
    run -0 timeout 10 "$SSECAT" -X PUT --reconnect --retry-delay 50ms -n 2 -s "$URL"
    [ "$(request_count)" -eq 3 ]
    [ "$(request 2 header last-event-id)" = "1" ]
}

@test "reconnects after the server drops the stream, with Last-Event-ID and the server's retry" {
    start_sse_server '[{"chunks":["retry: 300\nid: 5\ndata: a\n\nid: 6\ndata: b\n\ndata: partial"]},{"chunks":["data: c\n\n"],"hold":20}]'
    SECONDS=0
    run --separate-stderr -0 timeout 10 "$SSECAT" -o json -n 3 --retry-delay 20s "$URL"
    [ "$SECONDS" -lt 8 ]
    run events_of <(printf '%s\n' "$output")
    [ "${lines[0]}" = '{"data": "a", "id": "5", "type": "message"}' ]
    [ "${lines[1]}" = '{"data": "b", "id": "6", "type": "message"}' ]
    [ "${lines[2]}" = '{"data": "c", "id": "6", "type": "message"}' ]
    [ "$(request_count)" -eq 2 ]
    [ "$(request 1 header last-event-id)" = "6" ]
    [ "$stderr" = "ssecat: stream ended; reconnecting in 300ms (attempt 1, Last-Event-ID: 6)" ]
}

@test "the server's retry is honoured: the reconnection waits that long" {
    start_sse_server '[{"chunks":["retry: 1200\ndata: a\n\n"]},{"chunks":["data: b\n\n"],"hold":20}]'
    start=$(date +%s%N)
    run -0 timeout 10 "$SSECAT" -o data -n 2 -s --retry-delay 10ms "$URL"
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    [ "$output" = "$(printf 'a\nb')" ]
    [ "$elapsed_ms" -ge 1200 ]
    [ "$elapsed_ms" -lt 6000 ]
}

@test "-s keeps reconnection reports off stderr" {
    start_sse_server '[{"chunks":["data: a\n\n"]},{"chunks":["data: b\n\n"],"hold":20}]'
    run --separate-stderr -0 timeout 10 "$SSECAT" -s -n 2 --retry-delay 50ms "$URL"
    [ "$output" = "$(printf 'a\nb')" ]
    [ -z "$stderr" ]
}

@test "curl's -sS, -sSN and -q are accepted: the stream is read, and errors still show" {
    start_sse_server "[$STREAM_OK]"
    run --separate-stderr -0 timeout 10 "$SSECAT" -q -sSN --no-reconnect "$URL"
    [ "$output" = "hello" ]
    [ -z "$stderr" ]
    run --separate-stderr -0 timeout 10 "$SSECAT" --disable --silent --show-error --no-reconnect "$URL"
    [ "$output" = "hello" ]
    port=$(free_port)
    run --separate-stderr -4 timeout 10 "$SSECAT" -sS --no-reconnect "http://127.0.0.1:$port/"
    [ "$stderr" = "ssecat: connect http://127.0.0.1:$port/: Connection refused" ]
}

@test "no reconnect on 204: exit 3 and the status shown" {
    start_sse_server '[{"status":204,"headers":{}}]'
    run --separate-stderr -3 timeout 10 "$SSECAT" --retry-delay 50ms "$URL"
    [[ "$stderr" == "ssecat: $URL: HTTP/1.1 204 No Content"* ]]
    [ "$(request_count)" -eq 1 ]
}

@test "no reconnect on 404: exit 3, the status line and the error body on stderr" {
    start_sse_server '[{"status":404,"headers":{"Content-Type":"application/json"},"chunks":["{\"error\":{\"message\":\"model not found\"}}"]}]'
    run --separate-stderr -3 timeout 10 "$SSECAT" --retry-delay 50ms "$URL"
    [ "$output" = "" ]
    [ "${stderr_lines[0]}" = "ssecat: $URL: HTTP/1.1 404 Not Found" ]
    [ "${stderr_lines[1]}" = '{"error":{"message":"model not found"}}' ]
    [ "$(request_count)" -eq 1 ]
}

@test "no reconnect on 500, even from a stream that was open before" {
    start_sse_server '[{"chunks":["data: a\n\n"]},{"status":500,"headers":{"Content-Type":"text/plain"},"chunks":["upstream exploded\n"]}]'
    run --separate-stderr -3 timeout 10 "$SSECAT" --retry-delay 50ms "$URL"
    [ "$output" = "a" ]
    [[ "$stderr" == *"ssecat: $URL: HTTP/1.1 500 Internal Server Error"$'\n'"upstream exploded"* ]]
    [ "$(request_count)" -eq 2 ]
}

@test "no reconnect on a wrong content type; --ignore-content-type accepts it" {
    start_sse_server '[{"headers":{"Content-Type":"text/html"},"chunks":["<html>login</html>\ndata: x\n\n"]}]'
    run --separate-stderr -3 timeout 10 "$SSECAT" --retry-delay 50ms "$URL"
    [[ "${stderr_lines[0]}" == "ssecat: $URL: HTTP/1.1 200 OK with Content-Type 'text/html', not text/event-stream"* ]]
    [[ "$stderr" == *"<html>login</html>"* ]]
    [ "$(request_count)" -eq 1 ]
    run -0 timeout 10 "$SSECAT" --ignore-content-type --no-reconnect "$URL"
    [ "$output" = "x" ]
}

@test "the content type's parameters and case are ignored" {
    start_sse_server '[{"headers":{"Content-Type":"Text/Event-Stream; charset=utf-8"},"chunks":["data: x\n\n"]}]'
    run -0 timeout 10 "$SSECAT" --no-reconnect "$URL"
    [ "$output" = "x" ]
}

@test "a long error body is cut short" {
    body=$(head -c 5000 /dev/zero | tr '\0' 'e')
    start_sse_server "[{\"status\":500,\"headers\":{\"Content-Type\":\"text/plain\"},\"chunks\":[\"$body\"]}]"
    run --separate-stderr -3 timeout 10 "$SSECAT" "$URL"
    [ "${#stderr}" -lt 3000 ]
    [[ "$stderr" == *"[... the rest of the response body is not shown]" ]]
}

@test "redirects are followed as EventSource does" {
    start_sse_server "[{\"status\":307,\"headers\":{\"Location\":\"/moved\"}},$STREAM_OK]"
    run -0 timeout 10 "$SSECAT" --no-reconnect "$URL"
    [ "$output" = "hello" ]
    [ "$(request 1 path)" = "/moved" ]
}

@test "connection refused: exit 4 at once with --no-reconnect, after --max-retries otherwise" {
    port=$(free_port)
    run --separate-stderr -4 timeout 10 "$SSECAT" --no-reconnect "http://127.0.0.1:$port/"
    [ "$stderr" = "ssecat: connect http://127.0.0.1:$port/: Connection refused" ]
    run --separate-stderr -4 timeout 10 "$SSECAT" --retry-connrefused --max-retries 2 --retry-delay 50ms --max-delay 100ms "http://127.0.0.1:$port/"
    [ "${#stderr_lines[@]}" -eq 3 ]
    [[ "${stderr_lines[0]}" == "ssecat: connect http://127.0.0.1:$port/: Connection refused; reconnecting in 50ms (attempt 1)" ]]
    [[ "${stderr_lines[1]}" == *"; reconnecting in "*"ms (attempt 2)" ]]
    [[ "${stderr_lines[2]}" == *"giving up after 2 reconnection attempts (--max-retries)" ]]
}

@test "--no-reconnect: a stream that ends is success" {
    start_sse_server "[$STREAM_OK]"
    run --separate-stderr -0 timeout 10 "$SSECAT" --no-reconnect "$URL"
    [ "$(request_count)" -eq 1 ]
    [ -z "$stderr" ]
}

@test "--idle-timeout and --max-time exit 5" {
    start_sse_server '[{"chunks":["data: a\n\n",{"sleep":0.3},": ping\n\n",{"sleep":0.3},": ping\n\n"],"hold":20}]'
    SECONDS=0
    run --separate-stderr -5 timeout 10 "$SSECAT" --idle-timeout 450ms "$URL"
    [ "$output" = "a" ]
    [ "$stderr" = "ssecat: nothing received for 450ms (--idle-timeout)" ]
    [ "$SECONDS" -lt 5 ]
    run --separate-stderr -5 timeout 10 "$SSECAT" -m 1500ms "$URL"
    [ "$output" = "a" ]
    [ "$stderr" = "ssecat: time limit of 1500ms reached (--max-time)" ]
}

@test "-e and -n over HTTP; each event is written as soon as it arrives" {
    start_sse_server '[{"chunks":["event: tick\ndata: 1\n\n","event: other\ndata: x\n\n",{"sleep":1.5},"event: tick\ndata: 2\n\n"],"hold":20}]'
    start_bg "$OUT" "$ERR" timeout 10 "$SSECAT" -o data -e tick -n 2 "$URL"
    pid=$BG_PID
    wait_for_line "$OUT" '^1$' 5
    [ "$(cat "$OUT")" = "1" ]
    kill -0 "$pid"
    wait_for_exit "$pid" 5
    [ "$EXIT_STATUS" -eq 0 ]
    [ "$(cat "$OUT")" = "$(printf '1\n2')" ]
}

@test "Ctrl-C and SIGTERM end ssecat cleanly (status 0)" {
    for sig in INT TERM; do
        start_sse_server '[{"chunks":["data: a\n\n"],"hold":20}]'
        start_bg "$OUT" "$ERR" "$SSECAT" -o data "$URL"
        pid=$BG_PID
        wait_for_line "$OUT" '^a$' 5
        kill -"$sig" "$pid"
        wait_for_exit "$pid" 5
        [ "$EXIT_STATUS" -eq 0 ]
        stop_all
    done
}

# wait_for_cpu PID TICKS: wait until a process has used TICKS clock ticks
# of CPU (it is busy, past its start), within a scaled deadline.
wait_for_cpu() {
    local pid=$1 want=$2 i
    for i in $(seq 1 $((200 * SSETOOLS_WAIT_SCALE))); do
        [ "$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)" -ge "$want" ] && return 0
        sleep 0.05
    done
    echo "process $pid used less than $want ticks of CPU in time" >&2
    return 1
}

@test "a gzip stream sent unasked is decoded, as browsers do; Accept-Encoding is sent only with --compressed" {
    start_sse_server '[{"headers":{"Content-Type":"text/event-stream","Content-Encoding":"gzip"},"chunks":[{"gzip":"id: 1\ndata: hello\n\ndata: world\n\n"}]}]'
    run --separate-stderr -0 timeout 10 "$SSECAT" --no-reconnect "$URL"
    [ "$output" = $'hello\nworld' ]
    [ -z "$stderr" ]
    [ -z "$(request 0 header accept-encoding)" ]
    # -H Accept-Encoding asks for it the user's way; the answer is decoded too
    run --separate-stderr -0 timeout 10 "$SSECAT" --no-reconnect -H 'Accept-Encoding: gzip' "$URL"
    [ "$output" = $'hello\nworld' ]
    [ "$(request 1 header accept-encoding)" = "gzip" ]
}

@test "--compressed: Ctrl-C and SIGTERM end ssecat at once while it inflates a gzip bomb" {
    # 16 GiB of small events, about 25 MB on the wire: libcurl inflates a
    # whole read's worth inside one call (seconds of output), so ssecat must
    # look at the signal from its body callback too. Stopped, signalled and
    # resumed, it may finish the piece in hand (16 KiB inflated: 4 KiB of
    # output) and no more.
    bomb='{"headers":{"Content-Type":"text/event-stream","Content-Encoding":"gzip"},"chunks":[{"gzip_bomb":"data: x\n\n","mib":16384}],"hold":20}'
    for sig in INT TERM; do
        start_sse_server "[$bomb]"
        start_bg "$OUT" "$ERR" "$SSECAT" --compressed -o data "$URL"
        pid=$BG_PID
        wait_for_cpu "$pid" 100
        kill -STOP "$pid"
        before=$(stat -c %s "$OUT")
        kill -"$sig" "$pid"
        kill -CONT "$pid"
        wait_for_exit "$pid" 10
        [ "$EXIT_STATUS" -eq 0 ]
        after=$(stat -c %s "$OUT")
        echo "output grew by $((after - before)) bytes after SIG$sig"
        [ $((after - before)) -lt 65536 ]
        stop_all
    done
}

@test "--compressed: a gzip bomb of one endless line is held to --max-event-size; --max-time ends it" {
    bomb='{"headers":{"Content-Type":"text/event-stream","Content-Encoding":"gzip"},"chunks":[{"gzip_bomb":"data: x","mib":16384}],"hold":20}'
    start_sse_server "[$bomb]"
    start_bg /dev/null "$ERR" "$SSECAT" --compressed --max-event-size 1MiB --max-time 60s "$URL"
    pid=$BG_PID
    wait_for_cpu "$pid" 100
    rss_kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
    [ -n "${SSETOOLS_SANITIZED:-}" ] || [ "$rss_kib" -lt 32768 ] || { echo "ssecat holds ${rss_kib} KiB" >&2; false; }
    stop_pid "$pid"
    run -5 timeout 60 "$SSECAT" --compressed --max-time 2s "$URL"
    [[ "$output" == *"time limit of 2s reached (--max-time)"* ]]
    [[ "$output" == *"dropped an event of"* ]]
}

@test "--proxy sends the request through the proxy" {
    start_sse_server "[$STREAM_OK]"
    run -0 timeout 10 "$SSECAT" --no-reconnect --proxy "http://127.0.0.1:$PORT" http://stream.example.invalid/feed
    [ "$output" = "hello" ]
    [ "$(request 0 path)" = "http://stream.example.invalid/feed" ]
}

@test "--unix-socket connects through a Unix socket; --connect-timeout is accepted" {
    sock="$BATS_TEST_TMPDIR/s.sock"
    start_bg "$BATS_TEST_TMPDIR/u.out" "$BATS_TEST_TMPDIR/u.err" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept(); c.recv(65536)
c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\ndata: via socket\n\n")
c.close()' "$sock"
    for i in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.1; done
    run -0 timeout 10 "$SSECAT" --no-reconnect --connect-timeout 2s --unix-socket "$sock" http://localhost/stream
    [ "$output" = "via socket" ]
}

@test "relay: ssecat -o sse feeds ssed, and ssecat reads ssed back (when ssed is built)" {
    [ -x "$SSED" ] || skip "ssed is not built"
    start_sse_server '[{"chunks":["event: up\nid: a1\ndata: one\n\n","data: two\ndata: lines\n\n"],"hold":20}]'
    fifo="$BATS_TEST_TMPDIR/relay"
    mkfifo "$fifo"
    # exec keeps the PID start_bg records, so stop_all stops ssed itself.
    start_bg "$BATS_TEST_TMPDIR/ssed.out" "$BATS_TEST_TMPDIR/ssed.err" \
        sh -c 'f=$1; shift; exec "$@" <"$f"' relay "$fifo" "$SSED" -l 127.0.0.1:0 --format sse --replay 10
    start_bg "$fifo" "$BATS_TEST_TMPDIR/relay.err" "$SSECAT" -o sse -s "$URL"
    wait_for_line "$BATS_TEST_TMPDIR/ssed.err" 'serving http://127\.0\.0\.1:[0-9]+/' 10
    relay_url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+/' "$BATS_TEST_TMPDIR/ssed.err" | head -1)
    run --separate-stderr -0 timeout 10 "$SSECAT" -o json -n 2 "$relay_url"
    printf '%s\n' "$output" >"$OUT"
    run python3 -c 'import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line); print(o["type"], repr(o["data"]))' "$OUT"
    [ "${lines[0]}" = "up 'one'" ]
    [ "${lines[1]}" = "message 'two\\nlines'" ]
}
