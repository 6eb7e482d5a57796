#!/usr/bin/env bats
# ssecat as the WHATWG "Server-sent events" section says a browser behaves:
# which id a reconnect sends, how large an event is taken, and that what
# comes from the network cannot drive the terminal; then its exit statuses.

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

@test "a reconnect sends the id of the last dispatched event, not of one cut off by the end" {
    start_sse_server '[{"chunks":["id: 1\ndata: a\n\nid: 2\ndata: b"]},{"chunks":["data: c\n\n"]}]'
    run -0 timeout 10 "$SSECAT" -s -n2 --retry-delay 10ms "$URL"
    [ "$output" = "$(printf 'a\nc')" ]
    [ "$(request 1 header last-event-id)" = "1" ]
}

@test "a 10 MiB data line is printed whole by default, as browsers deliver it" {
    start_sse_server '[{"chunks":["data: ", {"repeat":"x","times":10485760}, "\n\n"]}]'
    timeout 20 "$SSECAT" --no-reconnect "$URL" >"$OUT" 2>"$ERR"
    [ "$(wc -c <"$OUT")" -eq 10485761 ]
    [ "$(head -c 10485760 "$OUT" | tr -d x | wc -c)" -eq 0 ]
    [ ! -s "$ERR" ]
}

# on_terminals OUT ERR CMD...: run CMD with stdout and stderr on two
# pseudo-terminals (as when a person runs it), saving what each shows.
on_terminals() {
    local out=$1 err=$2
    shift 2
    python3 - "$out" "$err" "$@" <<'PY'
import os, pty, select, subprocess, sys
out_path, err_path, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
(om, os_), (em, es) = pty.openpty(), pty.openpty()
p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=os_, stderr=es)
os.close(os_)
os.close(es)
got = {om: b"", em: b""}
open_fds = [om, em]
while open_fds:
    ready, _, _ = select.select(open_fds, [], [], 20)
    if not ready:
        break
    for fd in ready:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            chunk = b""
        if chunk:
            got[fd] += chunk
        else:
            open_fds.remove(fd)
rc = p.wait(timeout=20)
open(out_path, "wb").write(got[om])
open(err_path, "wb").write(got[em])
sys.exit(rc)
PY
}

# no_controls FILE: FILE holds no ESC, no BEL and no C1 control (UTF-8 C2 80..9F).
no_controls() {
    python3 - "$1" <<'PY'
import re, sys
raw = open(sys.argv[1], "rb").read()
bad = re.search(rb"[\x1b\x07]|\xc2[\x80-\x9f]", raw)
assert not bad, f"control byte at {bad.start()}: {raw!r}"
PY
}

HOSTILE_ID='id: \u001b]0;owned\u0007\u001b[2J\n'

@test "on a terminal, a hostile id in the reconnect notice and hostile data reach neither stream raw" {
    start_sse_server "[{\"chunks\":[\"${HOSTILE_ID}data: \u001b[31mred\u009b\n\n\"]}]"
    run -0 on_terminals "$OUT" "$ERR" timeout 10 "$SSECAT" -o data -n2 --retry-delay 10ms "$URL"
    grep -q 'Last-Event-ID: ^\[\]0;owned^G^\[\[2J' "$ERR"
    grep -q '\^\[\[31mred' "$OUT"
    no_controls "$OUT"
    no_controls "$ERR"
}

@test "on a terminal, a refused answer's status line and body are shown without their controls" {
    start_sse_server '[{"status":500,"reason":"Oops \u001b[2J","headers":{"Content-Type":"text/plain"},"chunks":["bad \u001b]0;owned\u0007\nsecond line\n"]}]'
    run -3 on_terminals "$OUT" "$ERR" timeout 10 "$SSECAT" "$URL"
    grep -q '500 Oops ^\[\[2J' "$ERR"
    grep -q '^bad ^\[\]0;owned^G' "$ERR"
    grep -q '^second line' "$ERR"
    no_controls "$ERR"
}

@test "on a terminal, a hostile Content-Type is shown without its controls" {
    start_sse_server '[{"headers":{"Content-Type":"text/html\u001b[2J\u009b"},"chunks":["<p>hi</p>"]}]'
    run -3 on_terminals "$OUT" "$ERR" timeout 10 "$SSECAT" "$URL"
    grep -q "Content-Type 'text/html^\[\[2J" "$ERR"
    no_controls "$ERR"
}

@test "on a terminal, -v shows hostile response headers without their controls" {
    start_sse_server '[{"headers":{"Content-Type":"text/event-stream","X-Evil":"a\u001b]52;c;b3duZWQ=\u0007b"},"chunks":["data: x\n\n"]}]'
    run -0 on_terminals "$OUT" "$ERR" timeout 10 "$SSECAT" -v -n1 "$URL"
    grep -q '< X-Evil: a^\[\]52;c;b3duZWQ=^Gb' "$ERR"
    no_controls "$ERR"
}

