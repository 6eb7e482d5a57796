#!/usr/bin/env bats
# ssepub against a real ssed: every input mode, channels, types and ids,
# tokens, refusals, retries across a restart, and batching.

bats_require_minimum_version 1.5.0
load lib/helpers
load lib/ssecat_helpers

teardown() {
    exec 8>&- 9>&- 2>/dev/null || true
    stop_all
}

@test "ssepub: --help and --version; bad options exit 2 naming the option" {
    run "$SSEPUB" --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"--retry-for DURATION"* ]]
    run "$SSEPUB" --version
    [[ "$output" =~ ^ssepub\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
    run "$SSEPUB" --retry-for soon hi
    [ "$status" -eq 2 ]
    [[ "$output" == *"--retry-for: invalid duration 'soon'"* ]]
    run "$SSEPUB" --id 7 </dev/null
    [ "$status" -eq 2 ]
    [[ "$output" == *"--id: names one event"* ]]
    run "$SSEPUB" --format xml
    [ "$status" -eq 2 ]
    run "$SSEPUB" -s hello
    [ "$status" -eq 2 ]
    [[ "$output" == *"--stdin-whole: give a MESSAGE or read stdin, not both"* ]]
    run "$SSEPUB" --url nonsense hi
    [ "$status" -eq 2 ]
    [[ "$output" == *"--url"* ]]
}

@test "ssepub: arguments joined with spaces make one event with its type and id" {
    start_ssed
    subscribe s /
    run "$SSEPUB" --url "$URL/" -e deploy -i v2 deploy "finished  ok"
    [ "$status" -eq 0 ]
    wait_for_data "$BATS_TEST_TMPDIR/s" 1
    run cat "$BATS_TEST_TMPDIR/s"
    [[ "$output" == *$'event: deploy\nid: v2\ndata: deploy finished  ok'* ]]
}

@test "ssepub: stdin lines are one event each; -c picks the channel; SSED_URL sets the server" {
    start_ssed
    subscribe s /logs
    printf 'one\ntwo\r\nthree' | SSED_URL="$URL/ignored/path" "$SSEPUB" -c logs
    wait_for_data "$BATS_TEST_TMPDIR/s" 3
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(printf 'one\ntwo\nthree')" ]
}

@test "ssepub: -s sends all of stdin as one event; -0 splits on NUL" {
    start_ssed
    subscribe s /
    printf 'line 1\nline 2\n' | "$SSEPUB" --url "$URL/" -s -i whole
    printf 'rec a\nstill a\0rec b\0' | "$SSEPUB" --url "$URL/" -0
    wait_for_data "$BATS_TEST_TMPDIR/s" 6
    [ "$(grep -c '^id:' "$BATS_TEST_TMPDIR/s")" -eq 3 ]
    grep -q '^id: whole$' "$BATS_TEST_TMPDIR/s"
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(printf 'line 1\nline 2\n\nrec a\nstill a\nrec b')" ]
}

@test "ssepub: --format sse keeps each event's type, id and retry" {
    start_ssed
    subscribe s /
    printf 'event: a\nid: x1\ndata: one\n\nretry: 500\ndata: two\ndata: lines\n\n' | "$SSEPUB" --url "$URL/" --format sse
    wait_for_data "$BATS_TEST_TMPDIR/s" 3
    run cat "$BATS_TEST_TMPDIR/s"
    [[ "$output" == *$'event: a\nid: x1\ndata: one\n\n'* ]]
    [[ "$output" == *$'retry: 500\ndata: two\ndata: lines'* ]]
    # an event cut off at the end of stdin is reported, exit 1
    run bash -c "printf 'data: complete\n\ndata: cut' | '$SSEPUB' --url '$URL/' --format sse"
    [ "$status" -eq 1 ]
    [[ "$output" == *"stdin ended inside an event"* ]]
}

@test "ssepub: lines are live: one line reaches a subscriber while stdin stays open" {
    start_ssed
    subscribe s /
    mkfifo "$BATS_TEST_TMPDIR/in"
    start_bg /dev/null "$BATS_TEST_TMPDIR/pub.err" sh -c 'f=$1; shift; exec "$@" <"$f"' sh "$BATS_TEST_TMPDIR/in" \
        "$SSEPUB" --url "$URL/"
    exec 9>"$BATS_TEST_TMPDIR/in"
    echo "first" >&9
    wait_for_data "$BATS_TEST_TMPDIR/s" 1 2
    echo "second" >&9
    wait_for_data "$BATS_TEST_TMPDIR/s" 2 2
    exec 9>&-
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(printf 'first\nsecond')" ]
}

@test "ssepub: seq 100000 arrives complete and in order, in few requests" {
    start_ssed --max-pending 64M
    subscribe s / --max-time 60
    run bash -c "seq 100000 | '$SSEPUB' -v --url '$URL/' 2>&1 | tail -1"
    echo "$output"
    [[ "$output" =~ 100000\ events\ delivered\ in\ ([0-9]+)\ request ]]
    [ "${BASH_REMATCH[1]}" -lt 100 ]
    wait_for_data "$BATS_TEST_TMPDIR/s" 100000 30
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(seq 100000)" ]
}

@test "ssepub: a token is sent from --token or SSED_TOKEN; without it or wrong, exit 3" {
    start_ssed --token t0ken
    subscribe s /
    run "$SSEPUB" --url "$URL/" hello
    [ "$status" -eq 3 ]
    [[ "$output" == *"1 event not delivered: refused by the server (401)"* ]]
    run "$SSEPUB" --url "$URL/" --token wrong hello
    [ "$status" -eq 3 ]
    [[ "$output" == *"(403): "*"wrong token"* ]]
    run "$SSEPUB" --url "$URL/" --token t0ken one
    [ "$status" -eq 0 ]
    SSED_TOKEN=t0ken run "$SSEPUB" --url "$URL/" -v two
    [ "$status" -eq 0 ]
    [[ "$output" != *t0ken* ]]
    wait_for_data "$BATS_TEST_TMPDIR/s" 2
}

@test "ssepub: an event over the server's limit is refused (413), reported by line, the rest delivered, exit 3" {
    start_ssed --max-event-size 20
    subscribe s /
    run bash -c "printf 'ok 1\n%050d\nok 2\n' 0 | '$SSEPUB' --url '$URL/'"
    [ "$status" -eq 3 ]
    [[ "$output" == *"event from input 2 refused by the server (413): an event is larger than --max-event-size (20 bytes)"* ]]
    wait_for_data "$BATS_TEST_TMPDIR/s" 2
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(printf 'ok 1\nok 2')" ]
    # ssepub's own limit refuses before sending
    run bash -c "printf '%050d\n' 0 | '$SSEPUB' --url '$URL/' --max-event-size 10"
    [ "$status" -eq 3 ]
    [[ "$output" == *"record 1 not sent: 50 bytes is more than --max-event-size 10"* ]]
}

@test "ssepub: an unreachable server: retries for --retry-for, then says how many were not delivered, exit 4" {
    port=$(free_port)
    start=$(date +%s%N)
    run bash -c "seq 3 | '$SSEPUB' --url http://127.0.0.1:$port/ --retry-for 700ms"
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    [ "$status" -eq 4 ]
    [[ "$output" == *"3 events not delivered"* ]]
    [ "$elapsed_ms" -ge 700 ]
}

@test "ssepub: ssed restarted mid-stream: ssepub retries and every line is published exactly once" {
    port=$(free_port)
    start_ssed -l "127.0.0.1:$port" --no-stdin --history 100000
    mkfifo "$BATS_TEST_TMPDIR/in"
    start_bg "$BATS_TEST_TMPDIR/pub.out" "$BATS_TEST_TMPDIR/pub.err" sh -c 'f=$1; shift; exec "$@" <"$f"' sh \
        "$BATS_TEST_TMPDIR/in" "$SSEPUB" -v --url "http://127.0.0.1:$port/" --retry-for 20s
    pub=$BG_PID
    exec 9>"$BATS_TEST_TMPDIR/in"
    seq 1 2000 >&9
    for i in $(seq 1 100); do [ "$(stat_of events_published)" -ge 2000 ] && break; sleep 0.05; done
    first_run=$(curl -s --max-time 5 "http://127.0.0.1:$port/_ssed/stats")
    exec 8>&-
    stop_pid "$SSED_PID"
    seq 2001 4000 >&9 # sent while ssed is down: ssepub must retry
    sleep 0.5
    start_ssed -l "127.0.0.1:$port" --no-stdin --history 100000 --replay 100000
    seq 4001 5000 >&9
    exec 9>&-
    wait_for_exit "$pub" 30
    [ "$EXIT_STATUS" -eq 0 ]
    grep -q 'retrying' "$BATS_TEST_TMPDIR/pub.err"
    # Every line exactly once across both runs: 2000 before the restart,
    # the other 3000 after, and the second run's history holds exactly them.
    [[ "$first_run" == *'"events_published":2000,'* ]]
    [ "$(stat_of events_published)" -eq 3000 ]
    subscribe all /
    wait_for_data "$BATS_TEST_TMPDIR/all" 3000 10
    [ "$(data_of "$BATS_TEST_TMPDIR/all")" = "$(seq 2001 5000)" ]
}

# start_pub_on_fifo NAME COMMAND...: ssepub (COMMAND) reading a FIFO that
# the test holds open on fd 9 and never closes, so its input never ends; only
# a signal can stop it. Sets PUB (its PID) and PUB_ERR.
start_pub_on_fifo() {
    local name=$1
    shift
    rm -f "$BATS_TEST_TMPDIR/$name.in"
    mkfifo "$BATS_TEST_TMPDIR/$name.in"
    PUB_ERR="$BATS_TEST_TMPDIR/$name.err"
    start_bg /dev/null "$PUB_ERR" sh -c 'f=$1; shift; exec "$@" <"$f"' sh "$BATS_TEST_TMPDIR/$name.in" "$@"
    PUB=$BG_PID
    exec 9>"$BATS_TEST_TMPDIR/$name.in"
}

@test "ssepub: Ctrl-C and SIGTERM stop it at once while stdin stays open (20 runs), exit 0 when all was delivered" {
    start_ssed
    subscribe s /
    for i in $(seq 1 20); do
        sig=INT
        [ $((i % 2)) -eq 0 ] && sig=TERM
        start_pub_on_fifo "run$i" "$SSEPUB" --url "$URL/"
        # Ready: a line it read has reached the subscriber, so its handlers
        # are in place and it is on its way back to waiting for input.
        echo "line $i" >&9
        wait_for_data "$BATS_TEST_TMPDIR/s" "$i" 10
        kill -"$sig" "$PUB"
        if ! wait_for_exit "$PUB" 5; then
            echo "run $i: ssepub did not stop within 5s of SIG$sig" >&2
            return 1
        fi
        exec 9>&-
        echo "run $i: SIG$sig -> exit $EXIT_STATUS"
        [ "$EXIT_STATUS" -eq 0 ]
        [ ! -s "$PUB_ERR" ]
    done
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(seq 1 20 | sed 's/^/line /')" ]
}

# A signal that lands after ssepub's stop-flag check and before it blocks
# waiting for stdin: hit every time by a preloaded shim that, just before a
# wait on stdin with no time limit, says so in a file and pauses 1 s. The
# test signals during that pause, as a badly timed Ctrl-C would.
build_wait_shim() {
    command -v cc >/dev/null || skip "no C compiler to build the shim"
    cat >"$BATS_TEST_TMPDIR/shim.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void pause_before_wait(void) {
    const char *ready = getenv("SHIM_READY");
    int fd = ready ? open(ready, O_CREAT | O_WRONLY | O_APPEND, 0644) : -1;
    if (fd >= 0) {
        if (write(fd, "waiting\n", 8) != 8)
            abort();
        close(fd);
    }
    struct timespec ts = {1, 0};
    nanosleep(&ts, NULL);
}

static int on_stdin(const struct pollfd *fds, nfds_t n) {
    for (nfds_t i = 0; i < n; i++)
        if (fds[i].fd == 0)
            return 1;
    return 0;
}

int poll(struct pollfd *fds, nfds_t n, int timeout) {
    int (*real)(struct pollfd *, nfds_t, int) = (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT, "poll");
    if (timeout < 0 && on_stdin(fds, n))
        pause_before_wait();
    return real(fds, n, timeout);
}

int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask) {
    int (*real)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *) =
        (int (*)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *))dlsym(RTLD_NEXT, "ppoll");
    if (!t && on_stdin(fds, n))
        pause_before_wait();
    return real(fds, n, t, mask);
}

