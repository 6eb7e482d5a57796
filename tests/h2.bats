#!/usr/bin/env bats
# ssed over HTTP/2: h2c with prior knowledge and h2 over TLS (ALPN), with
# real clients (curl, nghttp, ssecat) and a raw-frame client
# (lib/h2_raw.py) for what they will not do: many streams on one
# connection, one stalled stream, and protocol abuse. Every test that uses
# TLS makes its own certificate with openssl.

load lib/helpers

H2="--http2-prior-knowledge"

setup() {
    grep -qa nghttp2_session_mem_recv "$SSED" || skip "this ssed was built without HTTP/2 (make H2=0)"
}

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
}

make_cert() {
    mkdir -p "$BATS_TEST_TMPDIR/certs"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$BATS_TEST_TMPDIR/certs/server.key" -out "$BATS_TEST_TMPDIR/certs/server.pem" 2>/dev/null
}

# start_both [OPTIONS...]: ssed on a plaintext and a TLS port (both 0);
# URL is plaintext (h2c), TLS_URL is https.
start_both() {
    make_cert
    SSED_LISTEN=http://127.0.0.1:0 start_ssed --listen https://127.0.0.1:0 --tls-cert "$BATS_TEST_TMPDIR/certs/server.pem" \
        --tls-key "$BATS_TEST_TMPDIR/certs/server.key" "$@"
    wait_for_line "$SSED_ERR" 'serving https://127\.0\.0\.1:[0-9]+/' 10
    TLS_URL="https://127.0.0.1:$(grep -oE 'serving https://127\.0\.0\.1:[0-9]+' "$SSED_ERR" | head -1 | sed 's/.*://')"
    export CURL_CA_BUNDLE="$BATS_TEST_TMPDIR/certs/server.pem"
}

# browser_test SCRIPT PORTS...: tests/browser/SCRIPT in Chromium against
# this ssed, given PORTS and a new certificate and key; skips without
# Chromium.
browser_test() {
    [ -x /usr/bin/chromium ] || skip "chromium is not installed (make deps)"
    [ -d "$TOP/tests/node_modules/playwright-core" ] || skip "playwright-core is not installed (make deps)"
    make_cert
    run timeout 120 node "$TOP/tests/browser/$1" "$SSED" "${@:2}" \
        "$BATS_TEST_TMPDIR/certs/server.pem" "$BATS_TEST_TMPDIR/certs/server.key"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"all checks passed"* ]]
}

raw_h2() {
    python3 "$TOP/tests/lib/h2_raw.py" "$PORT" "$@"
}

@test "h2: curl --http2-prior-knowledge subscribes, publishes, resumes, reads several channels" {
    start_ssed --verbose
    subscribe a /news $H2
    subscribe both "/?channels=news,sport" $H2
    run curl -s $H2 --max-time 5 -w ' %{http_code} %{http_version}' --data-binary $'one\ntwo' "$URL/news"
    [[ "$output" == *'"accepted":2'*' 200 2' ]]
    run curl -s $H2 --max-time 5 --data-binary three "$URL/sport"
    [ "$status" -eq 0 ]
    wait_for_data "$BATS_TEST_TMPDIR/a" 2
    wait_for_data "$BATS_TEST_TMPDIR/both" 3
    [ "$(data_of "$BATS_TEST_TMPDIR/a")" = $'one\ntwo' ]
    [ "$(data_of "$BATS_TEST_TMPDIR/both")" = $'one\ntwo\nthree' ]
    local first
    first=$(grep -m1 '^id:' "$BATS_TEST_TMPDIR/a" | sed 's/^id: *//')
    subscribe resumed /news $H2 -H "Last-Event-ID: $first"
    wait_for_data "$BATS_TEST_TMPDIR/resumed" 1
    [ "$(data_of "$BATS_TEST_TMPDIR/resumed")" = two ]
    # A body larger than one window streams through in DATA frames.
    seq 1 20000 | curl -s $H2 --max-time 10 --data-binary @- "$URL/bulk" >"$BATS_TEST_TMPDIR/bulk"
    grep -q '"accepted":20000' "$BATS_TEST_TMPDIR/bulk"
    grep -qE 'connect peer=127.0.0.1:[0-9]+ channel=/news' "$SSED_ERR"
}