@test "-o json escapes C1 controls, so even a terminal sees none" {
    start_sse_server '[{"chunks":["data: a\u009b[2Jb\n\n"]}]'
    run -0 timeout 10 "$SSECAT" --no-reconnect -o json "$URL"
    [[ "$output" == *'"data":"a\u009b[2Jb"'* ]]
    printf '%s' "$output" >"$OUT"
    no_controls "$OUT"
}

@test "a URL that does not parse is a usage error naming it (exit 2), not retried" {
    run -2 --separate-stderr timeout 10 "$SSECAT" 'http://[bad'
    [[ "$stderr" == *"'http://[bad'"* ]]
}

@test "a redirect to file:// is refused (exit 3), not a connection failure" {
    start_sse_server '[{"status":302,"headers":{"Location":"file:///etc/passwd"}}]'
    run -3 --separate-stderr timeout 10 "$SSECAT" "$URL"
    [[ "$stderr" == *"file:///etc/passwd"* ]]
    [ -z "$output" ]
}

@test "with stdout closed, ssecat says so and exits 1 instead of running on" {
    start_sse_server '[{"chunks":["data: a\n\n"],"hold":5}]'
    run -1 --separate-stderr timeout 10 bash -c 'exec "$0" "$1" >&-' "$SSECAT" "$URL"
    [[ "$stderr" == *"standard output is closed"* ]]
}

@test "a stop ssecat chose (-n1 -v) shows no libcurl write failure" {
    start_sse_server '[{"chunks":["data: a\n\ndata: b\n\n"],"hold":5}]'
    run -0 --separate-stderr timeout 10 "$SSECAT" -v -n1 "$URL"
    [ "$output" = "a" ]
    [[ "$stderr" != *"Failure writing"* ]]
    [[ "$stderr" == *"< HTTP/1.1 200"* ]]
}

# redirect_via_other_host [OPTIONS...]: a stream server reached as
# "localhost" behind a redirect from 127.0.0.1; both log into one file, so
# request 0 is the redirect's and request 1 the stream's.
redirect_via_other_host() {
    start_sse_server '[{"chunks":["data: a\n\n"]}]'
    local target="http://localhost:$PORT/stream"
    start_sse_server "[{\"status\":302,\"headers\":{\"Location\":\"$target\"}}]"
    run -0 timeout 10 "$SSECAT" --no-reconnect -H 'X-Secret: s3' --bearer tok "$@" "$URL"
    [ "$output" = "a" ]
    [ "$(request 0 header x-secret)" = "s3" ]
}

@test "-H headers and the token are not sent on a redirect to another host" {
    redirect_via_other_host
    [ "$(request 1 path)" = "/stream" ]
    [ -z "$(request 1 header x-secret)" ]
    [ -z "$(request 1 header authorization)" ]
    [ "$(request 1 header accept)" = "text/event-stream" ]
}

@test "--location-trusted sends -H headers and the token on a redirect to another host" {
    redirect_via_other_host --location-trusted
    [ "$(request 1 header x-secret)" = "s3" ]
    [ "$(request 1 header authorization)" = "Bearer tok" ]
}

@test "-H headers are kept on a redirect to the same host" {
    start_sse_server '[{"status":307,"headers":{"Location":"/other"}},{"chunks":["data: a\n\n"]}]'
    run -0 timeout 10 "$SSECAT" --no-reconnect -H 'X-Secret: s3' "$URL"
    [ "$output" = "a" ]
    [ "$(request 1 path)" = "/other" ]
    [ "$(request 1 header x-secret)" = "s3" ]
}

@test "a 304 (or another 3xx that is not a redirect) with a Location is an answer, not followed (exit 3)" {
    start_sse_server '[{"status":304,"headers":{"Location":"/elsewhere"},"chunks":[]}]'
    run --separate-stderr -3 timeout 10 "$SSECAT" -d hello "$URL"
    [ "$(request_count)" -eq 1 ]
}

@test "a redirect to a URL with control bytes or spaces is refused (exit 3), never retried or printed raw" {
    start_sse_server '[{"status":302,"headers":{"Location":"http://127.0.0.1:1/ok\u001b]0;owned\u0007 x"},"chunks":[]}]'
    run -3 on_terminals "$OUT" "$ERR" timeout 10 "$SSECAT" "$URL"
    grep -q 'which is not a valid URL' "$ERR"
    no_controls "$ERR"
    [ "$(request_count)" -eq 1 ]
}