ssize_t read(int fd, void *b, size_t len) {
    ssize_t (*real)(int, void *, size_t) = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    if (fd == 0)
        pause_before_wait();
    return real(fd, b, len);
}
C
    cc -shared -fPIC -o "$BATS_TEST_TMPDIR/shim.so" "$BATS_TEST_TMPDIR/shim.c" -ldl
}

@test "ssepub: a stop signal that lands just before it waits for stdin still stops it at once" {
    build_wait_shim
    port=$(free_port) # nothing is sent: no server is needed
    for run in "INT lines 0" "TERM lines 0" "INT --format=sse 0" "INT --stdin-whole 1"; do
        read -r sig mode want <<<"$run"
        opts=()
        [ "$mode" != lines ] && opts=("$mode")
        rm -f "$BATS_TEST_TMPDIR/ready"
        start_pub_on_fifo "$sig$mode" env SHIM_READY="$BATS_TEST_TMPDIR/ready" \
            LD_PRELOAD="$BATS_TEST_TMPDIR/shim.so" \
            ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
            "$SSEPUB" --url "http://127.0.0.1:$port/" "${opts[@]}"
        wait_for_line "$BATS_TEST_TMPDIR/ready" '^waiting$' 10
        kill -"$sig" "$PUB"
        if ! wait_for_exit "$PUB" 5; then
            echo "$mode: ssepub did not stop within 5s of SIG$sig" >&2
            return 1
        fi
        exec 9>&-
        echo "$mode: SIG$sig -> exit $EXIT_STATUS"
        [ "$EXIT_STATUS" -eq "$want" ]
    done
}