@test "h2: stats, the viewer page, CORS preflight, and 404, 405 and 400 errors over h2c" {
    start_ssed --cors https://example.com
    run curl -s $H2 --max-time 5 -w '\n%{http_code} %{http_version}' "$URL/_ssed/stats"
    [[ "$output" == *'"subscribers":0'* ]]
    [[ "$output" == *$'\n200 2' ]]
    run curl -s $H2 --max-time 5 -H 'Accept: text/html' -w '\n%{http_code} %{content_type}' "$URL/news"
    [[ "$output" == *"<html"* ]]
    [[ "$output" == *$'\n200 text/html'* ]]
    run curl -si $H2 --max-time 5 -X OPTIONS -H 'Origin: https://example.com' \
        -H 'Access-Control-Request-Method: GET' "$URL/news"
    [[ "$output" == "HTTP/2 204"* ]]
    [[ "$output" == *"access-control-allow-origin: https://example.com"* ]]
    # HTTP/1.1's connection headers never reach an HTTP/2 client.
    [[ "$output" != *"connection:"* ]]
    run curl -si $H2 --max-time 5 "$URL/_ssed/nothing"
    [[ "$output" == "HTTP/2 404"* ]]
    [[ "$output" == *"404 Not Found: "* ]]
    run curl -si $H2 --max-time 5 -X DELETE "$URL/news"
    [[ "$output" == "HTTP/2 405"* ]]
    [[ "$output" == *"allow: GET, HEAD, OPTIONS, POST"* ]]
    run curl -si $H2 --max-time 5 "$URL/bad%20name"
    [[ "$output" == "HTTP/2 400"* ]]
    # A refused HEAD is a head alone (found by fuzz_ssed_lifecycle): its
    # body in DATA made nghttp2 reset the stream, and over HTTP/1.1 it would
    # be read as the next response.
    run curl -sI $H2 --max-time 5 "$URL/bad%20name"
    [ "$status" -eq 0 ]
    [[ "$output" == "HTTP/2 400"* ]]
    run bash -c "printf 'HEAD /bad%%20name HTTP/1.1\r\nHost: localhost\r\n\r\n' | python3 '$TOP/tests/lib/http_raw.py' '$PORT'"
    [[ "$output" == "HTTP/1.1 400"* ]]
    [[ "$output" != *"400 Bad Request:"* ]]
    # A head larger than --max-header-size gets 431 on its stream.
    run curl -si $H2 --max-time 5 -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' x)" "$URL/news"
    [[ "$output" == "HTTP/2 431"* ]]
    [ "$(curl -s $H2 --max-time 5 "$URL/_ssed/health")" = ok ]
}

# answer [CURL OPTIONS...] METHOD PATH: the body and status ssed gives.
answer() {
    local args=("${@:1:$#-2}") method=${*: -2:1} path=${*: -1}
    curl -s --max-time 5 "${args[@]}" -X "$method" -w ' %{http_code}' "$URL$path"
}

