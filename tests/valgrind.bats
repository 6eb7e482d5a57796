#!/usr/bin/env bats
# Memory checking of real scenarios under valgrind memcheck: no invalid
# access and no leak. ssed serves subscribers that come and go and
# publishers; ssecat reconnects across a restart of ssed.

load lib/helpers

VALGRIND=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect --track-fds=no)

setup() {
    command -v valgrind >/dev/null || skip "valgrind is not installed (make deps)"
    [ -z "${SSETOOLS_SANITIZED:-}" ] || skip "not with AddressSanitizer builds"
}

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
}

# start_ssed_valgrind PORT [OPTIONS...]: ssed under memcheck, fed on fd 8.
start_ssed_valgrind() {
    local port=$1
    shift
    FEED="$BATS_TEST_TMPDIR/feed"
    SSED_ERR="$BATS_TEST_TMPDIR/ssed-vg.err"
    rm -f "$FEED"
    mkfifo "$FEED"
    "${VALGRIND[@]}" "$SSED" -l "127.0.0.1:$port" "$@" <"$FEED" >/dev/null 2>"$SSED_ERR" 3>&- 8>&- &
    SSED_PID=$!
    echo "$SSED_PID" >>"$BATS_TEST_TMPDIR/pids"
    exec 8>"$FEED"
    wait_for_line "$SSED_ERR" 'serving http' 30
    URL="http://127.0.0.1:$port"
    PORT=$port
}

@test "valgrind: ssed with subscribers coming and going and publishers: no errors, no leaks" {
    start_ssed_valgrind "$(free_port)" --replay 5 --keepalive 100ms
    for round in 1 2 3; do
        for i in 1 2 3 4 5; do
            curl -sN --max-time 2 "$URL/" >/dev/null 2>&1 3>&- 8>&- &
            echo $! >>"$BATS_TEST_TMPDIR/pids"
        done
        curl -sN --max-time 2 "$URL/?channels=a,b" >/dev/null 2>&1 3>&- 8>&- &
        seq 1 200 >&8
        curl -s --max-time 5 -d "$(seq 1 50)" "$URL/a" >/dev/null
        printf 'POST /b HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n\r\n9\r\ndata: x\n\n\r\n0\r\n\r\n' |
            python3 "$TOP/tests/lib/http_raw.py" "$PORT" >/dev/null
        printf 'GARBAGE\r\n\r\n' | python3 "$TOP/tests/lib/http_raw.py" "$PORT" >/dev/null
        curl -s --max-time 5 "$URL/_ssed/stats" >/dev/null
        sleep 1
    done
    kill -TERM "$SSED_PID"
    wait_for_exit "$SSED_PID" 30
    cat "$SSED_ERR"
    [ "$EXIT_STATUS" -eq 0 ]
    ! grep -q '==[0-9]*==' "$SSED_ERR"
}

@test "valgrind: ssecat reconnecting across a restart of ssed: no errors, no leaks" {
    port=$(free_port)
    start_ssed --replay 0 -l "127.0.0.1:$port"
    "${VALGRIND[@]}" "$SSECAT" -s -e message -n 6 --retry-delay 200ms -o json "http://127.0.0.1:$port/" \
        >"$BATS_TEST_TMPDIR/cat.out" 2>"$BATS_TEST_TMPDIR/cat.err" 3>&- 8>&- &
    cat_pid=$!
    echo $cat_pid >>"$BATS_TEST_TMPDIR/pids"
    for i in $(seq 1 100); do [ "$(stat_of subscribers 2>/dev/null)" = 1 ] && break; sleep 0.1; done
    seq 1 3 >&8
    wait_for_lines "$BATS_TEST_TMPDIR/cat.out" 3 20
    exec 8>&-
    stop_pid "$SSED_PID"
    start_ssed -l "127.0.0.1:$port"
    for i in $(seq 1 100); do [ "$(stat_of subscribers 2>/dev/null)" = 1 ] && break; sleep 0.1; done
    seq 4 6 >&8
    wait_for_exit "$cat_pid" 30
    cat "$BATS_TEST_TMPDIR/cat.err"
    [ "$EXIT_STATUS" -eq 0 ]
    [ "$(wc -l <"$BATS_TEST_TMPDIR/cat.out")" -eq 6 ]
    ! grep -q '==[0-9]*==' "$BATS_TEST_TMPDIR/cat.err"
}

