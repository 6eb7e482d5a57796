#!/usr/bin/env bats
# Hostile and faulty clients: slow readers, slowloris, resets, descriptor
# exhaustion, malformed requests, FIFO churn, and reconnects that must lose
# nothing. Each scenario is bounded in time and stops what it started.

load lib/helpers

LOAD="$BATS_TEST_DIRNAME/lib/sse_load.py"

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
}

# rss_peak_kb PID: the process's peak resident memory.
rss_peak_kb() {
    awk '/^VmHWM:/ {print $2}' "/proc/$1/status"
}

@test "hardening: 200 subscribers that never read are dropped; 50 others get every event in order" {
    # 256 KiB: room for a reader that a loaded machine holds up a while (at
    # 64 KiB all 50 were dropped at load 10), far below the 4 MB each never-
    # reading subscriber is sent
    start_ssed --max-pending 256K
    start_bg "$BATS_TEST_TMPDIR/slow.out" "$BATS_TEST_TMPDIR/slow.err" python3 "$LOAD" slow --port "$PORT" --count 200 --hold 40
    wait_for_line "$BATS_TEST_TMPDIR/slow.out" '^open 200' 20
    start_bg "$BATS_TEST_TMPDIR/watch.out" "$BATS_TEST_TMPDIR/watch.err" python3 "$LOAD" watch --port "$PORT" --subs 50 --events 8000 --timeout $((40 * SSETOOLS_WAIT_SCALE))
    watcher=$BG_PID
    wait_for_line "$BATS_TEST_TMPDIR/watch.out" '^subscribed 50' 20
    python3 "$LOAD" feed --rate 1000 --count 8000 --size 500 >&8
    wait_for_exit "$watcher" 40
    summary=$(tail -1 "$BATS_TEST_TMPDIR/watch.out")
    echo "normal subscribers: $summary"
    echo "ssed peak RSS: $(rss_peak_kb "$SSED_PID") kB; stats: $(curl -s --max-time 5 "$URL/_ssed/stats" | head -c 200)"
    python3 -c '
import json, sys
s = json.loads(sys.argv[1])
assert s["complete"] == 50 and s["in_order"] == 50, s
# Slow subscribers holding up the others would leave them incomplete when
# the watcher times out; how fast they are served is for the benchmark to
# say (the delays are printed above), not for a test on a loaded machine.
' "$summary"
    [ "$(stat_of slow_subscriber_drops)" -eq 200 ]
    # ssed keeps at most --max-pending per subscriber: its memory stays small.
    [ -n "${SSETOOLS_SANITIZED:-}" ] || [ "$(rss_peak_kb "$SSED_PID")" -lt 65536 ]
}

@test "hardening: slowloris clients are closed at the header timeout; a subscriber is unaffected" {
    start_ssed --header-timeout 1s
    # Twenty Python clients start first: on a loaded machine that takes longer than curl's usual 30 s.
    subscribe good / --max-time $((60 * SSETOOLS_WAIT_SCALE))
    for i in $(seq 1 10); do
        printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n' >"$BATS_TEST_TMPDIR/req"
        start_bg /dev/null /dev/null python3 "$TOP/tests/lib/http_raw.py" "$PORT" --trickle 1 <"$BATS_TEST_TMPDIR/req"
        start_bg /dev/null /dev/null python3 "$TOP/tests/lib/http_raw.py" "$PORT" --hold 20 </dev/null
    done
    seq 1 20 | while read -r n; do echo "$n"; sleep 0.1; done >&8
    wait_for_data "$BATS_TEST_TMPDIR/good" 20 10
    for i in $(seq 1 300); do [ "$(stat_of header_timeouts)" -ge 20 ] && break; sleep 0.1; done
    [ "$(stat_of header_timeouts)" -eq 20 ]
    [ "$(stat_of subscribers)" -eq 1 ]
}

