#!/usr/bin/env bats
# What a hostile or unlucky client can do to ssed: requests that arrive
# while a publish is in flight, events too large to deliver, history larger
# than a subscriber may owe, clients that hoard channels or memory, and
# requests from proxies, other sites and other host names.

load lib/helpers

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
    local ns
    for ns in $(cat "$BATS_TEST_TMPDIR/netns" 2>/dev/null); do ip netns del "$ns" 2>/dev/null || true; done
}

# make_remote_pair: two network namespaces of this test joined by a veth
# pair, SERVER_NS with 192.0.2.1 and CLIENT_NS with 192.0.2.2 (TEST-NET-1,
# reachable from nowhere else). Skips when the machine refuses namespaces.
make_remote_pair() {
    SERVER_NS=ssetools_s$$_$BATS_TEST_NUMBER
    CLIENT_NS=ssetools_c$$_$BATS_TEST_NUMBER
    ip netns add "$SERVER_NS" 2>/dev/null || skip "cannot create a network namespace here (needs root and CAP_NET_ADMIN)"
    echo "$SERVER_NS" >>"$BATS_TEST_TMPDIR/netns"
    ip netns add "$CLIENT_NS"
    echo "$CLIENT_NS" >>"$BATS_TEST_TMPDIR/netns"
    ip link add "sv$$" type veth peer name "cv$$"
    ip link set "sv$$" netns "$SERVER_NS"
    ip link set "cv$$" netns "$CLIENT_NS"
    ip -n "$SERVER_NS" addr add 192.0.2.1/24 dev "sv$$"
    ip -n "$CLIENT_NS" addr add 192.0.2.2/24 dev "cv$$"
    ip -n "$SERVER_NS" link set "sv$$" up
    ip -n "$CLIENT_NS" link set "cv$$" up
}

# start_chunked_publisher PATH: a chunked POST to PATH whose first part is
# sent and whose rest waits until `finish_chunked_publisher`.
start_chunked_publisher() {
    rm -f "$BATS_TEST_TMPDIR/continue" "$BATS_TEST_TMPDIR/marker"
    start_bg "$BATS_TEST_TMPDIR/pub.out" "$BATS_TEST_TMPDIR/pub.err" \
        python3 "$TOP/tests/lib/chunked_post.py" "$PORT" "$1" "$BATS_TEST_TMPDIR/marker"
    PUB_PID=$BG_PID
    wait_for_line "$BATS_TEST_TMPDIR/marker" first-sent 10
    # the first part is published once the server has read it
    for i in $(seq 1 100); do
        [ "$(curl -s --max-time 5 "$URL/_ssed/stats" | grep -o '"events_in":[0-9]*' | head -1)" != "" ] && break
        sleep 0.05
    done
}

finish_chunked_publisher() {
    touch "$BATS_TEST_TMPDIR/continue"
    wait_for_exit "$PUB_PID" 15
    cat "$BATS_TEST_TMPDIR/pub.out"
    grep -q '"accepted":3' "$BATS_TEST_TMPDIR/pub.out"
    kill -0 "$SSED_PID"
}

@test "hostile: HEAD of a channel while a chunked POST creates it does not free it under the publisher" {
    start_ssed --history 0
    start_chunked_publisher /victim
    run curl -s -I --max-time 5 "$URL/victim"
    [[ "$output" == *"200 OK"* ]]
    finish_chunked_publisher
}

@test "hostile: a refused multi-channel subscription during a POST does not free the channel" {
    start_ssed --history 0
    start_chunked_publisher /victim
    run curl -s --max-time 5 "$URL/?channels=victim,bad!"
    [[ "$output" == *"400"* ]]
    finish_chunked_publisher
}

@test "hostile: another publisher's empty or refused POST to the same channel does not free it" {
    start_ssed --history 0
    start_chunked_publisher /victim
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST -H 'Content-Length: 0' "$URL/victim")" = 200 ]
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'SSE-Publisher: XYZ' -H 'SSE-Sequence: 1' \
        -d x "$URL/victim")" = 400 ]
    finish_chunked_publisher
}