@test "h2: a :method of any length is answered as HTTP/1.1 answers it (405, 414 past --max-header-size), never cut short" {
    start_ssed --max-header-size 1KiB --no-stdin
    local long
    long=$(head -c 2000 /dev/zero | tr '\0' A)
    for method in GETGETGETGETGETG OPTIONSOPTIONSOPTIONS "POST${long:0:300}" "GET$long"; do
        h1=$(answer "$method" /news)
        h2=$(answer $H2 "$method" /news)
        echo "${method:0:24}: HTTP/1.1 '$h1', HTTP/2 '$h2'"
        [ -n "$h1" ]
        [ "$h2" = "$h1" ]
    done
    [[ "$(answer $H2 "GET$long" /news)" == "414 URI Too Long: request line too long"*" 414" ]]
    # A request line just past the limit, made of a short method and a long path.
    h1=$(answer GET "/$(head -c 1100 /dev/zero | tr '\0' a)")
    [[ "$h1" == *" 414" ]]
    [ "$(answer $H2 GET "/$(head -c 1100 /dev/zero | tr '\0' a)")" = "$h1" ]
    # A POST with a method cut to fit would publish; this one is refused whole.
    run curl -s $H2 --max-time 5 -X "POST${long:0:12}" --data-binary x -w ' %{http_code}' "$URL/news"
    [[ "$output" == *" 405" ]]
    [ "$(stat_of events_published)" -eq 0 ]
    # Bytes that could end the request line early never reach it: nghttp2
    # refuses the stream (PROTOCOL_ERROR).
    for method in 'GET\x00AAAAAAAAAAAAAAAA' 'GET /x' 'GET\r\nX-A: b'; do
        run env H2_METHOD="$method" python3 "$TOP/tests/lib/h2_raw.py" "$PORT" request 0 2
        [[ "$output" == *"RST_STREAM stream=1 code=1"* ]]
        [[ "$output" != *STATUS* ]]
    done
    run env H2_HEADER='x-a: b\r\nhost: elsewhere' python3 "$TOP/tests/lib/h2_raw.py" "$PORT" request 0 2
    [[ "$output" == *"RST_STREAM stream=1 code=1"* ]]
    run env H2_METHOD=DELETE python3 "$TOP/tests/lib/h2_raw.py" "$PORT" request 0 2
    [[ "$output" == *$'STATUS 405\nBODY 405 Method Not Allowed'* ]]
}

@test "h2: curl --http2 over TLS agrees on h2 by ALPN; ssecat's default negotiation gets h2 and reads events" {
    start_both --verbose
    run curl -sv --http2 --max-time 5 "$TLS_URL/_ssed/health"
    [[ "$output" == *"ALPN: server accepted h2"* ]]
    [[ "$output" == *"< HTTP/2 200"* ]]
    run curl -sv --http1.1 --max-time 5 "$TLS_URL/_ssed/health"
    [[ "$output" == *"ALPN: server accepted http/1.1"* ]]
    start_bg "$BATS_TEST_TMPDIR/cat" "$BATS_TEST_TMPDIR/cat.err" \
        "$SSECAT" -v --cacert "$BATS_TEST_TMPDIR/certs/server.pem" "$TLS_URL/"
    URL=$TLS_URL subscribe tls / --http2
    # Both subscribed (a 'connect' line in the log may be either's).
    wait_for_stat subscribers -ge 2 10
    echo over-tls >&8
    wait_for_data "$BATS_TEST_TMPDIR/tls" 1
    wait_for_line "$BATS_TEST_TMPDIR/cat" '^over-tls$' 10
    grep -q 'ALPN: server accepted h2' "$BATS_TEST_TMPDIR/cat.err"
}

@test "h2: nghttp -v subscribes several streams on one connection; each gets every event" {
    command -v nghttp >/dev/null || skip "nghttp is not installed (make deps)"
    start_ssed --verbose
    start_bg "$BATS_TEST_TMPDIR/ng" "$BATS_TEST_TMPDIR/ng.err" \
        timeout 30 nghttp -v "$URL/" "$URL/?a=1" "$URL/?a=2" "$URL/?a=3"
    wait_for_line "$BATS_TEST_TMPDIR/ng" 'recv SETTINGS frame' 10
    for _ in $(seq 1 200); do
        [ "$(grep -cE 'connect peer=127.0.0.1:[0-9]+ channel=/$' "$SSED_ERR")" -ge 4 ] && break
        sleep 0.05
    done
    # Four streams, one connection: one peer address in the log.
    [ "$(grep -oE 'connect peer=127.0.0.1:[0-9]+ channel=/$' "$SSED_ERR" | sort -u | wc -l)" -eq 1 ]
    [ "$(grep -cE 'connect peer=127.0.0.1:[0-9]+ channel=/$' "$SSED_ERR")" -eq 4 ]
    grep -q 'SETTINGS_MAX_CONCURRENT_STREAMS(0x03):256' "$BATS_TEST_TMPDIR/ng"
    for i in 1 2 3; do echo "event $i" >&8; done
    wait_for_lines "$BATS_TEST_TMPDIR/ng" 1 10
    for _ in $(seq 1 200); do
        [ "$(grep -c '^data: event 3' "$BATS_TEST_TMPDIR/ng")" -ge 4 ] && break
        sleep 0.05
    done
    for i in 1 2 3; do
        [ "$(grep -c "^data: event $i\$" "$BATS_TEST_TMPDIR/ng")" -eq 4 ]
    done
}

