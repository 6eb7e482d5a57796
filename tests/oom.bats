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

# refused_cleanly [REASON]: the last publish_until_refused got 503s, one
# of them for REASON (a regex; default: memory ran out), and nothing else
# went wrong: no other status, no publish left unanswered.
refused_cleanly() {
    echo "$output"
    [[ "${output%%$'\n'*}" =~ ^200=[0-9]+\ 503=[1-9][0-9]*\ other=0\ dropped=0$ ]]
    grep -qE "^503 [0-9]*: .*(${1:-out of memory})" <<<"$output"
    kill -0 "$SSED_PID"
}

# small_publish_taken [CURL OPTIONS...]: a small publish gets 200, tried
# for up to 10 s (times SSETOOLS_WAIT_SCALE) while 503 says to try again.
small_publish_taken() {
    local i code
    for i in $(seq 1 $((20 * SSETOOLS_WAIT_SCALE))); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" -d small "$URL/small")
        [ "$code" = 200 ] && return 0
        [ "$code" = 503 ] || break
        sleep 0.5
    done
    echo "a small publish got $code" >&2
    return 1
}

@test "oom: under ulimit -v, JSON, octet-stream, event-stream, text/plain, form and chunked publishes get 503; ssed stays up and takes a small one after" {
    start_ssed_short_of_memory --max-history-bytes 0 --history 1000000
    # JSON first, with memory still to fill: jansson's token buffer is then
    # what fails (it crashed ssed), not the body's.
    local kind
    for kind in json octet sse lines form json-chunked; do
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

@test "oom: a signature OpenSSL cannot check for want of memory is 503, never 401; the same kind of token verifies after" {
    grep -qa EVP_DigestVerify "$SSED" || skip "this ssed was built without JWT support (make JWT=0)"
    command -v cc >/dev/null || skip "no C compiler to build tests/lib/libcrypto_oom_shim.c"
    local keys="$BATS_TEST_TMPDIR/keys" trigger="$BATS_TEST_TMPDIR/crypto-oom" claim code
    mkdir -p "$keys"
    jwt_keys "$keys"
    cc -shared -fPIC -o "$BATS_TEST_TMPDIR/shim.so" "$TOP/tests/lib/libcrypto_oom_shim.c" -ldl
    printf '#!/bin/sh\nLD_PRELOAD="%s" CRYPTO_OOM_TRIGGER="%s" exec "%s" "$@"\n' "$BATS_TEST_TMPDIR/shim.so" \
        "$trigger" "$SSED" >"$BATS_TEST_TMPDIR/ssed-shimmed"
    chmod +x "$BATS_TEST_TMPDIR/ssed-shimmed"
    local real=$SSED
    SSED="$BATS_TEST_TMPDIR/ssed-shimmed"
    start_ssed --no-stdin --jwt-secret-file "$keys/secret" --jwt-key-file "$keys/ec.pub"
    SSED=$real
    # Each request its own token, so no cached verdict answers for it.
    for alg in HS256 ES256; do
        for step in short-of-memory after; do
            [ "$step" = after ] && rm -f "$trigger" || touch "$trigger"
            claim=$(printf '{"exp":%s,"jti":"%s-%s","ssed":{"publish":["**"]}}' "$(now_plus 300)" "$alg" "$step")
            key="$keys/secret"
            [ "$alg" = ES256 ] && key="$keys/ec.pem"
            code=$(curl -s -o "$BATS_TEST_TMPDIR/answer" -w '%{http_code}' --max-time 5 \
                -H "Authorization: Bearer $(jwt_mint "$alg" "$key" "$claim")" -d x "$URL/c")
            echo "$alg $step: $code $(cat "$BATS_TEST_TMPDIR/answer")"
            if [ "$step" = after ]; then
                [ "$code" = 200 ]
            else
                [ "$code" = 503 ]
                grep -q 'out of memory while reading the token' "$BATS_TEST_TMPDIR/answer"
            fi
        done
    done
}

@test "oom: with --store, publishes while memory runs out get 503; ssed stays up and takes a small one after" {
    [[ "$("$SSED" --store /dev/null/x 2>&1)" != *"built without"* ]] || skip "built with STORE=0"
    start_ssed_short_of_memory --max-history-bytes 0 --history 1000000 --store "$BATS_TEST_TMPDIR/s.store"
    local step
    for step in 700000:json 700000:octet 60000:sse 6000:json; do
        publish_until_refused "${step#*:}" "${step%%:*}"
        refused_cleanly
    done
    small_publish_taken
}

@test "oom: with --redis, publishes while memory runs out get 503, never a dropped connection; the node publishes again after" {
    command -v redis-server >/dev/null || skip "redis-server is not installed"
    local rport i
    rport=$(free_port)
    start_bg "$BATS_TEST_TMPDIR/redis.out" "$BATS_TEST_TMPDIR/redis.err" redis-server --port "$rport" \
        --bind 127.0.0.1 --save '' --appendonly no --dir "$BATS_TEST_TMPDIR"
    for i in $(seq 1 $((100 * SSETOOLS_WAIT_SCALE))); do
        redis-cli -p "$rport" ping 2>/dev/null | grep -q PONG && break
        sleep 0.05
    done
    start_ssed_short_of_memory --max-history-bytes 0 --history 1000000 --redis "redis://127.0.0.1:$rport"
    wait_for_line "$SSED_ERR" 'cluster .* ready' 10
    # hiredis out of memory drops its connection: the node answers 503
    # while it reconnects, which names Redis rather than memory.
    local step
    for step in 700000:json 700000:octet 60000:sse; do
        publish_until_refused "${step#*:}" "${step%%:*}"
        refused_cleanly '.'
    done
    small_publish_taken
}