@test "valgrind: ssepub publishing lines, a whole message and an event stream: no errors, no leaks" {
    start_ssed --no-stdin
    subscribe s /
    run bash -c "seq 1 3000 | ${VALGRIND[*]} '$SSEPUB' --url '$URL/' -e n"
    echo "$output"
    [ "$status" -eq 0 ]
    run bash -c "printf 'event: a\nid: 1\ndata: x\n\n' | ${VALGRIND[*]} '$SSEPUB' --url '$URL/' --format sse"
    [ "$status" -eq 0 ]
    run "${VALGRIND[@]}" "$SSEPUB" --url "http://127.0.0.1:$(free_port)/" --retry-for 300ms "nobody listens"
    [ "$status" -eq 4 ]
    [[ "$output" != *"=="[0-9]*"=="* ]]
    wait_for_data "$BATS_TEST_TMPDIR/s" 3001
}

@test "valgrind: ssed --config (good and bad files) and systemd notification: no errors, no leaks" {
    conf="$BATS_TEST_TMPDIR/ssed.conf"
    printf '# test\nhistory 10\nlisten unix:%s\nallow-host example.test\ncors *\n' "$BATS_TEST_TMPDIR/s.sock" >"$conf"
    python3 "$TOP/tests/lib/notify_listener.py" "$BATS_TEST_TMPDIR/notify.sock" >"$BATS_TEST_TMPDIR/notify" 2>&1 3>&- 8>&- &
    echo $! >>"$BATS_TEST_TMPDIR/pids"
    wait_for_line "$BATS_TEST_TMPDIR/notify" '^listening$' 10
    NOTIFY_SOCKET="$BATS_TEST_TMPDIR/notify.sock" WATCHDOG_USEC=100000 \
        start_ssed_valgrind "$(free_port)" --config "$conf" --no-stdin
    wait_for_line "$BATS_TEST_TMPDIR/notify" '^WATCHDOG=1$' 30
    curl -s --max-time 5 -d "event" "$URL/" >/dev/null
    kill -TERM "$SSED_PID"
    wait_for_exit "$SSED_PID" 30
    cat "$SSED_ERR"
    [ "$EXIT_STATUS" -eq 0 ]
    [ "$(grep -c '==[0-9]*==' "$SSED_ERR")" -eq 0 ]
    printf 'history 10\nhistory 11\n' >"$conf"
    run "${VALGRIND[@]}" "$SSED" --config "$conf"
    [ "$status" -eq 2 ]
    [[ "$output" == *"given twice"* ]]
}

@test "valgrind: ssed over TLS with subscribers, a publish, a bad handshake and a certificate reload: no errors, no leaks" {
    local certs="$BATS_TEST_TMPDIR/certs"
    mkdir -p "$certs"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
        -keyout "$certs/k.pem" -out "$certs/c.pem" 2>/dev/null
    start_ssed_valgrind "$(free_port)" --tls-cert "$certs/c.pem" --tls-key "$certs/k.pem" --keepalive 100ms
    URL="https://127.0.0.1:$PORT"
    for i in 1 2 3; do
        curl -sNk --max-time 3 "$URL/" >/dev/null 2>&1 3>&- 8>&- &
        echo $! >>"$BATS_TEST_TMPDIR/pids"
    done
    seq 1 200 >&8
    curl -sk --max-time 10 -d "$(seq 1 50)" "$URL/" >/dev/null
    python3 "$TOP/tests/lib/tls_hostile.py" "$PORT" garbage 20 >/dev/null
    python3 "$TOP/tests/lib/tls_hostile.py" "$PORT" plaintext 20 >/dev/null
    kill -HUP "$SSED_PID"
    wait_for_line "$SSED_ERR" 'TLS certificate reloaded' 30
    curl -sk --max-time 10 "$URL/_ssed/stats" >/dev/null
    kill -TERM "$SSED_PID"
    wait_for_exit "$SSED_PID" 30
    cat "$SSED_ERR"
    [ "$EXIT_STATUS" -eq 0 ]
    ! grep -q '==[0-9]*==' "$SSED_ERR"
}