@test "h2: a stalled stream is reset (CANCEL) past --max-pending; its neighbour on the connection gets every event" {
    # 300 events of 1 KB: the stalled stream passes --max-pending, while the
    # one that reads has room for a loaded machine's slow Python reader.
    start_ssed --max-pending 192KiB
    start_bg "$BATS_TEST_TMPDIR/raw" "$BATS_TEST_TMPDIR/raw.err" \
        python3 "$TOP/tests/lib/h2_raw.py" "$PORT" slow-stream 300 60
    wait_for_line "$BATS_TEST_TMPDIR/raw" '^READY' 10
    subscribe other / $H2
    local pad
    pad=$(head -c 1000 /dev/zero | tr '\0' x)
    for i in $(seq 1 300); do echo "event $i $pad"; done >&8
    wait_for_line "$BATS_TEST_TMPDIR/raw" '^EVENTS stream=3 count=300$' 30
    grep -q '^RST_STREAM stream=1 code=8$' "$BATS_TEST_TMPDIR/raw"
    wait_for_data "$BATS_TEST_TMPDIR/other" 300
    grep -q 'dropping slow subscriber' "$SSED_ERR"
    [ "$(stat_of slow_subscriber_drops)" -eq 1 ]
}

# ssed gathers frames into batches of 64 KiB and writes at most 8 rounds per
# turn; a burst whose last frames fell into the eighth batch stayed unwritten
# until the next event or keep-alive (off here, so it would wait for good).
# Bursts of growing size over 20 streams, each read in one turn (one write
# into the pipe), land the tail in every batch in turn.
@test "h2: a burst to many streams on one connection arrives whole, wherever its last frames fall" {
    start_ssed --keepalive 0
    local k pad raw
    pad=$(head -c 1000 /dev/zero | tr '\0' x)
    for k in $(seq 21 3 60); do
        raw="$BATS_TEST_TMPDIR/raw.$k"
        start_bg "$raw" "$raw.err" python3 "$TOP/tests/lib/h2_raw.py" "$PORT" many-streams "$k" 60
        wait_for_line "$raw" '^READY' 10
        for i in $(seq 1 "$k"); do echo "event $i $pad"; done >"$BATS_TEST_TMPDIR/burst"
        dd if="$BATS_TEST_TMPDIR/burst" bs=65536 status=none >&8 # under 64 KiB: one atomic write
        wait_for_line "$raw" '^DONE' 5 || { echo "burst of $k events:" && cat "$raw" && false; }
    done
}

