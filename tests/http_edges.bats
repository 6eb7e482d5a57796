#!/usr/bin/env bats
# ssed at the edges of HTTP/1.1 framing: other protocol versions, chunked
# bodies whose last lines end in a bare LF, and odd chunk size lines. Each
# test talks to a real ssed over a socket.

load lib/helpers

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
}

H2_PREFACE='PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'

# An ssed with HTTP/2 built in answers the preface with HTTP/2 (h2.bats);
# only one built with make H2=0 answers it with 505.
skip_with_h2() {
    ! grep -qa nghttp2_session_mem_recv "$SSED" || skip "this ssed speaks HTTP/2 (tests/h2.bats); built with H2=0 it answers 505"
}

@test "http edges: without HTTP/2 (make H2=0), curl --http2-prior-knowledge gets 505 naming HTTP/2, not 400" {
    skip_with_h2
    start_ssed --verbose
    # curl expects HTTP/2 frames back and cannot read an HTTP/1.1 reply: it
    # either reports the status or fails; ssed's log says what it answered.
    run curl -s --http2-prior-knowledge --max-time 5 -o /dev/null -w '%{http_code}' "$URL/"
    [[ "$output" == 505 || "$output" == 000 ]]
    wait_for_line "$SSED_ERR" 'bad request peer=.* status=505 reason="HTTP/2' 5
    [ "$(grep -c 'bad request .*status=400' "$SSED_ERR")" -eq 0 ]
    [ "$(curl -s --max-time 5 "$URL/_ssed/health")" = ok ]
}

@test "http edges: without HTTP/2 (make H2=0), the HTTP/2 connection preface gets a 505 status line and a reason naming HTTP/2" {
    skip_with_h2
    start_ssed
    run bash -c "printf '$H2_PREFACE' | python3 '$TOP/tests/lib/http_raw.py' $PORT"
    [[ "$output" == "HTTP/1.1 505 HTTP Version Not Supported"$'\r'* ]]
    [[ "$output" == *"HTTP/2"*"use HTTP/1.1"* ]]
    [[ "$output" == *"Connection: close"$'\r'* ]]
    [ "$(grep -c '^HTTP/1.1' <<<"$output")" -eq 1 ]
}

@test "http edges: a chunked body ending in a bare LF empty line does not swallow the next request" {
    start_ssed
    subscribe s /
    req='POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n'
    req+='6\r\nhello\n\r\n0\r\n\n'
    req+='GET /_ssed/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'
    run bash -c "printf '$req' | python3 '$TOP/tests/lib/http_raw.py' $PORT"
    echo "$output"
    [ "$(grep -c '^HTTP/1.1 200' <<<"$output")" -eq 2 ]
    [[ "$output" == *ok ]]
    wait_for_data "$BATS_TEST_TMPDIR/s" 1
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = hello ]
}

@test "http edges: a bare LF after a trailer ends the body; the next request is answered" {
    start_ssed
    req='POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n'
    req+='6\r\nhello\n\r\n0\r\nX-Checksum: 1\n\n'
    req+='GET /_ssed/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'
    run bash -c "printf '$req' | python3 '$TOP/tests/lib/http_raw.py' $PORT"
    echo "$output"
    [ "$(grep -c '^HTTP/1.1 200' <<<"$output")" -eq 2 ]
    [[ "$output" == *ok ]]
}

@test "http edges: chunk sizes may have many leading zeros; junk after a size's whitespace is refused" {
    start_ssed
    req='POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n'
    req+='Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n'
    body='00000000000000000006\r\nhello\n\r\n0000000000000000\r\n\r\n'
    run bash -c "printf '$req$body' | python3 '$TOP/tests/lib/http_raw.py' $PORT"
    [[ "$output" == "HTTP/1.1 200"* ]]
    body='6 x\r\nhello\n\r\n0\r\n\r\n'
    run bash -c "printf '$req$body' | python3 '$TOP/tests/lib/http_raw.py' $PORT"
    [[ "$output" == "HTTP/1.1 400"*"invalid chunk size"* ]]
}
