#!/usr/bin/env bats
# ssecat against a server it did not come with: one built on the npm package
# better-sse (tests/servers/better_sse_server.mjs), installed here from
# tests/package-lock.json when missing, as a fresh clone needs.

bats_require_minimum_version 1.5.0
load lib/helpers
load lib/ssecat_helpers

setup_file() {
    cd "$BATS_TEST_DIRNAME" || return 1
    if [ ! -f node_modules/better-sse/package.json ]; then
        timeout 300 npm ci --no-audit --no-fund --loglevel=error >&2 ||
            { echo "npm ci in tests/ failed" >&2; return 1; }
    fi
}

setup() {
    [ -x "$SSECAT" ] || skip "ssecat is not built"
    local port_file="$BATS_TEST_TMPDIR/port"
    start_bg "$BATS_TEST_TMPDIR/node.out" "$BATS_TEST_TMPDIR/node.err" node "$TOP/tests/servers/better_sse_server.mjs" "$port_file"
    wait_for_file "$port_file" 10 || { cat "$BATS_TEST_TMPDIR/node.err" >&2; return 1; }
    URL="http://127.0.0.1:$(cat "$port_file")/stream"
}

teardown() {
    stop_all
}

@test "better-sse: events, ids, the comment and the retry value, as JSON" {
    run --separate-stderr -0 timeout 10 "$SSECAT" -o json --comments --no-reconnect "$URL"
    printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out"
    json_lines_valid "$BATS_TEST_TMPDIR/out"
    run events_of "$BATS_TEST_TMPDIR/out"
    [ "${lines[0]}" = '{"retry": 250}' ]
    [ "${lines[1]}" = '{"comment": "hello from better-sse"}' ]
    [ "${lines[2]}" = '{"data": "\"first\"", "id": "1", "type": "message"}' ]
    [ "${lines[3]}" = '{"data": "{\"n\":2,\"text\":\"second\"}", "id": "2", "type": "update"}' ]
    [ "${lines[4]}" = '{"data": "\"multi\\nline\"", "id": "3", "type": "message"}' ]
    [ "${#lines[@]}" -eq 5 ]
}

@test "better-sse: reconnects after its retry with the last id, which the server sees" {
    run --separate-stderr -0 timeout 10 "$SSECAT" -o data -e resumed -n 1 --retry-delay 30s "$URL"
    [ "$output" = '{"from":"3"}' ]
    [[ "$stderr" == "ssecat: stream ended; reconnecting in 250ms (attempt 1, Last-Event-ID: 3)" ]]
}

@test "better-sse: a 404 with a JSON body is refused and shown" {
    run --separate-stderr -3 timeout 10 "$SSECAT" "${URL%/stream}/missing"
    [[ "${stderr_lines[0]}" == *"HTTP/1.1 404 Not Found" ]]
    [ "${stderr_lines[1]}" = '{"error":"no such stream"}' ]
}