# DATA frames are written from the shared events' bytes, by reference
# (h2_owed.c): events larger than a frame (16 KiB) and than a stream's
# window (64 KiB) cross many frames and window updates, so a piece of an
# event is held across writes while its subscriber queue has let it go.
# Stream 1 stops reading with its window shut, and another connection
# stops reading its socket: the three readers still get every byte, in
# order, the same bytes, and the stalled stream what its window took.
@test "h2: a burst of events larger than a frame and a window reaches several streams byte-exact while one stream and one connection stop reading" {
    start_ssed --keepalive 0 --max-pending 16MiB
    local out="$BATS_TEST_TMPDIR/streams" pad i k
    mkdir "$out"
    start_bg "$BATS_TEST_TMPDIR/stuck" "$BATS_TEST_TMPDIR/stuck.err" \
        env H2_STREAMS=4 H2_WINDOW=65535 H2_READ=0 python3 "$TOP/tests/lib/h2_raw.py" "$PORT" stalled-conns 1 60
    wait_for_line "$BATS_TEST_TMPDIR/stuck" '^READY' 10
    start_bg "$BATS_TEST_TMPDIR/raw" "$BATS_TEST_TMPDIR/raw.err" \
        env H2_OUT="$out" python3 "$TOP/tests/lib/h2_raw.py" "$PORT" large-events 24 60
    wait_for_line "$BATS_TEST_TMPDIR/raw" '^READY' 10
    pad=$(head -c 131072 /dev/zero | tr '\0' x)
    for i in $(seq 1 24); do echo "event $i ${pad:0:$((100000 + i * 1000))} end $i"; done >"$BATS_TEST_TMPDIR/burst"
    cat "$BATS_TEST_TMPDIR/burst" >&8
    wait_for_line "$BATS_TEST_TMPDIR/raw" '^DONE' 30 || { cat "$BATS_TEST_TMPDIR/raw" "$BATS_TEST_TMPDIR/raw.err" && false; }
    for k in 3 5 7; do
        diff <(data_of "$out/stream-$k") "$BATS_TEST_TMPDIR/burst"
    done
    cmp "$out/stream-3" "$out/stream-5"
    cmp "$out/stream-3" "$out/stream-7"
    # The stalled stream got what its window allowed, no more, the same bytes.
    [ "$(stat -c %s "$out/stream-1")" -eq 65535 ]
    cmp -n 65535 "$out/stream-1" "$out/stream-3"
    ! grep -q 'RST_STREAM\|GOAWAY\|CLOSED' "$BATS_TEST_TMPDIR/raw"
    kill -0 "$SSED_PID"
    [ "$(curl -s "$URL/_ssed/health" -o /dev/null -w '%{http_code}')" = 200 ]
}

@test "h2: a connection whose many stalled streams ssed drops (CANCEL) keeps its healthy stream: ssed's own resets are no abuse" {
    # More stalled streams than the 200-a-second reset budget, as a proxy
    # carrying many users may have: bursts of 25 KiB, each read by stream 1
    # before the next, fill their 64 KiB stream buffers, then pass
    # --max-pending.
    start_ssed --max-pending 32KiB
    start_bg "$BATS_TEST_TMPDIR/raw" "$BATS_TEST_TMPDIR/raw.err" \
        python3 "$TOP/tests/lib/h2_raw.py" "$PORT" many-stalled 220 60
    wait_for_line "$BATS_TEST_TMPDIR/raw" '^READY' 20
    local pad
    pad=$(head -c 1000 /dev/zero | tr '\0' x)
    for burst in 1 2 3 4 5; do
        for i in $(seq 1 25); do echo "event $burst.$i $pad"; done >&8
        wait_for_line "$BATS_TEST_TMPDIR/raw" "^STREAM1 $((burst * 25))\$" 30
    done
    wait_for_line "$BATS_TEST_TMPDIR/raw" '^EVENTS stream=1 count=125$' 30
    [ "$(grep -c '^RST_STREAM stream=[0-9]* code=8$' "$BATS_TEST_TMPDIR/raw")" -eq 220 ]
    [ "$(grep -c '^GOAWAY' "$BATS_TEST_TMPDIR/raw")" -eq 0 ]
}

