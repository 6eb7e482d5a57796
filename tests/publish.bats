#!/usr/bin/env bats
# ssed's publish endpoint (POST /CHANNEL) and multi-channel streams, with
# curl and raw sockets.

load lib/helpers

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
}

@test "publish: text/plain lines become one event each; the answer counts them" {
    start_ssed
    subscribe s /news
    run curl -s --max-time 5 --data-binary $'one\ntwo\r\nthree' -H 'Content-Type: text/plain' "$URL/news"
    [ "$output" = '{"accepted":3,"channel":"/news"}' ]
    wait_for_data "$BATS_TEST_TMPDIR/s" 3
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(printf 'one\ntwo\nthree')" ]
    # curl -d's form type counts as plain text too
    run curl -s --max-time 5 -d 'four' "$URL/news"
    [ "$output" = '{"accepted":1,"channel":"/news"}' ]
}

@test "publish: event type and id from query parameters or SSE-Event / SSE-Id headers" {
    start_ssed
    subscribe s /x
    curl -s --max-time 5 -d 'a' "$URL/x?event=deploy&id=d%2D1"
    curl -s --max-time 5 -d 'b' -H 'SSE-Event: build' -H 'SSE-Id: b7' "$URL/x"
    wait_for_data "$BATS_TEST_TMPDIR/s" 2
    run cat "$BATS_TEST_TMPDIR/s"
    [[ "$output" == *$'event: deploy\nid: d-1\ndata: a\n\n'* ]]
    [[ "$output" == *$'event: build\nid: b7\ndata: b' ]]
}

@test "publish: a text/event-stream body keeps each event's type, id, data and retry" {
    start_ssed
    subscribe s /
    run curl -s --max-time 5 -H 'Content-Type: text/event-stream' \
        --data-binary $'event: e1\nid: 7\ndata: x\ndata: y\n\nretry: 900\ndata: z\n\n' "$URL/"
    [ "$output" = '{"accepted":2,"channel":"/"}' ]
    wait_for_data "$BATS_TEST_TMPDIR/s" 3
    run cat "$BATS_TEST_TMPDIR/s"
    [[ "$output" == *$'event: e1\nid: 7\ndata: x\ndata: y\n\n'* ]]
    [[ "$output" =~ $'\nid: '[0-9]+$'\nretry: 900\ndata: z'$ ]]
}

@test "publish: an application/json body is one event, line breaks and all" {
    start_ssed
    subscribe s /
    run curl -s --max-time 5 -H 'Content-Type: application/json' --data-binary $'{\n  "a": 1\n}' "$URL/"
    [ "$output" = '{"accepted":1,"channel":"/"}' ]
    wait_for_data "$BATS_TEST_TMPDIR/s" 3
    [ "$(grep -c '^id:' "$BATS_TEST_TMPDIR/s")" -eq 1 ]
}

@test "publish: a chunked body streams through: events arrive before the body ends" {
    start_ssed
    subscribe s /live
    python3 "$TOP/tests/lib/chunked_post.py" "$PORT" /live "$BATS_TEST_TMPDIR/marker" >"$BATS_TEST_TMPDIR/reply" 3>&- 8>&- &
    echo $! >>"$BATS_TEST_TMPDIR/pids"
    post=$!
    wait_for_line "$BATS_TEST_TMPDIR/marker" first-sent 5
    wait_for_data "$BATS_TEST_TMPDIR/s" 1
    [ ! -s "$BATS_TEST_TMPDIR/reply" ]
    touch "$BATS_TEST_TMPDIR/continue"
    wait_for_exit "$post" 10
    grep -q '{"accepted":3,"channel":"/live"}' "$BATS_TEST_TMPDIR/reply"
    wait_for_data "$BATS_TEST_TMPDIR/s" 3
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(printf 'part one\npart two\npart three')" ]
}

@test "publish: many POSTs over one keep-alive connection" {
    start_ssed
    subscribe s /
    run curl -sv --max-time 5 -d one "$URL/" -: -d two "$URL/" -: -d three "$URL/"
    [[ "$output" == *"Re-using existing connection"* ]]
    [ "$(grep -c '"accepted":1' <<<"$output")" -eq 3 ]
    wait_for_data "$BATS_TEST_TMPDIR/s" 3
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(printf 'one\ntwo\nthree')" ]
}

@test "publish: pipelined requests on one connection are each answered" {
    start_ssed
    run bash -c "printf 'POST /p HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\nabPOST /p HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nConnection: close\r\n\r\ncd' | python3 $TOP/tests/lib/http_raw.py $PORT"
    [ "$(grep -c '"accepted":1' <<<"$output")" -eq 2 ]
}

