#!/usr/bin/env bats
# ssecat and the errors that do not heal: on the first connection, before
# any stream has opened, a certificate that does not verify and a host name
# that does not resolve end ssecat at once (status 4) with a hint, and a
# refused connection does too unless --retry-connrefused; once a stream has
# opened, every failure is retried, as EventSource does.

bats_require_minimum_version 1.5.0
load lib/helpers
load lib/ssecat_helpers

setup() {
    [ -x "$SSECAT" ] || skip "ssecat is not built"
}

teardown() {
    stop_all
}

STREAM_OK='{"chunks":["id: 1\ndata: hello\n\n"]}'

# start_tls_sse_server SCRIPT_JSON: the test server over HTTPS with a
# self-signed certificate for localhost ($BATS_TEST_TMPDIR/cert.pem); sets
# PORT and URL (https://localhost:PORT/stream).
start_tls_sse_server() {
    local dir=$BATS_TEST_TMPDIR
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
    printf '%s' "$1" >"$dir/script.json"
    start_bg "$dir/server.out" "$dir/server.err" python3 "$TOP/tests/servers/sse_test_server.py" \
        --port-file "$dir/port" --log "$dir/requests.log" \
        --tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem" "$dir/script.json"
    wait_for_file "$dir/port" 10 || { cat "$dir/server.err" >&2; return 1; }
    PORT=$(cat "$dir/port")
    URL="https://127.0.0.1:$PORT/stream"
}

@test "a self-signed certificate on the first connection: exit 4 at once with the -k and --cacert hint" {
    start_tls_sse_server "[$STREAM_OK]"
    SECONDS=0
    run --separate-stderr -4 timeout 20 "$SSECAT" "$URL"
    [ "$SECONDS" -lt 10 ]
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ "$stderr" == "ssecat: TLS handshake with $URL: "*"certificate"* ]]
    [[ "$stderr" == *"(--cacert FILE trusts the CA that signed it; -k/--insecure skips the check)" ]]
    [[ "$stderr" != *reconnecting* ]]
    # and the hint is right: either option reads the stream
    run --separate-stderr -0 timeout 20 "$SSECAT" --no-reconnect -k "$URL"
    [ "$output" = "hello" ]
    run --separate-stderr -0 timeout 20 "$SSECAT" --no-reconnect --cacert "$BATS_TEST_TMPDIR/cert.pem" "$URL"
    [ "$output" = "hello" ]
}

@test "a host name that does not resolve (.invalid, RFC 6761): exit 4 at once, saying so" {
    SECONDS=0
    run --separate-stderr -4 timeout 20 "$SSECAT" "http://no-such-host.invalid/stream"
    [ "$SECONDS" -lt 10 ]
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ "$stderr" == "ssecat: resolve http://no-such-host.invalid/stream: "*"no-such-host.invalid (check the host name)" ]]
}

@test "a refused first connection: exit 4 at once; --retry-connrefused waits for the server" {
    port=$(free_port)
    run --separate-stderr -4 timeout 20 "$SSECAT" "http://127.0.0.1:$port/"
    [ "$stderr" = "ssecat: connect http://127.0.0.1:$port/: Connection refused (is the server running? --retry-connrefused waits for it)" ]
    # --retry-connrefused: retried, and --max-retries still bounds it
    run --separate-stderr -4 timeout 20 "$SSECAT" --retry-connrefused --max-retries 2 --retry-delay 50ms \
        --max-delay 100ms "http://127.0.0.1:$port/"
    [ "${#stderr_lines[@]}" -eq 3 ]
    [[ "${stderr_lines[0]}" == "ssecat: connect http://127.0.0.1:$port/: Connection refused; reconnecting in 50ms (attempt 1)" ]]
    [[ "${stderr_lines[2]}" == *"giving up after 2 reconnection attempts (--max-retries)" ]]
}

@test "once a stream has opened, a refused reconnection is retried as EventSource does" {
    start_sse_server "[$STREAM_OK]"
    start_bg "$BATS_TEST_TMPDIR/cat.out" "$BATS_TEST_TMPDIR/cat.err" "$SSECAT" --retry-delay 50ms --max-delay 100ms "$URL"
    local cat_pid=$BG_PID
    wait_for_line "$BATS_TEST_TMPDIR/cat.out" '^hello$' 10
    # the server goes away for good: connections are now refused
    stop_pid "$(head -1 "$BATS_TEST_TMPDIR/pids")"
    wait_for_line "$BATS_TEST_TMPDIR/cat.err" 'Connection refused; reconnecting in .*attempt 2' 10
    kill -0 "$cat_pid"
    kill -TERM "$cat_pid"
    wait_for_exit "$cat_pid" 10
    [ "$EXIT_STATUS" -eq 0 ]
}