@test "hardening: subscribers vanishing with resets mid-write never hurt ssed; counts stay right" {
    start_ssed
    subscribe good /
    python3 "$LOAD" feed --rate 1000 --count 4000 --size 200 >&8 &
    feeder=$!
    echo $feeder >>"$BATS_TEST_TMPDIR/pids"
    run python3 "$LOAD" resets --port "$PORT" --seconds 3
    echo "$output"
    [ "$status" -eq 0 ]
    wait_for_exit "$feeder" 20
    wait_for_data "$BATS_TEST_TMPDIR/good" 4000 20
    kill -0 "$SSED_PID"
    wait_for_stat subscribers -eq 1
    [ "$(stat_of connections)" -eq 2 ] # the good subscriber and this stats request
}

@test "hardening: out of descriptors, clients get a clean 503; logged once; recovers when they free" {
    port=$(free_port)
    start_bg "$BATS_TEST_TMPDIR/e.out" "$BATS_TEST_TMPDIR/e.err" \
        bash -c 'ulimit -n 64 && exec "$0" -l "127.0.0.1:$1" --no-stdin --max-clients 1000' "$SSED" "$port"
    ssed_pid=$BG_PID
    wait_for_line "$BATS_TEST_TMPDIR/e.err" serving 10
    start_bg "$BATS_TEST_TMPDIR/census" /dev/null python3 "$LOAD" census --port "$port" --count 120 --hold 3
    census=$BG_PID
    wait_for_line "$BATS_TEST_TMPDIR/census" '"ok"' 20
    ticks_before=$(awk '{print $14 + $15}' "/proc/$ssed_pid/stat")
    sleep 1
    ticks_after=$(awk '{print $14 + $15}' "/proc/$ssed_pid/stat")
    echo "census: $(cat "$BATS_TEST_TMPDIR/census"); CPU while saturated: $((ticks_after - ticks_before)) ticks/s"
    python3 -c '
import json, sys
c = json.loads(open(sys.argv[1]).read())
assert c["ok"] > 0 and c["busy"] > 0 and c["no_answer"] == 0, c
assert c["ok"] + c["busy"] + c["closed"] == 120, c
' "$BATS_TEST_TMPDIR/census"
    [ $((ticks_after - ticks_before)) -lt 50 ] # not spinning (100 ticks = one busy core)
    [ "$(grep -c 'refusing new connections' "$BATS_TEST_TMPDIR/e.err")" -eq 1 ]
    wait_for_exit "$census" 10
    run curl -s --max-time 5 "http://127.0.0.1:$port/_ssed/health"
    [ "$output" = ok ]
    grep -q 'accepting connections again' "$BATS_TEST_TMPDIR/e.err"
}

