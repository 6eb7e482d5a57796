#!/usr/bin/env bats
# ssed's log: text lines that start with an RFC 3339 time, JSON lines a log
# shipper can parse (--log-format json), fields where a message has them,
# and never a secret.

load lib/helpers

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
}

# check_json_lines FILE: every line is one JSON object with time (RFC 3339,
# UTC, milliseconds), level and msg; prints the lines as Python sees them.
check_json_lines() {
    python3 - "$1" <<'PY'
import json, re, sys
time_re = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
count = 0
with open(sys.argv[1], "rb") as f:
    for number, raw in enumerate(f, 1):
        line = raw.decode("utf-8")  # invalid UTF-8 fails here
        obj = json.loads(line)
        assert isinstance(obj, dict), (number, line)
        assert time_re.match(obj["time"]), (number, line)
        assert obj["level"] in ("error", "warn", "info", "debug"), (number, line)
        assert isinstance(obj["msg"], str) and obj["msg"], (number, line)
        print(json.dumps(obj, sort_keys=True))
        count += 1
assert count > 0, "no lines"
PY
}

# json_field FILE MSG KEY: KEY of the first JSON line whose msg is MSG.
json_field() {
    python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    if o["msg"] == sys.argv[2]:
        print(o[sys.argv[3]])
        break
else:
    sys.exit(1)
' "$@"
}

@test "logs: text lines start with an RFC 3339 UTC time, at every verbosity" {
    start_ssed
    curl -s -o /dev/null --max-time 5 -X POST -H 'Origin: https://evil.example' -d x "$URL/" || true
    subscribe s /
    stop_pid "$SUB_PID"
    stop_pid "$SSED_PID"
    [ "$(wc -l <"$SSED_ERR")" -ge 2 ]
    ! grep -vE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z ssed: ' "$SSED_ERR" || false
    # without -v, no connect or disconnect lines
    ! grep -q 'connect peer=' "$SSED_ERR" || false
    grep -q 'ssed: warning: refused a publisher peer=127.0.0.1:[0-9]* reason=' "$SSED_ERR"
    stop_all
    start_ssed -v
    subscribe s /
    stop_pid "$SUB_PID"
    wait_for_line "$SSED_ERR" ' ssed: disconnect peer=' 5
    ! grep -vE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z ssed: ' "$SSED_ERR" || false
    grep -qE ' ssed: disconnect peer=127\.0\.0\.1:[0-9]+ channel=/ duration_ms=[0-9]+ events=0 bytes=[0-9]+ reason="peer closed"$' "$SSED_ERR"
}