@test "publish: --token requires Authorization: Bearer; wrong tokens are refused; the token is never logged" {
    start_ssed -v --token s3cret-token
    run curl -s -w ' %{http_code}' --max-time 5 -d x "$URL/"
    [[ "$output" == *"needs Authorization: Bearer TOKEN"*" 401" ]]
    run curl -s -w ' %{http_code}' --max-time 5 -H 'Authorization: Bearer wrong' -d x "$URL/"
    [[ "$output" == *"wrong token"*" 403" ]]
    run curl -s --max-time 5 -H 'Authorization: Bearer s3cret-token' -d x "$URL/"
    [ "$output" = '{"accepted":1,"channel":"/"}' ]
    run curl -s --max-time 5 "$URL/_ssed/stats"
    [[ "$output" != *s3cret* ]]
    [ "$(grep -c s3cret "$SSED_ERR")" -eq 0 ]
    [ "$(stat_of publish_refused)" -eq 2 ]
}

@test "publish: --token-file and SSED_TOKEN set the token" {
    echo "file-token" >"$BATS_TEST_TMPDIR/token"
    start_ssed --token-file "$BATS_TEST_TMPDIR/token"
    run curl -s -w ' %{http_code}' --max-time 5 -H 'Authorization: Bearer file-token' -d x "$URL/"
    [[ "$output" == *" 200" ]]
    exec 8>&-
    stop_pid "$SSED_PID"
    SSED_TOKEN=env-token start_ssed
    run curl -s -w ' %{http_code}' --max-time 5 -H 'Authorization: Bearer env-token' -d x "$URL/"
    [[ "$output" == *" 200" ]]
    run curl -s -w ' %{http_code}' --max-time 5 -d x "$URL/"
    [[ "$output" == *" 401" ]]
    run "$SSED" --token-file "$BATS_TEST_TMPDIR/missing" --no-stdin
    [ "$status" -eq 1 ]
    [[ "$output" == *"--token-file $BATS_TEST_TMPDIR/missing: No such file or directory"* ]]
}

@test "publish: --no-publish turns the endpoint off" {
    start_ssed --no-publish
    run curl -si --max-time 5 -d x "$URL/"
    [[ "$output" == *"405 Method Not Allowed"* ]]
    [[ "$output" == *"Allow: GET, HEAD, OPTIONS"$'\r'* ]]
    [[ "$output" == *"--no-publish"* ]]
}

@test "publish: an event over --max-event-size is refused with 413 and the count so far" {
    start_ssed --max-event-size 16
    big=$(head -c 40 /dev/zero | tr '\0' q)
    run curl -s -w ' %{http_code}' --max-time 5 --data-binary $'ok\n'"$big"$'\nnever' -H 'Content-Type: text/plain' "$URL/"
    [[ "$output" == '{"accepted":1,"channel":"/","error":"an event is larger than --max-event-size (16 bytes)"}'*" 413" ]]
}

@test "publish: malformed bodies and requests: 400, 411, 415" {
    start_ssed
    run curl -s -w ' %{http_code}' --max-time 5 -H 'Content-Type: text/event-stream' --data-binary 'data: no blank line' "$URL/"
    [[ "$output" == *"ends inside an event"*" 400" ]]
    run curl -s -w ' %{http_code}' --max-time 5 -d x "$URL/?id=a%0Ab"
    [[ "$output" == *"line break"*" 400" ]]
    run curl -s -w ' %{http_code}' --max-time 5 -H 'Content-Type: image/png' -d x "$URL/"
    [[ "$output" == *" 415" ]]
    run bash -c "printf 'POST / HTTP/1.1\r\nHost: localhost\r\n\r\n' | python3 $TOP/tests/lib/http_raw.py $PORT"
    [[ "$output" == "HTTP/1.1 411 Length Required"* ]]
    run bash -c "printf 'POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n' | python3 $TOP/tests/lib/http_raw.py $PORT"
    [[ "$output" == "HTTP/1.1 400 Bad Request"*"invalid chunk size"* ]]
    run bash -c "printf 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n' | python3 $TOP/tests/lib/http_raw.py $PORT"
    [[ "$output" == "HTTP/1.1 400 Bad Request"*"both Content-Length and Transfer-Encoding"* ]]
    run bash -c "printf 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc' | python3 $TOP/tests/lib/http_raw.py $PORT"
    [[ "$output" == "HTTP/1.1 400 Bad Request"*"conflicting Content-Length"* ]]
    run bash -c "printf 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\n\r\n' | python3 $TOP/tests/lib/http_raw.py $PORT"
    [[ "$output" == "HTTP/1.1 400 Bad Request"*"invalid Content-Length"* ]]
}