@test "hardening: malformed and malicious requests get a 4xx or a close, never a crash or a smuggled request" {
    start_ssed
    send() { printf "$1" | python3 "$TOP/tests/lib/http_raw.py" "$PORT"; }
    for i in 1 2 3; do
        out=$(head -c 2000 /dev/urandom | python3 "$TOP/tests/lib/http_raw.py" "$PORT")
        [[ -z "$out" || "$out" == "HTTP/1.1 4"* || "$out" == "HTTP/1.1 505"* ]]
    done
    [[ "$(send 'GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\0b\r\n\r\n')" == "HTTP/1.1 400"* ]]
    [[ "$(send 'GET /\r\n\r\n')" == "HTTP/1.1 400"* ]]
    [[ "$(send 'GET / HTTP/1.1\r\nHost x\r\n\r\n')" == "HTTP/1.1 400"* ]]
    [[ "$(head -c 1000000 /dev/zero | tr '\0' a | sed 's/^/GET \/ HTTP\/1.1\r\nX: /' | python3 "$TOP/tests/lib/http_raw.py" "$PORT")" == "HTTP/1.1 431"* ]]
    [[ "$(send 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: -5\r\n\r\n')" == "HTTP/1.1 400"* ]]
    [[ "$(send 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab')" == "HTTP/1.1 400"* ]]
    [[ "$(send 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na')" == "HTTP/1.1 200"* ]]
    [[ "$(send 'POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n')" == "HTTP/1.1 400"* ]]
    [[ "$(send 'POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip, chunked\r\n\r\n')" == "HTTP/1.1 501"* ]]
    [[ "$(send 'GET http://localhost/_ssed/health HTTP/1.1\r\nHost: localhost\r\n\r\n')" == "HTTP/1.1 200"*ok ]]
    [[ "$(send 'GET /_ssed/health HTTP/1.1\r\nHost: example.com\r\n\r\n')" == "HTTP/1.1 421"* ]]
    [[ "$(send 'GET /_ssed/../_ssed/stats HTTP/1.1\r\nHost: localhost\r\n\r\n')" == "HTTP/1.1 404"* ]]
    [[ "$(send 'GET /a/../../etc/passwd HTTP/1.1\r\nHost: localhost\r\n\r\n')" == "HTTP/1.1 400"* ]]
    # Request smuggling: a body framed two ways is refused and the
    # connection closed, so the request hidden in the body is never answered.
    out=$(send 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /_ssed/stats HTTP/1.1\r\nHost: localhost\r\n\r\n')
    [[ "$out" == "HTTP/1.1 400"* ]]
    [ "$(grep -c '^HTTP/1.1' <<<"$out")" -eq 1 ]
    kill -0 "$SSED_PID"
    [ "$(curl -s --max-time 5 "$URL/_ssed/health")" = ok ]
}

@test "hardening: 1000 short-lived FIFO writers and 10 concurrent PIPE_BUF writers: every line once, unmixed" {
    fifo="$BATS_TEST_TMPDIR/churn.fifo"
    start_ssed --fifo "$fifo" --history 20000 --max-pending 64M
    subscribe s / --max-time 60
    for i in $(seq 1 1000); do echo "short $i" >"$fifo"; done
    python3 - "$fifo" <<'PY' 3>&- 8>&-
import os, sys
from multiprocessing import Process
def writer(n):
    fd = os.open(sys.argv[1], os.O_WRONLY)
    for i in range(100):
        body = ("w%d-%d-" % (n, i)).encode()
        line = body + bytes([97 + n]) * (4095 - len(body)) + b"\n"   # 4096 bytes = PIPE_BUF
        os.write(fd, line)
    os.close(fd)
ps = [Process(target=writer, args=(n,)) for n in range(10)]
[p.start() for p in ps]
[p.join(30) for p in ps]
PY
    wait_for_data "$BATS_TEST_TMPDIR/s" 2000 30
    data_of "$BATS_TEST_TMPDIR/s" >"$BATS_TEST_TMPDIR/lines"
    [ "$(head -1000 "$BATS_TEST_TMPDIR/lines")" = "$(seq 1 1000 | sed 's/^/short /')" ]
    python3 - "$BATS_TEST_TMPDIR/lines" <<'PY'
import re, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")[1000:]
lines = [l for l in lines if l]
assert len(lines) == 1000, len(lines)
seen = set()
for l in lines:
    m = re.match(rb"w(\d)-(\d+)-", l)
    assert m, l[:40]
    n = int(m.group(1))
    assert len(l) == 4095 and l[m.end():] == bytes([97 + n]) * (4095 - m.end()), "mixed line " + l[:40].decode()
    seen.add((n, int(m.group(2))))
assert len(seen) == 1000
PY
}

@test "hardening: a subscriber dropping its connection 50+ times at 1000 events/s gets every event exactly once" {
    start_ssed --history 5000
    start_bg "$BATS_TEST_TMPDIR/rc.out" "$BATS_TEST_TMPDIR/rc.err" python3 "$LOAD" reconnect --port "$PORT" --events 6000 --disconnects 60 --timeout $((40 * SSETOOLS_WAIT_SCALE))
    client=$BG_PID
    sleep 0.5
    python3 "$LOAD" feed --rate 1000 --count 6000 --size 50 >&8
    wait_for_exit "$client" 40
    summary=$(tail -1 "$BATS_TEST_TMPDIR/rc.out")
    echo "$summary"
    python3 -c '
import json, sys
s = json.loads(sys.argv[1])
assert s["exactly_once_in_order"] and s["duplicates"] == 0 and s["gaps"] == 0, s
assert s["reconnects"] >= 50, s
' "$summary"
}

@test "hardening: ssed killed (SIGKILL) and restarted mid-stream: every line ssepub read is acknowledged, none lost" {
    port=$(free_port)
    start_ssed -l "127.0.0.1:$port" --no-stdin --history 100000 --max-pending 64M
    subscribe before / --max-time 60
    mkfifo "$BATS_TEST_TMPDIR/in"
    start_bg "$BATS_TEST_TMPDIR/pub.out" "$BATS_TEST_TMPDIR/pub.err" sh -c 'f=$1; shift; exec "$@" <"$f"' sh \
        "$BATS_TEST_TMPDIR/in" "$SSEPUB" -v --url "http://127.0.0.1:$port/" --retry-for 20s
    pub=$BG_PID
    exec 9>"$BATS_TEST_TMPDIR/in"
    python3 "$LOAD" feed --rate 5000 --count 10000 --size 0 | cut -d' ' -f2 >&9 &
    feeder=$!
    echo $feeder >>"$BATS_TEST_TMPDIR/pids"
    sleep 1
    exec 8>&-
    kill -KILL "$SSED_PID"
    sleep 0.5
    start_ssed -l "127.0.0.1:$port" --no-stdin --history 100000 --replay 100000 --max-pending 64M
    wait_for_exit "$feeder" 20
    exec 9>&-
    wait_for_exit "$pub" 30
    [ "$EXIT_STATUS" -eq 0 ]
    grep -q '10000 events delivered' "$BATS_TEST_TMPDIR/pub.err"
    subscribe after /
    wait_for_data "$BATS_TEST_TMPDIR/after" "$(stat_of events_published)" 10
    { data_of "$BATS_TEST_TMPDIR/before"; data_of "$BATS_TEST_TMPDIR/after"; } >"$BATS_TEST_TMPDIR/all"
    missing=$(comm -23 <(seq 0 9999 | sort) <(sort -u "$BATS_TEST_TMPDIR/all") | wc -l)
    twice=$(($(wc -l <"$BATS_TEST_TMPDIR/all") - $(sort -u "$BATS_TEST_TMPDIR/all" | wc -l)))
    echo "lines lost: $missing; published twice (the request in flight at the kill): $twice"
    [ "$missing" -eq 0 ]
    [ "$twice" -le 10000 ]
}

@test "hardening: a burst on stdin while 120 subscribers are written a slice at a time drops none of them" {
    start_ssed --history 0
    start_bg "$BATS_TEST_TMPDIR/watch.out" "$BATS_TEST_TMPDIR/watch.err" python3 "$LOAD" watch --port "$PORT" --subs 120 --events 4000 --timeout $((40 * SSETOOLS_WAIT_SCALE))
    watcher=$BG_PID
    wait_for_line "$BATS_TEST_TMPDIR/watch.out" '^subscribed 120' 20
    # 4 MB at once: four times --max-pending (1 MiB) arrives while the first slices are written.
    python3 "$LOAD" feed --rate 1000000000 --count 4000 --size 1000 >&8
    wait_for_exit "$watcher" $((40 * SSETOOLS_WAIT_SCALE))
    summary=$(tail -1 "$BATS_TEST_TMPDIR/watch.out")
    echo "$summary"
    [ "$(stat_of slow_subscriber_drops)" -eq 0 ]
    python3 -c '
import json, sys
s = json.loads(sys.argv[1])
assert s["complete"] == 120 and s["in_order"] == 120, s' "$summary"
}