@test "logs: --log-format json: one object a line with time, level, msg and the fields" {
    start_ssed -v --log-format json --max-pending 1K
    subscribe s /news
    curl -s -o /dev/null --max-time 5 -d one "$URL/news"
    # a publish that fails half-way: one event taken, the next too large
    printf 'two\n%s\n' "$(head -c 2000 /dev/zero | tr '\0' x)" |
        curl -s -o /dev/null --max-time 5 --data-binary @- "$URL/other"
    curl -s -o /dev/null --max-time 5 -X POST -H 'Origin: https://evil.example' -d x "$URL/news" || true
    printf 'BREW / HTTP/1.1\r\nHost: localhost\r\n\r\n' | raw_request >/dev/null
    wait_for_data "$BATS_TEST_TMPDIR/s" 1
    stop_pid "$SUB_PID"
    wait_for_line "$SSED_ERR" '"msg":"disconnect"' 5
    stop_pid "$SSED_PID"
    run check_json_lines "$SSED_ERR"
    echo "$output"
    [ "$status" -eq 0 ]
    log=$SSED_ERR
    [ "$(json_field "$log" "serving http://127.0.0.1:$PORT/" level)" = info ]
    [ "$(json_field "$log" connect level)" = debug ]
    [ "$(json_field "$log" connect channel)" = /news ]
    [[ "$(json_field "$log" connect peer)" =~ ^127\.0\.0\.1:[0-9]+$ ]]
    [ "$(json_field "$log" publish channel)" = /news ]
    [ "$(json_field "$log" publish events)" = 1 ]
    [ "$(json_field "$log" disconnect events)" = 1 ]
    [ "$(json_field "$log" disconnect reason)" = "peer closed" ]
    [[ "$(json_field "$log" disconnect duration_ms)" =~ ^[0-9]+$ ]]
    [ "$(json_field "$log" disconnect bytes)" -gt 0 ]
    [ "$(json_field "$log" "publish failed" channel)" = /other ]
    [ "$(json_field "$log" "publish failed" events)" = 1 ]
    [ "$(json_field "$log" "publish failed" status)" = 413 ]
    [[ "$(json_field "$log" "publish failed" reason)" == *"--max-pending"* ]]
    [ "$(json_field "$log" "refused a publisher" level)" = warn ]
    [[ "$(json_field "$log" "refused a publisher" reason)" == *"--cors"* ]]
    json_field "$log" "Terminated received: closing streams" level
    # numbers are JSON numbers, not strings
    grep -qE '"msg":"disconnect",.*"duration_ms":[0-9]+,"events":1,"bytes":[0-9]+,' "$log"
}

@test "logs: JSON strings are escaped: quotes, backslashes, control characters, invalid UTF-8" {
    start_ssed --log-format json
    seq 1 3 >&8
    # an id no history holds, as a client may send it: logged in the gap warning
    printf 'GET / HTTP/1.1\r\nHost: localhost\r\nLast-Event-ID: q"b\\s\tt\xff\xfez\r\n\r\n' |
        raw_request --hold 0.5 >/dev/null
    wait_for_line "$SSED_ERR" 'last_event_id' 5
    run check_json_lines "$SSED_ERR"
    echo "$output"
    [ "$status" -eq 0 ]
    id=$(python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    if "last_event_id" in o:
        print(ascii(o["last_event_id"]))
' "$SSED_ERR")
    [ "$id" = "'q\"b\\\\s\\tt\\ufffd\\ufffdz'" ]
}

@test "logs: no token, password or cookie ever reaches the log, in either format" {
    for format in text json; do
        rm -f "$BATS_TEST_TMPDIR/pids"
        start_ssed -v --log-format "$format" --token tok-SECRET-1
        auth=(-H 'Authorization: Bearer tok-SECRET-1')
        subscribe s "/chan?access_token=tok-SECRET-1" "${auth[@]}" -H 'Cookie: session=cookie-SECRET-2'
        curl -s -o /dev/null --max-time 5 "${auth[@]}" -d x "$URL/chan?access_token=tok-SECRET-1"
        curl -s -o /dev/null --max-time 5 -H 'Authorization: Bearer wrong-SECRET-3' -d x "$URL/chan"
        curl -s -o /dev/null --max-time 5 -u 'user:basic-SECRET-4' -d x "$URL/chan"
        curl -s -o /dev/null --max-time 5 -d x "$URL/chan?access_token=query-SECRET-5"
        curl -s -o /dev/null --max-time 5 -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.jwt-SECRET-6.sig' -d x "$URL/chan"
        printf 'GET /chan?access_token=raw-SECRET-7 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer raw-SECRET-7\r\nTransfer-Encoding: bogus\r\n\r\n' |
            raw_request >/dev/null
        stop_pid "$SUB_PID"
        wait_for_line "$SSED_ERR" 'disconnect' 5
        stop_pid "$SSED_PID"
        cat "$SSED_ERR"
        grep -q 'refused a publisher' "$SSED_ERR"
        ! grep -q SECRET "$SSED_ERR" || false
        ! grep -q 'eyJ' "$SSED_ERR" || false
        stop_all
    done
    # a Redis password, in the URL or the environment
    port=$(free_port)
    start_bg "$BATS_TEST_TMPDIR/r.out" "$BATS_TEST_TMPDIR/r.err" "$SSED" -v --no-stdin -l 127.0.0.1:0 \
        --log-format json --redis "redis://u:redis-SECRET-8@127.0.0.1:$port"
    wait_for_line "$BATS_TEST_TMPDIR/r.err" 'cannot connect' 10
    stop_pid "$BG_PID"
    start_bg "$BATS_TEST_TMPDIR/r2.out" "$BATS_TEST_TMPDIR/r2.err" env SSED_REDIS_PASSWORD=redis-SECRET-9 \
        "$SSED" -v --no-stdin -l 127.0.0.1:0 --redis "redis://127.0.0.1:$port"
    wait_for_line "$BATS_TEST_TMPDIR/r2.err" 'cannot connect' 10
    stop_pid "$BG_PID"
    ! grep -q 'SECRET' "$BATS_TEST_TMPDIR/r.err" "$BATS_TEST_TMPDIR/r2.err" || false
}

@test "logs: --log-format takes text or json; anything else is a usage error (exit 2)" {
    run "$SSED" --log-format xml --no-stdin
    [ "$status" -eq 2 ]
    [[ "$output" == *"--log-format"*"xml"* ]]
    run "$SSED" --log-format --no-stdin
    [ "$status" -eq 2 ]
    run "$SSED" --log-format= --no-stdin
    [ "$status" -eq 2 ]
    run "$SSED" --log-format JSON --no-stdin
    [ "$status" -eq 2 ]
    # a usage error is for a person at a terminal: plain text whatever the format
    run "$SSED" --log-format json --bogus
    [ "$status" -eq 2 ]
    [[ "$output" == "ssed: --bogus: unknown option"* ]]
}
