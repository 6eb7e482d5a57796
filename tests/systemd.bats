#!/usr/bin/env bats
# ssed under systemd: socket activation (systemd-socket-activate passes the
# listening socket as systemd does), Type=notify readiness and stopping, the
# watchdog, and the installed units as systemd-analyze reads them.

load lib/helpers

teardown() {
    stop_all
}

# start_notify_listener ADDRESS [NAME]: a stand-in for systemd's notification
# socket, printing each message it gets to $BATS_TEST_TMPDIR/NAME (default
# notify), left in NOTIFY.
start_notify_listener() {
    NOTIFY="$BATS_TEST_TMPDIR/${2:-notify}"
    start_bg "$NOTIFY" "$NOTIFY.err" python3 "$TOP/tests/lib/notify_listener.py" "$1"
    wait_for_line "$NOTIFY" '^listening$' 10
}

need_socket_activate() {
    command -v systemd-socket-activate >/dev/null || skip "systemd-socket-activate is not installed (Debian: systemd)"
}

@test "socket activation: ssed serves the socket systemd passes, not --listen, and names it" {
    need_socket_activate
    PORT=$(free_port)
    URL="http://127.0.0.1:$PORT"
    # --listen names a port ssed could not bind (1): it must not try.
    start_bg "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" \
        systemd-socket-activate -l "127.0.0.1:$PORT" --fdname=web "$SSED" --no-stdin -c news -l 127.0.0.1:1
    SSED_PID=$BG_PID
    # connect only once the port is bound; the first connection starts ssed
    wait_for_line "$BATS_TEST_TMPDIR/err" '^Listening on ' 10
    subscribe sub /news
    # the name follows the whole URL, channel included
    wait_for_line "$BATS_TEST_TMPDIR/err" "serving http://127.0.0.1:$PORT/news \\(web\\)$" 10
    grep -q 'socket activation: serving the 1 socket systemd passed (--listen is not used)' "$BATS_TEST_TMPDIR/err"
    [ "$(grep -c '127.0.0.1:1/' "$BATS_TEST_TMPDIR/err")" -eq 0 ]
    run curl -s --max-time 10 -d 'through the passed socket' "$URL/news"
    [ "$status" -eq 0 ]
    [[ "$output" == *'"accepted":1'* ]]
    wait_for_data "$BATS_TEST_TMPDIR/sub" 1
    [ "$(data_of "$BATS_TEST_TMPDIR/sub")" = "through the passed socket" ]
    stop_pid "$SSED_PID"
    wait_for_exit "$SSED_PID" 10
}

@test "socket activation: LISTEN_PID of another process is ignored, and --listen is used" {
    LISTEN_PID=1 LISTEN_FDS=1 LISTEN_FDNAMES=other start_ssed --no-stdin
    [ "$(grep -c 'socket activation' "$SSED_ERR")" -eq 0 ]
    run curl -s --max-time 10 "$URL/_ssed/health"
    [ "$status" -eq 0 ]
}

@test "socket activation: a passed descriptor that is not a listening socket, or garbage in LISTEN_FDS, is refused" {
    run sh -c 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" --no-stdin -l 127.0.0.1:0 3</dev/null' "$SSED"
    [ "$status" -eq 1 ]
    [[ "$output" == *"socket activation: descriptor 3 (unnamed) is not a listening stream socket"* ]]
    # an accepted connection (what Accept=yes passes) is no listener either
    run python3 -c '
import os, socket, sys
listener = socket.create_server(("127.0.0.1", 0))
client = socket.create_connection(listener.getsockname())
accepted, _ = listener.accept()
os.dup2(accepted.fileno(), 3)
os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS="1", LISTEN_FDNAMES="conn")
os.execv(sys.argv[1], [sys.argv[1], "--no-stdin", "-l", "127.0.0.1:0"])' "$SSED"
    [ "$status" -eq 1 ]
    [[ "$output" == *"descriptor 3 (conn) is not a listening stream socket (the socket unit needs ListenStream= and Accept=no)"* ]]
    run sh -c 'LISTEN_PID=$$ LISTEN_FDS=two exec "$0" --no-stdin -l 127.0.0.1:0' "$SSED"
    [ "$status" -eq 1 ]
    [[ "$output" == *"LISTEN_PID or LISTEN_FDS is not a number"* ]]
    run sh -c 'LISTEN_PID=$$ LISTEN_FDS=17 exec "$0" --no-stdin -l 127.0.0.1:0' "$SSED"
    [ "$status" -eq 1 ]
    [[ "$output" == *"17 sockets passed, at most 16 can be served"* ]]
}