@test "h2: at the shutdown timeout a session with request bodies still open is closed whole; ssed exits 0" {
    # Closing the session's last stream put the session back on a list
    # already emptied: it leaked (the SANITIZE build exits 1 on a leak).
    start_ssed --shutdown-timeout 1s
    start_bg "$BATS_TEST_TMPDIR/raw" "$BATS_TEST_TMPDIR/raw.err" \
        python3 "$TOP/tests/lib/h2_raw.py" "$PORT" open-bodies 3 30
    wait_for_line "$BATS_TEST_TMPDIR/raw" '^READY' 10
    kill -TERM "$SSED_PID"
    wait_for_exit "$SSED_PID" 20
    [ "$EXIT_STATUS" -eq 0 ]
    wait_for_line "$BATS_TEST_TMPDIR/raw" '^CLOSED$' 10
}

@test "h2: protocol abuse gets GOAWAY or RST_STREAM, and ssed goes on serving others" {
    start_ssed --h2-max-streams 4
    subscribe bystander / $H2
    run raw_h2 garbage-frames 0 5
    [[ "$output" == *"GOAWAY code=6"*"CLOSED"* ]] # FRAME_SIZE_ERROR
    run raw_h2 window-overflow 0 5
    [[ "$output" == *"GOAWAY code=3"*"CLOSED"* ]] # FLOW_CONTROL_ERROR
    run raw_h2 too-many-streams 4 2
    [[ "$output" == *"RST_STREAM stream=9 code=7"* ]] # REFUSED_STREAM, the fifth only
    [ "$(grep -c RST_STREAM <<<"$output")" -eq 1 ]
    run raw_h2 rapid-reset 1000 5
    [[ "$output" == *"GOAWAY code=11"*"CLOSED"* ]] # ENHANCE_YOUR_CALM
    run raw_h2 provoked-reset 1000 5
    [[ "$output" == *"GOAWAY code=11"*"CLOSED"* ]] # streams ssed had to reset count too
    run raw_h2 continuation-flood 100 5
    [[ "$output" == *"GOAWAY code=11"*"CLOSED"* ]]
    echo still-here >&8
    wait_for_data "$BATS_TEST_TMPDIR/bystander" 1
    [ "$(curl -s $H2 --max-time 5 "$URL/_ssed/health")" = ok ]
    grep -q 'resets more than 200 streams a second' "$SSED_ERR"
}