@test "hostile: --history 0, a chunked publisher and a subscriber that leaves" {
    start_ssed --history 0
    subscribe s /victim
    start_chunked_publisher /victim
    wait_for_data "$BATS_TEST_TMPDIR/s" 1
    stop_pid "$SUB_PID"
    for i in $(seq 1 100); do [ "$(stat_of subscribers)" -eq 0 ] && break; sleep 0.05; done
    finish_chunked_publisher
}

@test "hostile: an event that encodes larger than --max-pending is refused at publish (413), skipped on stdin" {
    start_ssed --max-pending 4K
    subscribe s /
    # 3000 line breaks: 3 KB of body, 21 KB once each line is a data field
    python3 -c 'print("\n" * 3000, end="")' >"$BATS_TEST_TMPDIR/body"
    run curl -s -w ' %{http_code}' --max-time 5 -H 'Content-Type: application/octet-stream' \
        --data-binary @"$BATS_TEST_TMPDIR/body" "$URL/"
    echo "$output"
    [[ "$output" == *"--max-pending"*" 413" ]]
    python3 -c 'print("x" * 5000); print("small")' >&8
    wait_for_data "$BATS_TEST_TMPDIR/s" 1
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = small ]
    wait_for_line "$SSED_ERR" 'skipped an event.*max-pending' 5
    [ "$(stat_of slow_subscriber_drops)" -eq 0 ]
}

@test "hostile: an envelope that escapes to more than --max-pending still reaches a reading subscriber" {
    start_ssed --max-pending 64K
    subscribe s '/?envelope=1'
    # 20 KB of control bytes: each becomes \u00XX (six bytes) in the envelope
    python3 -c 'import sys; sys.stdout.write("\x01" * 20000 + "\n" + "after\n")' >&8
    wait_for_data "$BATS_TEST_TMPDIR/s" 2
    grep -q 'after' "$BATS_TEST_TMPDIR/s"
    [ "$(stat_of slow_subscriber_drops)" -eq 0 ]
}

@test "hostile: a subscriber away while more than --max-pending was published resumes and gets it all" {
    start_ssed --max-pending 64K --history 2000
    python3 -c '
import sys
for i in range(1000):
    print("%04d" % i + "x" * 2000)' >&8
    for i in $(seq 1 100); do [ "$(stat_of oversized_records)" -ge 0 ] && \
        curl -s --max-time 5 "$URL/_ssed/stats" | grep -q '"history":1000' && break; sleep 0.1; done
    first=$(curl -sN --max-time 5 -H 'Last-Event-ID: 0' "$URL/" 2>/dev/null | grep -m1 '^id:' | cut -c5- || true)
    # resume after the first event: 999 events of 2 KB are owed
    run curl -sN --max-time 20 -H "Last-Event-ID: $first" "$URL/" -o "$BATS_TEST_TMPDIR/resume" &
    echo $! >>"$BATS_TEST_TMPDIR/pids"
    wait_for_data "$BATS_TEST_TMPDIR/resume" 999 20
    [ "$(data_of "$BATS_TEST_TMPDIR/resume" | head -1 | cut -c1-4)" = 0001 ]
    [ "$(data_of "$BATS_TEST_TMPDIR/resume" | tail -1 | cut -c1-4)" = 0999 ]
    [ "$(stat_of slow_subscriber_drops)" -eq 0 ]
}

@test "hostile: idle subscribers to new channels cannot use up the channels publishers need" {
    start_ssed --max-channels 20
    many=$(seq -s, 1 17 | sed 's/[0-9]*/n&/g')
    run curl -s -w ' %{http_code}' --max-time 5 "$URL/?channels=$many"
    [[ "$output" == *"at most 16 channels"*" 503" ]]
    subscribe a "/?channels=$(seq -s, 1 10 | sed 's/[0-9]*/a&/g')"
    subscribe b "/?channels=$(seq -s, 1 10 | sed 's/[0-9]*/b&/g')"
    run curl -s -w ' %{http_code}' --max-time 5 "$URL/new-one"
    [[ "$output" == *"too many channels"*" 503" ]]
    # publishers still create channels, and subscribers can follow them
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -d hello "$URL/fresh")" = 200 ]
    subscribe f /fresh -H 'Last-Event-ID: 0'
}