@test "ssepub: Ctrl-C while retrying an unreachable server gives up at once, exit 4" {
    port=$(free_port)
    start_pub_on_fifo retry "$SSEPUB" --url "http://127.0.0.1:$port/" --retry-for 60s
    echo "never delivered" >&9
    wait_for_line "$PUB_ERR" 'retrying for .* more' 10
    kill -INT "$PUB"
    wait_for_exit "$PUB" 5
    exec 9>&-
    [ "$EXIT_STATUS" -eq 4 ]
    grep -q '1 event not delivered: .*interrupted while retrying' "$PUB_ERR"
}

@test "ssepub: an unreachable server is worded as ssecat words it, and ssepub says it is still retrying" {
    port=$(free_port)
    run bash -c "echo x | '$SSEPUB' --url http://127.0.0.1:$port/ --retry-for 7s 2>&1"
    echo "$output"
    [ "$status" -eq 4 ]
    [[ "$output" == *"ssepub: cannot reach the server: connect http://127.0.0.1:$port/: Connection refused; retrying for 7s more (--retry-for)"* ]]
    [[ "$output" == *"still retrying for "*" more (--retry-for)"* ]]
    [[ "${output##*$'\n'}" == "ssepub: 1 event not delivered: still failing after 7s (--retry-for): connect http://127.0.0.1:$port/: Connection refused" ]]
}