@test "socket activation: LISTEN_PID ours without LISTEN_FDS is no sockets; names that do not pair up are ignored" {
    # as sd_listen_fds(3): nothing passed, so --listen is used
    start_bg "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" \
        sh -c 'LISTEN_PID=$$ exec "$0" --no-stdin -l 127.0.0.1:0' "$SSED"
    wait_for_line "$BATS_TEST_TMPDIR/err" 'serving http://127\.0\.0\.1:[0-9]+/$' 10
    [ "$(grep -c 'socket activation' "$BATS_TEST_TMPDIR/err")" -eq 0 ]
    # one socket, two names: served, unnamed, with a warning
    PORT=$(free_port)
    start_bg "$BATS_TEST_TMPDIR/out2" "$BATS_TEST_TMPDIR/err2" python3 -c '
import os, socket, sys
listener = socket.create_server(("127.0.0.1", int(sys.argv[2])))
os.dup2(listener.fileno(), 3)
os.set_inheritable(3, True)  # the listener may be descriptor 3 already
os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS="1", LISTEN_FDNAMES="web:extra")
os.execv(sys.argv[1], [sys.argv[1], "--no-stdin", "-l", "127.0.0.1:1"])' "$SSED" "$PORT"
    wait_for_line "$BATS_TEST_TMPDIR/err2" "serving http://127.0.0.1:$PORT/\$" 10
    grep -q 'LISTEN_FDNAMES has 2 names for 1 socket; ignoring the names' "$BATS_TEST_TMPDIR/err2"
    run curl -s --max-time 10 "http://127.0.0.1:$PORT/_ssed/health"
    [ "$status" -eq 0 ]
}

@test "notify: READY=1 once listening, STOPPING=1 on SIGTERM, through a socket path" {
    start_notify_listener "$BATS_TEST_TMPDIR/notify.sock"
    NOTIFY_SOCKET="$BATS_TEST_TMPDIR/notify.sock" start_ssed --no-stdin
    wait_for_line "$NOTIFY" '^READY=1$' 10
    [ "$(grep -c '^STOPPING=1$' "$NOTIFY")" -eq 0 ]
    # ready means ready: the server answers now
    run curl -s --max-time 10 "$URL/_ssed/health"
    [ "$status" -eq 0 ]
    kill -TERM "$SSED_PID"
    wait_for_line "$NOTIFY" '^STOPPING=1$' 10
    wait_for_exit "$SSED_PID" 10
    [ "$EXIT_STATUS" -eq 0 ]
    [ "$(grep -vx listening "$NOTIFY" | tr '\n' ' ')" = "READY=1 STOPPING=1 " ]
}

@test "notify: an abstract NOTIFY_SOCKET (@name) works, and a bad one is a warning, not a failure" {
    name="@ssed-test-$$-$RANDOM"
    start_notify_listener "$name"
    NOTIFY_SOCKET="$name" start_ssed --no-stdin
    wait_for_line "$NOTIFY" '^READY=1$' 10
    stop_pid "$SSED_PID"
    NOTIFY_SOCKET="relative/path" start_ssed --no-stdin
    grep -q "NOTIFY_SOCKET 'relative/path': not a socket path or @name; not notifying systemd" "$SSED_ERR"
    stop_pid "$SSED_PID"
    # nobody listening there: ssed serves anyway, and says so once however
    # often it tries (every 10 ms here, and at shutdown)
    NOTIFY_SOCKET="$BATS_TEST_TMPDIR/nobody.sock" WATCHDOG_USEC=20000 start_ssed --no-stdin
    run curl -s --max-time 10 "$URL/_ssed/health"
    [ "$status" -eq 0 ]
    stop_pid "$SSED_PID"
    wait_for_exit "$SSED_PID" 10
    [ "$EXIT_STATUS" -eq 0 ]
    [ "$(grep -c 'notifying systemd' "$SSED_ERR")" -eq 1 ]
    grep -q 'notifying systemd (READY=1): No such file or directory' "$SSED_ERR"
}