@test "hostile: /favicon.ico, /robots.txt and image requests get 404, not a stream and a channel" {
    start_ssed
    for path in /favicon.ico /robots.txt; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL$path")" = 404 ]
    done
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
        -H 'Accept: image/avif,image/webp,image/*,*/*;q=0.8' "$URL/pic")" = 404 ]
    [ "$(stat_of channel_count)" -eq 1 ]
    # a channel of that name that exists is served
    curl -s --max-time 5 -d x "$URL/favicon.ico" >/dev/null
    subscribe fav /favicon.ico
}

@test "hostile: --max-history-bytes bounds all history; the oldest go first, with a gap notice" {
    start_ssed --max-history-bytes 1MiB --max-event-size 200K --max-pending 1MiB
    chunk=$(python3 -c 'print("y" * 100000)')
    for ch in a b c; do
        for i in 1 2 3 4; do
            [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --data-binary "$ch$i$chunk" "$URL/$ch")" = 200 ]
        done
    done
    stats=$(curl -s --max-time 5 "$URL/_ssed/stats")
    echo "$stats"
    python3 -c '
import json, sys
s = json.loads(sys.argv[1])
kept = sum(c["history"] for c in s["channels"])
assert 8 <= kept <= 10, kept
assert not any(c["name"] == "/a" and c["history"] == 4 for c in s["channels"]), s
' "$stats"
    run curl -sN --max-time 2 -H 'Last-Event-ID: 1' "$URL/a"
    [[ "$output" == *"event: ssed-gap"* ]]
}

@test "hostile: ids longer than 1024 bytes are refused at publish (400)" {
    start_ssed
    long=$(python3 -c 'print("i" * 1025)')
    run curl -s -w ' %{http_code}' --max-time 5 -H "SSE-Id: $long" -d x "$URL/"
    [[ "$output" == *"1024"*" 400" ]]
    run curl -s -w ' %{http_code}' --max-time 5 -H 'Content-Type: text/event-stream' \
        --data-binary $'id: '"$long"$'\ndata: x\n\n' "$URL/"
    [[ "$output" == *"1024"*" 400" ]]
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "SSE-Id: ${long:1}" -d x "$URL/")" = 200 ]
}

@test "hostile: a request relayed by a proxy is not local: no publishing without a token" {
    start_ssed
    for h in 'X-Forwarded-For: 203.0.113.9' 'X-Real-IP: 203.0.113.9' 'Forwarded: for=203.0.113.9'; do
        run curl -s -w ' %{http_code}' --max-time 5 -H "$h" -d x "$URL/"
        [[ "$output" == *"--token"*" 403" ]]
    done
    # per-channel figures are for publishers only
    [ "$(curl -s --max-time 5 -H 'X-Forwarded-For: 203.0.113.9' "$URL/_ssed/stats" | grep -c '"channels"')" -eq 0 ]
    curl -s --max-time 5 "$URL/_ssed/stats" | grep -q '"channels"'
}

@test "hostile: a publish from a web page of another site is refused, token or not" {
    start_ssed --token s3cret --cors https://app.example
    auth=(-H 'Authorization: Bearer s3cret')
    run curl -s -w ' %{http_code}' --max-time 5 "${auth[@]}" -H 'Origin: https://evil.example' -d x "$URL/"
    [[ "$output" == *"--cors"*" 403" ]]
    run curl -s -w ' %{http_code}' --max-time 5 "${auth[@]}" -H 'Sec-Fetch-Site: cross-site' -d x "$URL/"
    [[ "$output" == *" 403" ]]
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${auth[@]}" -H 'Origin: https://app.example' \
        -d x "$URL/")" = 200 ]
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${auth[@]}" -H "Origin: $URL" -d x "$URL/")" = 200 ]
    # stats: totals to anyone, channels only with the token
    [ "$(curl -s --max-time 5 "$URL/_ssed/stats" | grep -c '"channels"')" -eq 0 ]
    curl -s --max-time 5 "${auth[@]}" "$URL/_ssed/stats" | grep -q '"channels"'
}