@test "ssepub: a server that is down is said at once ('cannot reach'); the retries end when --retry-for does" {
    port=$(free_port)
    start_bg "$BATS_TEST_TMPDIR/pub.out" "$BATS_TEST_TMPDIR/pub.err" "$SSEPUB" --url "http://127.0.0.1:$port/" \
        --retry-for 3s hello
    local pub=$BG_PID start=$(date +%s%N)
    wait_for_line "$BATS_TEST_TMPDIR/pub.err" '^ssepub: cannot reach the server: connect .*Connection refused; retrying for 3s more' 1
    wait_for_exit "$pub" 10
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    cat "$BATS_TEST_TMPDIR/pub.err"
    [ "$EXIT_STATUS" -eq 4 ]
    [ "$elapsed_ms" -ge 3000 ]
    [ "$(wc -l <"$BATS_TEST_TMPDIR/pub.err")" -eq 2 ]
}

@test "ssepub: a URL that does not parse is a usage error (2), not retried" {
    run --separate-stderr -2 timeout 10 "$SSEPUB" --url 'http://[bad/' --retry-for 20s hello
    [ "$stderr" = "$(printf "ssepub: invalid URL 'http://[bad/': Bad IPv6 address\nTry 'ssepub --help' for more information.")" ]
    run --separate-stderr -2 timeout 10 env SSED_URL='http://[bad/' "$SSEPUB" --retry-for 20s hello
}