@test "publish: one stream can follow several channels (?channels=a,b), in publish order" {
    start_ssed
    subscribe both "/?channels=a,b"
    grep -q '^: ssed stream /a +1 more' "$BATS_TEST_TMPDIR/both"
    curl -s --max-time 5 -d a1 "$URL/a" >/dev/null
    curl -s --max-time 5 -d b1 "$URL/b" >/dev/null
    curl -s --max-time 5 -d c1 "$URL/c" >/dev/null
    curl -s --max-time 5 -d a2 "$URL/a" >/dev/null
    wait_for_data "$BATS_TEST_TMPDIR/both" 3
    sleep 0.2
    [ "$(data_of "$BATS_TEST_TMPDIR/both")" = "$(printf 'a1\nb1\na2')" ]
    # resume across both channels after a1: b1 and a2, nothing twice
    id_a1=$(grep -B1 '^data: a1' "$BATS_TEST_TMPDIR/both" | head -1 | cut -c5-)
    subscribe again "/?channels=b,a" -H "Last-Event-ID: $id_a1"
    wait_for_data "$BATS_TEST_TMPDIR/again" 2
    sleep 0.2
    [ "$(data_of "$BATS_TEST_TMPDIR/again")" = "$(printf 'b1\na2')" ]
}

@test "publish: channels with no subscribers and no history are freed; --max-channels bounds them" {
    start_ssed --max-channels 3 --history 0
    subscribe s /temp
    stop_pid "$SUB_PID"
    for i in $(seq 1 50); do
        curl -s --max-time 5 "$URL/_ssed/stats" | grep -q '"/temp"' || break
        sleep 0.1
    done
    [ "$(curl -s --max-time 5 "$URL/_ssed/stats" | grep -c '"/temp"')" -eq 0 ]
    # subscribers may wait on 3 channels nothing has published to
    subscribe a /one
    subscribe b /two
    subscribe c /three
    run curl -s -w ' %{http_code}' --max-time 5 "$URL/four"
    [[ "$output" == *"too many channels"*" 503" ]]
}

@test "publish: a batch resent with the same SSE-Publisher and SSE-Sequence is not published twice" {
    start_ssed
    subscribe s /
    hdr=(-H 'SSE-Publisher: 1a2b3c4d5e6f7081' -H 'Content-Type: text/plain')
    run curl -s --max-time 5 "${hdr[@]}" -H 'SSE-Sequence: 0' --data-binary $'l0\nl1\nl2' "$URL/"
    [ "$output" = '{"accepted":3,"channel":"/","duplicates":0}' ]
    # the answer was "lost": the publisher resends from l1 with two new lines
    run curl -s --max-time 5 "${hdr[@]}" -H 'SSE-Sequence: 1' --data-binary $'l1\nl2\nl3\nl4' "$URL/"
    [ "$output" = '{"accepted":4,"channel":"/","duplicates":2}' ]
    wait_for_data "$BATS_TEST_TMPDIR/s" 5
    sleep 0.2
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(printf 'l0\nl1\nl2\nl3\nl4')" ]
    run curl -s -w ' %{http_code}' --max-time 5 -H 'SSE-Publisher: xyz' -H 'SSE-Sequence: 0' -d x "$URL/"
    [[ "$output" == *" 400" ]]
}

@test "publish: 8 publishers at once, in four styles: every subscriber gets every event once, in one order per channel" {
    start_ssed
    run python3 "$TOP/tests/lib/sse_load.py" concurrent --port "$PORT" --subs 10 --events 400 \
        --timeout $((60 * SSETOOLS_WAIT_SCALE))
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *'"problems": []'* ]]
    [ "$(stat_of slow_subscriber_drops)" -eq 0 ]
}

@test "publish: events that arrive together reach a subscriber in one write (stats count writes per delivery)" {
    start_ssed
    subscribe s /
    [ "$(stat_of events_delivered)" -eq 0 ]
    seq 100 | curl -s --max-time 5 --data-binary @- -H 'Content-Type: text/plain' "$URL/" >/dev/null
    wait_for_data "$BATS_TEST_TMPDIR/s" 100
    delivered=$(stat_of events_delivered)
    writes=$(stat_of subscriber_writes)
    echo "delivered=$delivered writes=$writes"
    [ "$delivered" -ge 100 ]
    [ "$writes" -ge 1 ]
    [ "$writes" -le 10 ]
    python3 -c "import sys; sys.exit(0 if 0 < $(stat_of writes_per_delivery) <= 0.1 else 1)"
}

@test "publish: events_published and ssed_publish_events_total count events published, not resends skipped as duplicates (their own counter)" {
    start_ssed
    hdr=(-H 'SSE-Publisher: 1a2b3c4d5e6f7081' -H 'Content-Type: text/plain')
    local i
    for i in 1 2 3; do
        run curl -s --max-time 5 "${hdr[@]}" -H 'SSE-Sequence: 0' --data-binary $'l0\nl1\nl2' "$URL/"
        [[ "$output" == '{"accepted":3,'* ]]
    done
    [ "$(stat_of events_published)" -eq 3 ]
    [ "$(stat_of publish_duplicates)" -eq 6 ]
    run curl -s --max-time 5 "$URL/_ssed/metrics"
    [[ "$output" == *$'\nssed_publish_events_total 3\n'* ]]
    [[ "$output" == *$'\nssed_publish_duplicates_total 6\n'* ]]
}