@test "hostile: DNS rebinding: a loopback listener answers only loopback Host names and --allow-host" {
    start_ssed --allow-host sse.example.test
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: evil.example' "$URL/_ssed/health")" = 421 ]
    run curl -s --max-time 5 -H 'Host: evil.example' "$URL/_ssed/health"
    [[ "$output" == *"--allow-host"* ]]
    for host in "localhost:$PORT" "127.0.0.1:$PORT" "[::1]:$PORT" localhost "sse.example.test:$PORT" SSE.Example.Test; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Host: $host" "$URL/_ssed/health")" = 200 ]
    done
    run raw_request <<<$'GET /_ssed/health HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n\r'
    [[ "$output" == "HTTP/1.1 400"*"Host"* ]]
}

@test "hostile: a FIFO removed and made again is noticed, reopened and logged" {
    fifo="$BATS_TEST_TMPDIR/in.fifo"
    start_ssed --no-stdin --fifo "$fifo"
    subscribe s /
    echo one >"$fifo"
    wait_for_data "$BATS_TEST_TMPDIR/s" 1
    rm "$fifo"
    mkfifo "$fifo"
    wait_for_line "$SSED_ERR" "fifo .* was removed or replaced" 10
    timeout 10 sh -c 'echo two >"$1"' sh "$fifo"
    rm "$fifo" # not made again by anyone: ssed makes it
    for i in $(seq 1 100); do [ -p "$fifo" ] && break; sleep 0.1; done
    timeout 10 sh -c 'echo three >"$1"' sh "$fifo"
    wait_for_data "$BATS_TEST_TMPDIR/s" 3
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(printf 'one\ntwo\nthree')" ]
}

@test "hostile: ?event= and SSE-Event name the type of text/event-stream events that name none" {
    start_ssed
    subscribe s /
    curl -s --max-time 5 -H 'Content-Type: text/event-stream' \
        --data-binary $'data: plain\n\nevent: own\ndata: named\n\n' "$URL/?event=log" >/dev/null
    curl -s --max-time 5 -H 'Content-Type: text/event-stream' -H 'SSE-Event: hdr' \
        --data-binary $'data: again\n\n' "$URL/" >/dev/null
    wait_for_data "$BATS_TEST_TMPDIR/s" 3
    grep -A2 '^event: log' "$BATS_TEST_TMPDIR/s" | grep -q '^data: plain'
    grep -A2 '^event: own' "$BATS_TEST_TMPDIR/s" | grep -q '^data: named'
    grep -A2 '^event: hdr' "$BATS_TEST_TMPDIR/s" | grep -q '^data: again'
}

@test "hostile: Expect: 100-continue gets 100 Continue before the body is sent" {
    start_ssed
    run python3 - "$PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 6\r\nExpect: 100-continue\r\n\r\n")
interim = s.recv(4096)
print(interim.decode().splitlines()[0])
s.sendall(b"hello\n")
reply = b""
while b"}\n" not in reply:
    data = s.recv(4096)
    if not data:
        break
    reply += data
print(reply.decode().splitlines()[0])
PY
    echo "$output"
    [ "${lines[0]}" = "HTTP/1.1 100 Continue" ]
    [ "${lines[1]}" = "HTTP/1.1 200 OK" ]
}

@test "hostile: a peer on another host publishes only with the token; Host is not checked off loopback" {
    make_remote_pair
    start_bg "$BATS_TEST_TMPDIR/r.out" "$BATS_TEST_TMPDIR/r.err" \
        ip netns exec "$SERVER_NS" "$SSED" -l 192.0.2.1:8080 --no-stdin --token s3cret
    wait_for_line "$BATS_TEST_TMPDIR/r.err" 'serving http://192.0.2.1:8080/' 10
    remote() { ip netns exec "$CLIENT_NS" curl -s --max-time 5 "$@"; }
    run remote -w ' %{http_code}' -d x http://192.0.2.1:8080/
    [[ "$output" == *"Bearer"*" 401" ]]
    [ "$(remote -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cret' -d x http://192.0.2.1:8080/)" = 200 ]
    [ "$(remote -H 'Host: sse.example.test' http://192.0.2.1:8080/_ssed/health)" = ok ]
}