@test "valgrind: ssed over HTTP/2 (h2c and h2 over TLS) with subscribers, a streamed publish, resets and GOAWAYs: no errors, no leaks" {
    grep -qa nghttp2_session_mem_recv "$SSED" || skip "this ssed was built without HTTP/2 (make H2=0)"
    local certs="$BATS_TEST_TMPDIR/certs" h2c_port
    mkdir -p "$certs"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
        -keyout "$certs/k.pem" -out "$certs/c.pem" 2>/dev/null
    h2c_port=$(free_port)
    start_ssed_valgrind "$(free_port)" --tls-cert "$certs/c.pem" --tls-key "$certs/k.pem" \
        -l "http://127.0.0.1:$h2c_port" --keepalive 100ms --h2-max-streams 8
    wait_for_line "$SSED_ERR" "serving http://127.0.0.1:$h2c_port/" 30
    URL="http://127.0.0.1:$h2c_port"
    for i in 1 2 3; do
        curl -sN --http2-prior-knowledge --max-time 90 "http://127.0.0.1:$h2c_port/?channels=a,b" \
            >"$BATS_TEST_TMPDIR/h2c$i" 2>&1 3>&- 8>&- &
        echo $! >>"$BATS_TEST_TMPDIR/pids"
        curl -sNk --http2 --max-time 90 "https://127.0.0.1:$PORT/a" >"$BATS_TEST_TMPDIR/tls$i" 2>&1 3>&- 8>&- &
        echo $! >>"$BATS_TEST_TMPDIR/pids"
    done
    wait_for_stat subscribers -eq 6 60
    # A publish whose body streams in DATA frames of unknown total length.
    seq 1 300 | curl -sk --http2 --max-time 20 -X POST -T - "https://127.0.0.1:$PORT/a" >/dev/null
    seq 1 300 | curl -s --http2-prior-knowledge --max-time 20 -X POST -T - "http://127.0.0.1:$h2c_port/b" >/dev/null
    seq 1 100 >&8
    for i in 1 2 3; do
        wait_for_data "$BATS_TEST_TMPDIR/h2c$i" 600 60
        wait_for_data "$BATS_TEST_TMPDIR/tls$i" 300 60
    done
    python3 "$TOP/tests/lib/h2_raw.py" "$h2c_port" rapid-reset 20 5 >"$BATS_TEST_TMPDIR/raw"
    python3 "$TOP/tests/lib/h2_raw.py" "$h2c_port" too-many-streams 8 3 >>"$BATS_TEST_TMPDIR/raw"
    python3 "$TOP/tests/lib/h2_raw.py" "$h2c_port" garbage-frames 0 10 >>"$BATS_TEST_TMPDIR/raw"
    python3 "$TOP/tests/lib/h2_raw.py" "$h2c_port" window-overflow 0 10 >>"$BATS_TEST_TMPDIR/raw"
    python3 "$TOP/tests/lib/h2_raw.py" "$h2c_port" provoked-reset 300 10 >>"$BATS_TEST_TMPDIR/raw"
    grep -v "^RST_STREAM" "$BATS_TEST_TMPDIR/raw"
    grep -q 'RST_STREAM stream=17 code=7' "$BATS_TEST_TMPDIR/raw" # the ninth stream, refused
    [ "$(grep -c '^GOAWAY' "$BATS_TEST_TMPDIR/raw")" -ge 3 ]
    kill -TERM "$SSED_PID"
    wait_for_exit "$SSED_PID" 60
    cat "$SSED_ERR"
    [ "$EXIT_STATUS" -eq 0 ]
    ! grep -q '==[0-9]*==' "$SSED_ERR"
}