@test "h2: a bad connection preface gets GOAWAY(PROTOCOL_ERROR) before the close, over h2c and over TLS after ALPN h2 (h2spec http2/3.5/2)" {
    start_both
    local tls_port=${TLS_URL##*:}
    run raw_h2 bad-preface 0 5
    [[ "$output" == "SETTINGS"$'\n'"GOAWAY code=1"$'\n'"CLOSED"* ]]
    H2_TLS=1 run python3 "$TOP/tests/lib/h2_raw.py" "$tls_port" bad-preface 0 5
    [[ "$output" == "SETTINGS"$'\n'"GOAWAY code=1"$'\n'"CLOSED"* ]]
    # The preface's first line, then something else: an HTTP/2 client too.
    H2_PREFACE='PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n' run raw_h2 bad-preface 0 5
    [[ "$output" == "SETTINGS"$'\n'"GOAWAY code=1"$'\n'"CLOSED"* ]]
    # HTTP/1.x request lines, however wrong, still get HTTP/1.1 answers; so
    # does anything from a TLS client that agreed on http/1.1.
    run bash -c "printf 'INVALID CONNECTION PREFACE\r\n\r\n' |
        timeout 10 openssl s_client -quiet -ign_eof -alpn http/1.1 -connect 127.0.0.1:$tls_port 2>/dev/null"
    [[ "$output" == "HTTP/1.1 400"* ]]
    [[ "$(printf 'GET / HTTP/2.0\r\n\r\n' | raw_request)" == "HTTP/1.1 505"* ]]
    [[ "$(printf 'GET /\r\n\r\n' | raw_request)" == "HTTP/1.1 400"* ]]
    # A method HTTP/1.x clients send, with a wrong version: their mistake.
    [[ "$(printf 'GET / FOO\r\nHost: localhost\r\n\r\n' | raw_request)" == "HTTP/1.1 400"* ]]
    [[ "$(printf 'POST /x HTTP1.1\r\nHost: localhost\r\n\r\n' | raw_request)" == "HTTP/1.1 400"* ]]
    [[ "$(printf 'GET /_ssed/health HTTP/1.1\r\nHost: localhost\r\n\r\n' | raw_request)" == "HTTP/1.1 200"* ]]
    [ "$(curl -s --http2 --max-time 5 "$TLS_URL/_ssed/health")" = ok ]
}

@test "h2: HEADERS on a stream id the client skipped is a connection error, GOAWAY(PROTOCOL_ERROR) (h2spec http2/5.1.1/2); skipping ids is not" {
    start_both
    local tls_port=${TLS_URL##*:}
    run raw_h2 lower-stream 0 5
    [[ "$output" == *"GOAWAY code=1"*"CLOSED"* ]]
    H2_TLS=1 run python3 "$TOP/tests/lib/h2_raw.py" "$tls_port" lower-stream 0 5
    [[ "$output" == *"GOAWAY code=1"*"CLOSED"* ]]
    # Streams 1, 5, 7: 3 is closed unused, which is the client's right.
    run raw_h2 skipped-streams 0 5
    [[ "$output" == *"STATUS stream=1 200"*"STATUS stream=5 200"*"STATUS stream=7 200"*"DONE"* ]]
    [[ "$output" != *GOAWAY* ]]
    [ "$(curl -s $H2 --max-time 5 "$URL/_ssed/health")" = ok ]
}

@test "h2: a connection that never completes its preface times out like a request head; an idle one too" {
    start_ssed --header-timeout 1s --verbose
    run raw_h2 preface-only 0 10
    [[ "$output" == *"CLOSED"* ]]
    run raw_h2 idle 0 10
    [[ "$output" == *"CLOSED"* ]]
    [ "$(curl -s $H2 --max-time 5 "$URL/_ssed/health")" = ok ]
}

@test "h2: on SIGTERM a stream gets what it is owed, then END_STREAM: curl ends cleanly" {
    start_ssed --verbose
    start_bg "$BATS_TEST_TMPDIR/s" "$BATS_TEST_TMPDIR/s.err" sh -c "curl -sN $H2 --max-time 30 '$URL/'; echo \"curl exit \$?\""
    wait_for_line "$BATS_TEST_TMPDIR/s" '^: ssed stream' 10
    for i in $(seq 1 500); do echo "event $i"; done >&8
    kill -TERM "$SSED_PID"
    wait_for_exit "$SSED_PID" 10
    [ "$EXIT_STATUS" -eq 0 ]
    wait_for_line "$BATS_TEST_TMPDIR/s" '^curl exit' 10
    grep -q '^curl exit 0$' "$BATS_TEST_TMPDIR/s"
    [ "$(grep -c '^data: event' "$BATS_TEST_TMPDIR/s")" -eq 500 ]
}

@test "h2: on SIGTERM idle sessions (never a stream, or their last one done) get GOAWAY(NO_ERROR), then the close" {
    start_ssed --verbose
    start_bg "$BATS_TEST_TMPDIR/idle" "$BATS_TEST_TMPDIR/idle.err" python3 "$TOP/tests/lib/h2_raw.py" "$PORT" idle 0 30
    H2_PATH=/_ssed/health start_bg "$BATS_TEST_TMPDIR/done" "$BATS_TEST_TMPDIR/done.err" \
        python3 "$TOP/tests/lib/h2_raw.py" "$PORT" request 0 30
    wait_for_line "$BATS_TEST_TMPDIR/idle" '^SETTINGS$' 10
    wait_for_line "$BATS_TEST_TMPDIR/done" '^BODY ok$' 10
    kill -TERM "$SSED_PID"
    wait_for_exit "$SSED_PID" 10
    [ "$EXIT_STATUS" -eq 0 ]
    for client in idle done; do
        wait_for_line "$BATS_TEST_TMPDIR/$client" '^CLOSED$' 10
        cat "$BATS_TEST_TMPDIR/$client"
        [ "$(grep -c '^GOAWAY' "$BATS_TEST_TMPDIR/$client")" -eq 1 ]
        grep -q '^GOAWAY code=0$' "$BATS_TEST_TMPDIR/$client"
    done
}

@test "h2: Chromium opens 20 EventSources to one https origin over HTTP/2; all 20 get every event" {
    browser_test h2_many_streams_test.mjs "$(free_port)"
}

@test "h2: 4 Chromium viewer tabs all connect over HTTP/2 and show every event; a 7th HTTP/1.1 tab waits for a free connection" {
    browser_test h2_viewer_tabs_test.mjs "$(free_port)" "$(free_port)"
}

@test "h2: a stream over TLS whose token expires while it owes a full window ends with whole events, ': token expired' and END_STREAM" {
    [[ "$("$SSED" --jwt-secret-file /dev/null 2>&1)" != *"built without JWT support"* ]] || skip "this ssed was built without JWT support (make JWT=0)"
    load lib/jwt_helpers
    head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$BATS_TEST_TMPDIR/secret"
    start_both --jwt-secret-file "$BATS_TEST_TMPDIR/secret" --jwt-leeway 0 --keepalive 0 --channel a --max-pending 64MiB -v \
        --header-timeout 120s # an ending stream read this slowly is not closed for it
    local token
    # time to connect and take the flood first, even on a loaded machine
    token=$(jwt_mint HS256 "$BATS_TEST_TMPDIR/secret" "{\"exp\":$(now_plus $((4 + 4 * SSETOOLS_WAIT_SCALE))),\"ssed\":{\"subscribe\":[\"a\"]}}")
    # a client that reads slowly: its window is full when the token expires
    start_bg "$BATS_TEST_TMPDIR/s" "$BATS_TEST_TMPDIR/s.err" curl -sN --http2 --limit-rate 100k --max-time 120 \
        -H "Authorization: Bearer $token" "$TLS_URL/a"
    local client=$BG_PID
    wait_for_line "$BATS_TEST_TMPDIR/s" '^: ssed stream' 20
    head -c 8000000 /dev/zero | tr '\0' x | fold -w 1000 >&8
    wait_for_line "$SSED_ERR" 'token expired' 30
    wait_for_exit "$client" 120
    tail -c 100 "$BATS_TEST_TMPDIR/s"
    [ "$EXIT_STATUS" -eq 0 ]
    [ "$(tail -c 18 "$BATS_TEST_TMPDIR/s" | od -An -c | tr -s ' ')" = "$(printf '\n: token expired\n\n' | od -An -c | tr -s ' ')" ]
    [ "$(grep '^data:' "$BATS_TEST_TMPDIR/s" | awk 'length($0) != 1006' | wc -l)" -eq 0 ]
    kill -0 "$SSED_PID"
}

@test "h2: once ssed is stopping, a new stream on an open session is refused (REFUSED_STREAM), not served until the shutdown timeout cuts it" {
    start_ssed --shutdown-timeout 30s
    # Stream 1's window stays shut, so it is still ending when stream 3 comes.
    start_bg "$BATS_TEST_TMPDIR/raw" "$BATS_TEST_TMPDIR/raw.err" \
        python3 "$TOP/tests/lib/h2_raw.py" "$PORT" late-stream 0 60
    local client=$BG_PID
    wait_for_line "$BATS_TEST_TMPDIR/raw" '^READY' 10
    kill -TERM "$SSED_PID"
    wait_for_line "$SSED_ERR" 'received: closing streams' 10
    kill -USR1 "$client"
    wait_for_line "$BATS_TEST_TMPDIR/raw" '^RST_STREAM stream=3 code=7$' 10
    ! grep -q 'connect peer=.* channel=/$' <(sed -n '/closing streams/,$p' "$SSED_ERR")
}