@test "hostile: a wildcard listener reached through loopback checks Host too (DNS rebinding)" {
    make_remote_pair
    start_bg "$BATS_TEST_TMPDIR/r.out" "$BATS_TEST_TMPDIR/r.err" \
        ip netns exec "$SERVER_NS" "$SSED" -l :8080 --no-stdin
    wait_for_line "$BATS_TEST_TMPDIR/r.err" 'serving http://' 10
    ip -n "$SERVER_NS" link set lo up
    local_curl() { ip netns exec "$SERVER_NS" curl -s --max-time 5 "$@"; }
    [ "$(local_curl -o /dev/null -w '%{http_code}' -H 'Host: evil.example:8080' -d x http://127.0.0.1:8080/x)" = 421 ]
    [ "$(local_curl -o /dev/null -w '%{http_code}' -d x http://127.0.0.1:8080/x)" = 200 ]
    [ "$(ip netns exec "$CLIENT_NS" curl -s --max-time 5 -H 'Host: sse.example.test' http://192.0.2.1:8080/_ssed/health)" = ok ]
}

@test "hostile: without a token a peer on another host cannot publish (403 naming --token)" {
    make_remote_pair
    start_bg "$BATS_TEST_TMPDIR/r.out" "$BATS_TEST_TMPDIR/r.err" \
        ip netns exec "$SERVER_NS" "$SSED" -l 192.0.2.1:8080 --no-stdin
    wait_for_line "$BATS_TEST_TMPDIR/r.err" 'serving http://192.0.2.1:8080/' 10
    run ip netns exec "$CLIENT_NS" curl -s -w ' %{http_code}' --max-time 5 -d x http://192.0.2.1:8080/
    [[ "$output" == *"--token"*" 403" ]]
}

@test "hostile: out of memory (ulimit -v), publishes get 503 and ssed keeps serving" {
    [ -z "${SSETOOLS_SANITIZED:-}" ] || skip "AddressSanitizer reserves more address space than the limit"
    port=$(free_port)
    start_bg "$BATS_TEST_TMPDIR/m.out" "$BATS_TEST_TMPDIR/m.err" bash -c \
        'ulimit -v 60000 && exec "$0" -l "127.0.0.1:$1" --no-stdin --max-history-bytes 0 --history 100000 --max-event-size 2MiB --max-pending 4MiB' \
        "$SSED" "$port"
    wait_for_line "$BATS_TEST_TMPDIR/m.err" 'serving' 10
    URL="http://127.0.0.1:$port"
    python3 -c 'print("z" * 1000000)' >"$BATS_TEST_TMPDIR/big"
    codes=""
    for i in $(seq 1 120); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Content-Type: application/octet-stream' \
            --data-binary @"$BATS_TEST_TMPDIR/big" "$URL/c$((i % 3))")
        codes="$codes $code"
        [ "$code" = 503 ] && break
    done
    echo "$codes"
    [[ "$codes" == *" 200"* && "$codes" == *" 503" ]]
    [ "$(curl -s --max-time 5 "$URL/_ssed/health")" = ok ]
    subscribe s /c0 -H 'Last-Event-ID: 0'
}

@test "hostile: a %00 in channels= or event= is refused, never read as a shorter name" {
    start_ssed
    run curl -s -w ' %{http_code}' --max-time 5 "$URL/?channels=a%00b,c"
    [[ "$output" == *"invalid channel name"*" 400" ]]
    run curl -s -w ' %{http_code}' --max-time 5 -d x "$URL/x?event=a%00b"
    [[ "$output" == *"NUL"*" 400" ]]
}