@test "ssepub: a host name that does not resolve (.invalid) ends it at once, exit 4, with a hint" {
    SECONDS=0
    run --separate-stderr -4 timeout 30 "$SSEPUB" --url http://no-such-host.invalid/ --retry-for 20s hello
    [ "$SECONDS" -lt 10 ]
    [ "$stderr" = "ssepub: 1 event not delivered: resolve http://no-such-host.invalid/: Could not resolve host: no-such-host.invalid (check the host name)" ]
}

@test "ssepub: a 5xx answer's status is said once, not twice" {
    start_sse_server '[{"status":503,"headers":{"Content-Type":"text/plain"},"chunks":["503 Service Unavailable: too many channels (--max-channels)\n"]}]'
    run --separate-stderr -4 timeout 20 "$SSEPUB" --url "http://127.0.0.1:$PORT/" --retry-for 300ms hello
    echo "$stderr"
    [[ "$stderr" == *"POST http://127.0.0.1:$PORT/: 503 Service Unavailable: too many channels (--max-channels)"* ]]
    [[ "$stderr" != *"503 503"* ]]
}

@test "ssepub: -u is USER:PASS as in curl; -u URL still works this release, with a warning" {
    start_ssed --no-stdin
    subscribe s /
    # credentials go to the server as basic authentication
    python3 - "$BATS_TEST_TMPDIR/auth" <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        open(sys.argv[1], "w").write(self.headers.get("Authorization", "none"))
        n = int(self.headers.get("Content-Length", 0)); self.rfile.read(n)
        body = b'{"accepted":1}'
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".port", "w").write(str(s.server_port))
s.handle_request()
PY
    echo $! >>"$BATS_TEST_TMPDIR/pids"
    for i in $(seq 1 300); do [ -s "$BATS_TEST_TMPDIR/auth.port" ] && break; sleep 0.1; done
    run "$SSEPUB" --url "http://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/auth.port")/" -u alice:s3cret hello
    [ "$status" -eq 0 ]
    [ "$(cat "$BATS_TEST_TMPDIR/auth")" = "Basic $(printf 'alice:s3cret' | base64)" ]
    run "$SSEPUB" -u nocolon hello
    [ "$status" -eq 2 ]
    [[ "$output" == *"expected USER:PASS"* ]]
    run --separate-stderr "$SSEPUB" -u "$URL/" old-style
    [ "$status" -eq 0 ]
    [[ "$stderr" == *"-u URL is deprecated"*"--url"* ]]
    wait_for_data "$BATS_TEST_TMPDIR/s" 1
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = old-style ]
}

@test "ssepub: no MESSAGE with a terminal for stdin prints the help (as mosquitto_pub does), exit 2" {
    command -v script >/dev/null || skip "script (util-linux) is not installed"
    run timeout 10 script -qec "'$SSEPUB' --url http://127.0.0.1:9/" /dev/null
    [ "$status" -eq 2 ]
    [[ "$output" == "ssepub: no MESSAGE given and standard input is a terminal (to type events: cat | ssepub)"* ]]
    [[ "$output" == *"Usage: ssepub [OPTIONS] [MESSAGE...]"* ]]
    # a MESSAGE, or stdin that is not a terminal, is published as before
    run timeout 10 script -qec "'$SSEPUB' --url http://127.0.0.1:9/ --retry-for 100ms hello" /dev/null
    [ "$status" -eq 4 ]
}
