#!/usr/bin/env bats
# ssecat's reconnection backoff: a reconnection time of 0 (--retry-delay 0
# or the server's retry: 0) must not turn a failing server into a busy loop.
# Failures in a row back off from a floor of 100ms; a stream that delivers
# an event starts the backoff again.

bats_require_minimum_version 1.5.0
load lib/helpers
load lib/ssecat_helpers

setup() {
    [ -x "$SSECAT" ] || skip "ssecat is not built"
    ERR="$BATS_TEST_TMPDIR/err"
}

teardown() {
    stop_all
}

# Before the backoff had a floor, each of these ran thousands of attempts in
# 3 s; with it there are about eight. 50 leaves room for a loaded machine.
MAX_ATTEMPTS=50

# attempts_logged FILE: how many reconnections ssecat reported.
attempts_logged() {
    grep -c 'reconnecting in' "$1" || true
}

@test "--retry-delay 0 and nothing listening: retried with backoff, not in a busy loop" {
    port=$(free_port)
    run --separate-stderr -5 timeout 10 "$SSECAT" --retry-connrefused --retry-delay 0 -m 3s "http://127.0.0.1:$port/"
    printf '%s\n' "$stderr" >"$ERR"
    n=$(attempts_logged "$ERR")
    echo "reconnections in 3s: $n"
    [ "$n" -ge 3 ]
    [ "$n" -lt "$MAX_ATTEMPTS" ]
    # the first wait is the reconnection time itself; the next starts the
    # backoff at the floor (100ms, less up to a quarter of jitter)
    [[ "${stderr_lines[0]}" == *"Connection refused; reconnecting in 0ms (attempt 1)" ]]
    [[ "${stderr_lines[1]}" =~ reconnecting\ in\ ([0-9]+)ms\ \(attempt\ 2\)$ ]]
    [ "${BASH_REMATCH[1]}" -ge 75 ]
    [ "${BASH_REMATCH[1]}" -le 100 ]
}

@test "--retry-delay 0 and a server that accepts and hangs up: few connections" {
    start_bg "$BATS_TEST_TMPDIR/l.out" "$BATS_TEST_TMPDIR/l.err" python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
log = open(sys.argv[2], "a", buffering=1)
while True:
    c, _ = s.accept(); c.close(); log.write("accepted\n")' "$BATS_TEST_TMPDIR/port" "$BATS_TEST_TMPDIR/accepts"
    wait_for_file "$BATS_TEST_TMPDIR/port" 10
    port=$(cat "$BATS_TEST_TMPDIR/port")
    run --separate-stderr -5 timeout 10 "$SSECAT" --retry-delay 0 -m 3s "http://127.0.0.1:$port/"
    n=$(wc -l <"$BATS_TEST_TMPDIR/accepts")
    echo "connections in 3s: $n"
    [ "$n" -ge 3 ]
    [ "$n" -lt "$MAX_ATTEMPTS" ]
}

@test "a server that sends retry: 0 and closes the stream: few connections" {
    start_sse_server '[{"chunks":["retry: 0\n\n"]}]'
    run --separate-stderr -5 timeout 10 "$SSECAT" -m 3s "$URL"
    n=$(request_count)
    echo "requests in 3s: $n"
    [ "$n" -ge 3 ]
    [ "$n" -lt "$MAX_ATTEMPTS" ]
    [[ "${stderr_lines[0]}" == "ssecat: stream ended; reconnecting in 0ms (attempt 1)" ]]
    [[ "${stderr_lines[1]}" == "ssecat: stream ended; reconnecting in "*"ms (attempt 2)" ]]
}

@test "a stream that delivers an event starts the backoff again; retry: 0 is then honoured at once" {
    start_sse_server '[{"chunks":["retry: 0\n\n"]},{"chunks":["retry: 0\n\n"]},{"chunks":["data: a\n\n"]},{"chunks":["data: b\n\n"],"hold":20}]'
    run --separate-stderr -0 timeout 10 "$SSECAT" -o data -n 2 "$URL"
    [ "$output" = "$(printf 'a\nb')" ]
    [ "${#stderr_lines[@]}" -eq 3 ]
    [ "${stderr_lines[0]}" = "ssecat: stream ended; reconnecting in 0ms (attempt 1)" ]
    [[ "${stderr_lines[1]}" =~ ^ssecat:\ stream\ ended\;\ reconnecting\ in\ ([0-9]+)ms\ \(attempt\ 2\)$ ]]
    [ "${BASH_REMATCH[1]}" -ge 75 ]
    [ "${stderr_lines[2]}" = "ssecat: stream ended; reconnecting in 0ms (attempt 1)" ]
}

@test "a server that sends a retry: of 2^64 or more and closes: ssecat waits, it does not hammer" {
    start_sse_server '[{"chunks":["retry: 99999999999999999999999\n\n"]}]'
    run --separate-stderr -5 timeout 10 "$SSECAT" -m 2s "$URL"
    n=$(request_count)
    echo "requests in 2s: $n"
    [ "$n" -eq 1 ]
}