@test "watchdog: WATCHDOG=1 every half of WATCHDOG_USEC, and none when WATCHDOG_PID is another process" {
    start_notify_listener "$BATS_TEST_TMPDIR/notify.sock"
    NOTIFY_SOCKET="$BATS_TEST_TMPDIR/notify.sock" WATCHDOG_USEC=200000 start_ssed --no-stdin
    wait_for_line "$NOTIFY" '^READY=1$' 10
    for i in $(seq 1 $((100 * SSETOOLS_WAIT_SCALE))); do
        [ "$(grep -c '^WATCHDOG=1$' "$NOTIFY")" -ge 5 ] && break
        sleep 0.1
    done
    [ "$(grep -c '^WATCHDOG=1$' "$NOTIFY")" -ge 5 ]
    stop_pid "$SSED_PID"

    # a listener of its own, writing a file of its own
    start_notify_listener "$BATS_TEST_TMPDIR/notify2.sock" notify2
    NOTIFY_SOCKET="$BATS_TEST_TMPDIR/notify2.sock" WATCHDOG_USEC=100000 WATCHDOG_PID=1 \
        start_ssed --no-stdin --keepalive 200ms
    wait_for_line "$NOTIFY" '^READY=1$' 10
    # three keep-alives to a subscriber: the loop turned for 600 ms, in which
    # ssed would have sent a dozen WATCHDOG=1 had it taken WATCHDOG_USEC
    subscribe sub /
    for i in $(seq 1 $((100 * SSETOOLS_WAIT_SCALE))); do
        [ "$(grep -c '^: keep-alive' "$BATS_TEST_TMPDIR/sub")" -ge 3 ] && break
        sleep 0.1
    done
    [ "$(grep -c '^: keep-alive' "$BATS_TEST_TMPDIR/sub")" -ge 3 ]
    [ "$(grep -c '^WATCHDOG=1$' "$NOTIFY")" -eq 0 ]
}

@test "watchdog: a notification socket nobody reads fills up, and ssed drops notifications instead of blocking" {
    sock="$BATS_TEST_TMPDIR/deaf.sock"
    # bound, never read: its queue fills within milliseconds of WATCHDOG=1
    # every 1 ms; a blocking send would then freeze ssed's event loop
    start_bg "$BATS_TEST_TMPDIR/deaf" "$BATS_TEST_TMPDIR/deaf.err" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
time.sleep(600)' "$sock"
    wait_for_line "$BATS_TEST_TMPDIR/deaf" '^listening$' 10
    NOTIFY_SOCKET="$sock" WATCHDOG_USEC=2000 start_ssed --no-stdin
    wait_for_line "$SSED_ERR" 'its socket is full \(nobody reading\?\); dropping notifications' 10
    for i in 1 2 3; do
        run curl -s --max-time 10 "$URL/_ssed/health"
        [ "$status" -eq 0 ]
    done
    kill -TERM "$SSED_PID"
    wait_for_exit "$SSED_PID" 10
    [ "$EXIT_STATUS" -eq 0 ]
    [ "$(grep -c 'notifying systemd' "$SSED_ERR")" -eq 1 ]
}

@test "units: systemd-analyze verify accepts the installed ssed.service and ssed.socket" {
    command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed (Debian: systemd)"
    # installed for real under a temporary PREFIX, so that ExecStart names a
    # binary that exists (verify checks it)
    prefix="$BATS_TEST_TMPDIR/prefix"
    build=$(basename "$SSETOOLS_BUILD")
    san=()
    [[ "$build" == *-san ]] && san=(SANITIZE=1)
    run make -C "$TOP" -s install "${san[@]}" BUILD_DIR="$build" PREFIX="$prefix"
    [ "$status" -eq 0 ]
    units="$prefix/lib/systemd/system"
    grep -qx "ExecStart=$prefix/bin/ssed --config $prefix/etc/ssed/ssed.conf" "$units/ssed.service"
    # systemctl reload ssed: SIGHUP, which ssed takes without ending
    grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$units/ssed.service"
    run timeout 60 systemd-analyze verify --man=no "$units/ssed.service" "$units/ssed.socket"
    if [ "$status" -ne 0 ] && [[ "$output" == *"Failed to "*"manager"* ]]; then
        skip "systemd-analyze cannot run here: $output"
    fi
    echo "$output"
    [ "$status" -eq 0 ]
    # verify only warns about unknown or misspelled settings: none allowed
    [ -z "$output" ]
    # the example configuration is one ssed starts with
    start_bg "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" \
        "$prefix/bin/ssed" --config "$prefix/etc/ssed/ssed.conf" --listen 127.0.0.1:0
    wait_for_line "$BATS_TEST_TMPDIR/err" 'serving http://127\.0\.0\.1:[0-9]+/' 10
}

@test "units: the unit's ExecReload, run against a plain-HTTP ssed, reloads it without ending it" {
    reload=$(sed -n 's/^ExecReload=//p' "$TOP/cmd/ssed/systemd/ssed.service.in")
    [ -n "$reload" ]
    start_ssed
    MAINPID=$SSED_PID
    run sh -c "${reload//\$MAINPID/$MAINPID}"
    [ "$status" -eq 0 ]
    wait_for_line "$SSED_ERR" 'SIGHUP: nothing to reload' 10
    kill -0 "$SSED_PID"
}
