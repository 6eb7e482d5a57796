#!/usr/bin/env bats
# ssed when memory runs out (ulimit -v): every publish is answered, a
# refusal is a 503 that says memory ran out, whatever the body's type, its
# framing or the token that came with it, and ssed goes on serving.

load lib/helpers
load lib/jwt_helpers

setup() {
    # ASan reserves terabytes of address space: no ulimit -v leaves it room.
    [ "${SSETOOLS_SANITIZED:-0}" != 1 ] || skip "ulimit -v cannot be used with the sanitizers"
}

teardown() {
    stop_all
}

# Address space left to ssed beyond what it maps once started: room for
# some 120 publishes of 700 KB kept in history, then memory runs out.
HEADROOM_KB=90000

# start_ssed_short_of_memory OPTIONS...: start_ssed under ulimit -v, set to
# what ssed with these OPTIONS maps when it starts (measured by starting it
# once) plus HEADROOM_KB, so that it starts as usual on any machine.
start_ssed_short_of_memory() {
    start_ssed "$@"
    local mapped
    mapped=$(awk '/^VmPeak:/ {print $2}' "/proc/$SSED_PID/status")
    [ -n "$mapped" ]
    stop_pid "$SSED_PID"
    exec 8>&-
    local real=$SSED
    printf '#!/bin/sh\nulimit -v %d || exit 99\nexec "%s" "$@"\n' $((mapped + HEADROOM_KB)) "$real" \
        >"$BATS_TEST_TMPDIR/ssed-limited"
    chmod +x "$BATS_TEST_TMPDIR/ssed-limited"
    SSED="$BATS_TEST_TMPDIR/ssed-limited"
    start_ssed "$@"
    SSED=$real
}

# publish_until_refused KIND SIZE [oom_publish.py OPTIONS]: bodies of KIND
# and SIZE until three are refused; their counts and reasons in $output.
publish_until_refused() {
    local kind=$1 size=$2
    shift 2
    output=$(python3 "$TOP/tests/lib/oom_publish.py" "$PORT" "$kind" "$size" --max 400 \
        --seconds $((40 * SSETOOLS_WAIT_SCALE)) "$@")
}

# refused_cleanly: the last publish_until_refused got 503s naming memory and
# nothing else went wrong: no other status, no publish left unanswered.
refused_cleanly() {
    echo "$output"
    [[ "${output%%$'\n'*}" =~ ^200=[0-9]+\ 503=[1-9][0-9]*\ other=0\ dropped=0$ ]]
    grep -q '^503 [0-9]*: .*out of memory' <<<"$output"
    kill -0 "$SSED_PID"
}

@test "oom: under ulimit -v, JSON, octet-stream, event-stream, text/plain and chunked publishes get 503; ssed stays up and takes a small one after" {
    start_ssed_short_of_memory --max-history-bytes 0 --history 1000000
    # JSON first, with memory still to fill: jansson's token buffer is then
    # what fails (it crashed ssed), not the body's.
    local kind
    for kind in json octet sse lines json-chunked; do
        publish_until_refused "$kind" 700000
        refused_cleanly
    done
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -d small "$URL/small")" = 200 ]
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
        -d '{"small":true}' "$URL/small")" = 200 ]
}

@test "oom: tokens read while memory runs out get 503, never 401 (not judged); a token verifies after" {
    [[ "$("$SSED" --jwt-secret-file /dev/null 2>&1)" != *"built without JWT support"* ]] || skip "built with JWT=0"
    local secret="$BATS_TEST_TMPDIR/secret"
    head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret"
    start_ssed_short_of_memory --max-history-bytes 0 --history 1000000 --jwt-secret-file "$secret" \
        --max-header-size 16KiB
    # Each publish has its own 6 KB token (the cache never answers for
    # it); smaller and smaller bodies fill memory up until the tokens'
    # parse is what fails.
    local step
    for step in 700000:octet 60000:octet 6000:json 600:octet; do
        publish_until_refused "${step#*:}" "${step%%:*}" --secret "$secret"
        refused_cleanly
    done
    local token
    token=$(jwt_mint HS256 "$secret" '{"ssed":{"publish":["**"]}}')
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $token" -d small \
        "$URL/small")" = 200 ]
}
