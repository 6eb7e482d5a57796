#!/usr/bin/env bats
# ssed with JSON Web Tokens (--jwt-secret-file, --jwt-key-file): every
# accepted algorithm, every refused token, channel patterns, where tokens
# come from, publish rights, admin figures, and streams ended at exp.
# Tokens are minted with openssl by tests/lib/jwt_helpers.bash.

load lib/helpers
load lib/jwt_helpers

setup_file() {
    export KEYS="$BATS_FILE_TMPDIR/keys"
    mkdir -p "$KEYS"
    jwt_keys "$KEYS"
}

setup() {
    if [[ "$("$SSED" --jwt-secret-file /dev/null 2>&1)" == *"built without JWT support"* ]]; then
        [[ "$BATS_TEST_DESCRIPTION" == *"make JWT=0"* ]] || skip "this ssed was built without JWT support (make JWT=0)"
    fi
}

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
}

@test "jwt: built with make JWT=0, --jwt-secret-file and --jwt-key-file are refused at start with exit 1" {
    [[ "$("$SSED" --jwt-secret-file /dev/null 2>&1)" == *"built without JWT support"* ]] || skip "this ssed has JWT support"
    run "$SSED" -l 127.0.0.1:0 --no-stdin --jwt-secret-file "$KEYS/secret"
    [ "$status" -eq 1 ]
    [[ "$output" == *"built without JWT support (make JWT=0)"* ]]
    run "$SSED" -l 127.0.0.1:0 --no-stdin --jwt-key-file "$KEYS/ec.pub"
    [ "$status" -eq 1 ]
}

# claims SSED_CLAIM [EXTRA]: a payload valid for five minutes.
claims() { printf '{"exp":%s,"ssed":%s%s}' "$(now_plus 300)" "$1" "${2:-}"; }

# code_of PATH [CURL OPTIONS...]: the status of a HEAD subscription.
code_of() {
    local path=$1
    shift
    curl -s -I -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$URL$path"
}

# bearer_code TOKEN PATH: the status of a HEAD subscription with the token.
bearer_code() { code_of "$2" -H "Authorization: Bearer $1"; }

@test "jwt: HS256, HS384 and HS512 with a secret; RS256/384/512 with an RSA key" {
    start_ssed --jwt-secret-file "$KEYS/secret" --jwt-key-file "$KEYS/rsa.pub"
    local alg
    for alg in HS256 HS384 HS512; do
        [ "$(bearer_code "$(jwt_mint $alg "$KEYS/secret" "$(claims '{"subscribe":["a"]}')")" /a)" = 200 ]
    done
    for alg in RS256 RS384 RS512; do
        [ "$(bearer_code "$(jwt_mint $alg "$KEYS/rsa.pem" "$(claims '{"subscribe":["a"]}')")" /a)" = 200 ]
    done
    [ "$(code_of /a)" = 401 ]
}

@test "jwt: ES256 (raw r||s signature) with a P-256 key; EdDSA with an Ed25519 key" {
    start_ssed --jwt-key-file "$KEYS/ec.pub"
    [ "$(bearer_code "$(jwt_mint ES256 "$KEYS/ec.pem" "$(claims '{"subscribe":["a"]}')")" /a)" = 200 ]
    # an RS256 token cannot be checked with an EC key
    [ "$(bearer_code "$(jwt_mint RS256 "$KEYS/rsa.pem" "$(claims '{"subscribe":["a"]}')")" /a)" = 401 ]
    stop_all
    start_ssed --jwt-key-file "$KEYS/ed.pub"
    [ "$(bearer_code "$(jwt_mint EdDSA "$KEYS/ed.pem" "$(claims '{"subscribe":["a"]}')")" /a)" = 200 ]
}

@test "jwt: refused tokens get 401 invalid_token and ssed keeps serving" {
    start_ssed --jwt-secret-file "$KEYS/secret" --jwt-audience ssed-test --jwt-issuer issuer.test --jwt-leeway 0 \
        --max-header-size 64K
    local good_claims="{\"aud\":\"ssed-test\",\"iss\":\"issuer.test\",\"exp\":$(now_plus 300),\"ssed\":{\"subscribe\":[\"a\"]}}"
    local good
    good=$(jwt_mint HS256 "$KEYS/secret" "$good_claims")
    [ "$(bearer_code "$good" /a)" = 200 ]
    local h p s
    IFS=. read -r h p s <<<"$good"
    local other_payload
    other_payload=$(printf %s "${good_claims/\"a\"/\"b\"}" | b64url)
    # a character in the middle: the last one's unused bits could make
    # base64url strictness refuse it before the signature is checked
    local mid=$((${#s} / 2))
    local tampered_sig="${s:0:mid}"
    [ "${s:mid:1}" = A ] && tampered_sig+=B || tampered_sig+=A
    tampered_sig+="${s:mid+1}"
    local -a refused=(
        "$h.$other_payload.$s"                                              # tampered payload
        "$h.$p.$tampered_sig"                                               # tampered signature
        "$(jwt_mint none "" "$good_claims" '{"alg":"none","typ":"JWT"}')x"  # alg none (with a signature part)
        "$(printf %s '{"alg":"none"}' | b64url).$p."                        # alg none, empty signature
        "$(jwt_mint HS256 "$KEYS/secret" "{\"aud\":\"ssed-test\",\"iss\":\"issuer.test\",\"exp\":$(now_plus -5),\"ssed\":{\"subscribe\":[\"a\"]}}")" # expired
        "$(jwt_mint HS256 "$KEYS/secret" "{\"aud\":\"ssed-test\",\"iss\":\"issuer.test\",\"nbf\":$(now_plus 120),\"ssed\":{\"subscribe\":[\"a\"]}}")" # not yet valid
        "$(jwt_mint HS256 "$KEYS/secret" "${good_claims/ssed-test/other}")" # wrong audience
        "$(jwt_mint HS256 "$KEYS/secret" "${good_claims/issuer.test/evil.test}")" # wrong issuer
        "$h=.$p.$s"                                                         # padding
        "$h.$p!.$s"                                                         # a character outside base64url
        "$h.$p"                                                             # two parts
        "$(printf %s '{"alg":"HS256"' | b64url).$p.$s"                      # header not JSON
        "$(printf %s '["HS256"]' | b64url).$p.$s"                           # header not an object
        "$(printf %s '{"alg":"HS256","alg":"none"}' | b64url).$p.$s"         # duplicate key
        "$(printf %s '{"alg":"HS256","typ":"JWS+JSON"}' | b64url).$p.$s"    # typ not JWT
        "$(jwt_mint HS256 "$KEYS/secret" "{\"exp\":\"soon\",\"ssed\":{}}")"  # exp not a number
        "$(jwt_mint HS256 "$KEYS/secret" "$(claims '{"subscribe":["a/b*"]}')")" # a bad pattern
    )
    local i code
    for i in "${!refused[@]}"; do
        code=$(bearer_code "${refused[$i]}" /a)
        [ "$code" = 401 ] || { echo "token $i: $code" >&2; return 1; }
    done
    # over 8KiB, in the header or the query
    local big
    big=$(head -c 9000 /dev/zero | tr '\0' a)
    [ "$(bearer_code "$big" /a)" = 401 ]
    [ "$(code_of "/a?access_token=$big")" = 401 ]
    # the reason says what is wrong, and the challenge names the error
    run curl -s -i --max-time 5 -H "Authorization: Bearer ${refused[4]}" "$URL/a"
    [[ "$output" == *'WWW-Authenticate: Bearer realm="ssed", error="invalid_token"'* ]]
    [[ "$output" == *"invalid token: the token has expired"* ]]
    run curl -s -i --max-time 5 -H "Authorization: Bearer ${refused[2]}" "$URL/a"
    [[ "$output" == *"alg none"* ]]
    run curl -s -i --max-time 5 -H "Authorization: Bearer ${refused[1]}" "$URL/a"
    [[ "$output" == *"the token's signature does not verify"* ]]
    run curl -s -i --max-time 5 -H "Authorization: Basic dTpw" "$URL/a"
    [[ "$output" == *"401"* ]]
    kill -0 "$SSED_PID"
    [ "$(curl -s --max-time 5 "$URL/_ssed/health")" = ok ]
    [ "$(bearer_code "$good" /a)" = 200 ]
}

@test "jwt: algorithm confusion is refused both ways" {
    # An HS256 token whose secret is the RSA public key, to a server with
    # only that public key.
    start_ssed --jwt-key-file "$KEYS/rsa.pub"
    [ "$(bearer_code "$(jwt_mint HS256 "$KEYS/rsa.pub" "$(claims '{"subscribe":["a"]}')")" /a)" = 401 ]
    run curl -s --max-time 5 -H "Authorization: Bearer $(jwt_mint HS256 "$KEYS/rsa.pub" "$(claims '{"subscribe":["a"]}')")" "$URL/a"
    [[ "$output" == *"algorithm does not match the configured key"* ]]
    stop_all
    # An RS256 token to a server with only a secret.
    start_ssed --jwt-secret-file "$KEYS/secret"
    [ "$(bearer_code "$(jwt_mint RS256 "$KEYS/rsa.pem" "$(claims '{"subscribe":["a"]}')")" /a)" = 401 ]
}

@test "jwt: claims name the channels; * is one segment, ** one or more; every channel of a stream must be allowed" {
    start_ssed --jwt-secret-file "$KEYS/secret"
    local t
    t=$(jwt_mint HS256 "$KEYS/secret" "$(claims '{"subscribe":["orders/42","news/*","builds/**","/"]}')")
    [ "$(bearer_code "$t" /orders/42)" = 200 ]
    [ "$(bearer_code "$t" /orders/43)" = 403 ]
    [ "$(bearer_code "$t" /news/today)" = 200 ]
    [ "$(bearer_code "$t" /news/today/sports)" = 403 ]
    [ "$(bearer_code "$t" /news)" = 403 ]
    [ "$(bearer_code "$t" /builds/1)" = 200 ]
    [ "$(bearer_code "$t" /builds/1/log/tail)" = 200 ]
    [ "$(bearer_code "$t" /builds)" = 403 ]
    [ "$(bearer_code "$t" /)" = 200 ]
    [ "$(bearer_code "$t" '/?channels=orders/42,news/x')" = 200 ]
    [ "$(bearer_code "$t" '/?channels=orders/42,orders/43')" = 403 ]
    # a middle ** backtracks
    t=$(jwt_mint HS256 "$KEYS/secret" "$(claims '{"subscribe":["a/**/z"]}')")
    [ "$(bearer_code "$t" /a/b/z)" = 200 ]
    [ "$(bearer_code "$t" /a/b/z/c/z)" = 200 ]
    [ "$(bearer_code "$t" /a/z)" = 403 ]
    # no ssed claim: nothing allowed
    t=$(jwt_mint HS256 "$KEYS/secret" "{\"exp\":$(now_plus 60)}")
    [ "$(bearer_code "$t" /a)" = 403 ]
    run curl -s -i --max-time 5 -H "Authorization: Bearer $t" "$URL/a"
    [[ "$output" == *'error="insufficient_scope"'* ]]
    [[ "$output" == *"does not allow subscribing"* ]]
}

@test "jwt: the token from a cookie (--jwt-cookie) or ?access_token=, which the log never shows" {
    start_ssed --jwt-secret-file "$KEYS/secret" --jwt-cookie ssed_token -v
    local t
    t=$(jwt_mint HS256 "$KEYS/secret" "$(claims '{"subscribe":["a"]}')")
    [ "$(code_of /a -H "Cookie: theme=dark; ssed_token=$t; x=y")" = 200 ]
    [ "$(code_of /a -H "Cookie: ssed_token=\"$t\"")" = 200 ]
    [ "$(code_of /a -H "Cookie: other_token=$t")" = 401 ]
    [ "$(code_of "/a?access_token=$t")" = 200 ]
    [ "$(code_of "/a?x=1&access_token=$t")" = 200 ]
    # the header is looked at first: a bad one is not saved by a good cookie
    [ "$(code_of /a -H "Authorization: Bearer x.y.z" -H "Cookie: ssed_token=$t")" = 401 ]
    subscribe s "/a?access_token=$t"
    echo hello >&8
    curl -s --max-time 5 -o /dev/null "$URL/a?access_token=$(jwt_mint HS256 "$KEYS/secret" "$(claims '{"subscribe":["b"]}')")"
    wait_for_line "$SSED_ERR" 'refused a subscriber'
    # (`! grep` would not fail a bats test: a command negated with ! never does)
    [ "$(grep -c -- "$t" "$SSED_ERR")" -eq 0 ]
    [ "$(grep -c 'access_token=' "$SSED_ERR")" -eq 0 ]
}

@test "jwt: a cookie never publishes or shows admin figures, even with --cors '*'; it still subscribes" {
    start_ssed --jwt-secret-file "$KEYS/secret" --jwt-cookie ssed_token --cors '*'
    local t
    t=$(jwt_mint HS256 "$KEYS/secret" "$(claims '{"subscribe":["a"],"publish":["a"],"admin":true}')")
    [ "$(code_of /a -H "Cookie: ssed_token=$t")" = 200 ]
    # a form another site posts: the browser adds the cookie
    run curl -s -w ' %{http_code}' --max-time 5 -H "Cookie: ssed_token=$t" -H 'Origin: https://evil.example' \
        -H 'Content-Type: application/x-www-form-urlencoded' -d x=1 "$URL/a"
    [[ "$output" == *"Authorization: Bearer"*" 401" ]]
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Cookie: ssed_token=$t" -d x "$URL/a"
    [ "$output" = 401 ]
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 -d x "$URL/a?access_token=$t"
    [ "$output" = 401 ]
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $t" -d x "$URL/a"
    [ "$output" = 200 ]
    [ "$(curl -s --max-time 5 -H "Cookie: ssed_token=$t" "$URL/_ssed/stats" | grep -c '"name":"/a"')" -eq 0 ]
    [ "$(curl -s --max-time 5 -H "Authorization: Bearer $t" "$URL/_ssed/stats" | grep -c '"name":"/a"')" -ge 1 ]
}

@test "jwt: an Authorization header of another scheme is passed over for the cookie or access_token" {
    start_ssed --jwt-secret-file "$KEYS/secret" --jwt-cookie ssed_token
    local t
    t=$(jwt_mint HS256 "$KEYS/secret" "$(claims '{"subscribe":["a"]}')")
    [ "$(code_of /a -H 'Authorization: Basic dTpw' -H "Cookie: ssed_token=$t")" = 200 ]
    [ "$(code_of "/a?access_token=$t" -H 'Authorization: Basic dTpw')" = 200 ]
    [ "$(code_of /a -H 'Authorization: Basic dTpw')" = 401 ]
}

@test "jwt: of several cookies of the --jwt-cookie name the first that verifies counts, at most 8 tried" {
    start_ssed --jwt-secret-file "$KEYS/secret" --jwt-cookie tok
    local t
    t=$(jwt_mint HS256 "$KEYS/secret" "$(claims '{"subscribe":["a"]}')")
    [ "$(code_of /a -H "Cookie: tok=x; tok=$t")" = 200 ]
    [ "$(code_of /a -H "Cookie: tok=x; other=y" -H "Cookie: tok=x.y.z; tok=$t")" = 200 ]
    [ "$(code_of /a -H "Cookie: tok=x; tok=y")" = 401 ]
    local stale=""
    for _ in 1 2 3 4 5 6 7 8; do stale+="tok=x; "; done
    [ "$(code_of /a -H "Cookie: ${stale}tok=$t")" = 401 ]
}

@test "jwt: typ JWT, application/jwt and at+jwt (RFC 9068) are accepted, in any case" {
    start_ssed --jwt-secret-file "$KEYS/secret"
    local typ
    for typ in JWT jwt application/jwt at+jwt AT+JWT application/at+jwt; do
        [ "$(bearer_code "$(jwt_mint HS256 "$KEYS/secret" "$(claims '{"subscribe":["a"]}')" \
            "{\"alg\":\"HS256\",\"typ\":\"$typ\"}")" /a)" = 200 ] || { echo "typ $typ refused" >&2; return 1; }
    done
    [ "$(bearer_code "$(jwt_mint HS256 "$KEYS/secret" "$(claims '{"subscribe":["a"]}')" '{"alg":"HS256","typ":"at+jwt2"}')" /a)" = 401 ]
    [ "$(bearer_code "$(jwt_mint HS256 "$KEYS/secret" "$(claims '{"subscribe":["a"]}')" '{"alg":"HS256","typ":7}')" /a)" = 401 ]
}

@test "jwt: a fractional nbf is rounded up, so a token is never valid early" {
    # ssed is given the time (SSED_TEST_NOW) rather than raced: nbf is that
    # second + 0.999, valid only from the next second on
    local now
    now=$(date +%s)
    SSED_TEST_NOW=$now start_ssed --jwt-secret-file "$KEYS/secret" --jwt-leeway 0
    [ "$(bearer_code "$(jwt_mint HS256 "$KEYS/secret" "{\"nbf\":$now.999,\"exp\":$((now + 300)),\"ssed\":{\"subscribe\":[\"a\"]}}")" /a)" = 401 ]
    [ "$(bearer_code "$(jwt_mint HS256 "$KEYS/secret" "{\"nbf\":$((now - 1)).001,\"exp\":$((now + 300)),\"ssed\":{\"subscribe\":[\"a\"]}}")" /a)" = 200 ]
    [ "$(bearer_code "$(jwt_mint HS256 "$KEYS/secret" "{\"nbf\":$now,\"exp\":$((now + 300)),\"ssed\":{\"subscribe\":[\"a\"]}}")" /a)" = 200 ]
}

@test "jwt: without a token a missing and an existing private channel look the same, images and favicon too" {
    start_ssed --jwt-secret-file "$KEYS/secret" --token s3cret
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer s3cret" -d x "$URL/private/alice"
    [ "$output" = 200 ]
    local accept
    for accept in 'image/png' 'image/avif,image/webp,*/*' 'text/event-stream'; do
        [ "$(code_of /private/alice -H "Accept: $accept")" = 401 ]
        [ "$(code_of /private/bob -H "Accept: $accept")" = 401 ]
    done
    [ "$(code_of /favicon.ico)" = 401 ]
    # with a token allowing both, an image request still gets no stream of a missing channel
    local t
    t=$(jwt_mint HS256 "$KEYS/secret" "$(claims '{"subscribe":["private/*"]}')")
    [ "$(code_of /private/alice -H 'Accept: image/png' -H "Authorization: Bearer $t")" = 200 ]
    [ "$(code_of /private/bob -H 'Accept: image/png' -H "Authorization: Bearer $t")" = 404 ]
}

@test "jwt: --public channels need no token; the others still do" {
    start_ssed --jwt-secret-file "$KEYS/secret" --public 'news/*' --public status
    [ "$(code_of /news/today)" = 200 ]
    [ "$(code_of /status)" = 200 ]
    [ "$(code_of /news)" = 401 ]
    [ "$(code_of /orders/1)" = 401 ]
    [ "$(code_of '/?channels=status,news/x')" = 200 ]
    [ "$(code_of '/?channels=status,orders/1')" = 401 ]
    local t
    t=$(jwt_mint HS256 "$KEYS/secret" "$(claims '{"subscribe":["orders/*"]}')")
    [ "$(bearer_code "$t" '/?channels=status,orders/1')" = 200 ]
    subscribe s /news/today
    curl -s --max-time 5 -H "Authorization: Bearer $(jwt_mint HS256 "$KEYS/secret" "$(claims '{"publish":["news/**"]}')")" \
        -d hello "$URL/news/today" >/dev/null
    wait_for_data "$BATS_TEST_TMPDIR/s" 1
}

@test "jwt: publishing needs publish rights for the channel; --token still works; admin and --token see per-channel stats" {
    start_ssed --jwt-secret-file "$KEYS/secret" --token s3cret
    local pub admin sub
    pub=$(jwt_mint HS256 "$KEYS/secret" "$(claims '{"publish":["builds/**"]}')")
    admin=$(jwt_mint HS256 "$KEYS/secret" "$(claims '{"admin":true}')")
    sub=$(jwt_mint HS256 "$KEYS/secret" "$(claims '{"subscribe":["builds/**"]}')")
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $pub" -d x "$URL/builds/7"
    [ "$output" = 200 ]
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $pub" -d x "$URL/deploys/7"
    [ "$output" = 403 ]
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $sub" -d x "$URL/builds/7"
    [ "$output" = 403 ]
    # from this machine without a token: refused once JWT is on
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 -d x "$URL/builds/7"
    [ "$output" = 401 ]
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer s3cret" -d x "$URL/deploys/7"
    [ "$output" = 200 ]
    run "$SSEPUB" --url "$URL" --channel builds/8 --token "$pub" hello
    [ "$status" -eq 0 ]
    run "$SSEPUB" --url "$URL" --channel other --token "$pub" hello
    [ "$status" -ne 0 ]
    [[ "$output" == *403* ]]
    printf '%s\n' "$pub" >"$BATS_TEST_TMPDIR/pub.token"
    run "$SSEPUB" --url "$URL" --channel builds/9 --token-file "$BATS_TEST_TMPDIR/pub.token" hello
    [ "$status" -eq 0 ]
    run "$SSEPUB" --url "$URL" --channel builds/9 --token-file "$BATS_TEST_TMPDIR/pub.token" --token x hello
    [ "$status" -eq 2 ]
    # per-channel figures
    [ "$(curl -s --max-time 5 "$URL/_ssed/stats" | grep -c builds/7)" -eq 0 ]
    [ "$(curl -s --max-time 5 -H "Authorization: Bearer $sub" "$URL/_ssed/stats" | grep -c builds/7)" -eq 0 ]
    curl -s --max-time 5 -H "Authorization: Bearer $admin" "$URL/_ssed/stats" | grep -q builds/7
    curl -s --max-time 5 -H "Authorization: Bearer s3cret" "$URL/_ssed/stats" | grep -q builds/7
}

@test "jwt: a stream ends with ': token expired' at exp; a fresh token resumes by Last-Event-ID with nothing lost" {
    start_ssed --jwt-secret-file "$KEYS/secret" --jwt-leeway 0 --keepalive 0 --channel a
    local short fresh
    short=$(jwt_mint HS256 "$KEYS/secret" "{\"exp\":$(now_plus 8),\"ssed\":{\"subscribe\":[\"a\"]}}")
    curl -sN --max-time 30 -H "Authorization: Bearer $short" "$URL/a" >"$BATS_TEST_TMPDIR/s" 2>/dev/null &
    local curl_pid=$!
    echo "$curl_pid" >>"$BATS_TEST_TMPDIR/pids"
    wait_for_line "$BATS_TEST_TMPDIR/s" '^: ssed stream'
    echo one >&8
    wait_for_data "$BATS_TEST_TMPDIR/s" 1
    wait_for_line "$BATS_TEST_TMPDIR/s" '^: token expired' 10
    wait_for_exit "$curl_pid" 10
    # published while no one was connected
    echo two >&8
    echo three >&8
    local last
    last=$(grep '^id:' "$BATS_TEST_TMPDIR/s" | tail -1 | sed 's/^id: \{0,1\}//')
    [ -n "$last" ]
    [ "$(bearer_code "$short" /a)" = 401 ]
    fresh=$(jwt_mint HS256 "$KEYS/secret" "$(claims '{"subscribe":["a"]}')")
    subscribe r /a -H "Authorization: Bearer $fresh" -H "Last-Event-ID: $last"
    wait_for_data "$BATS_TEST_TMPDIR/r" 2
    [ "$(data_of "$BATS_TEST_TMPDIR/r")" = "$(printf 'two\nthree')" ]
    kill -0 "$SSED_PID"
}

@test "jwt: a subscriber that stopped reading is closed at exp, not left holding its connection" {
    start_ssed --jwt-secret-file "$KEYS/secret" --jwt-leeway 0 --keepalive 0 --channel a --max-pending 64M
    local short life=$((8 * SSETOOLS_WAIT_SCALE)) # the client must be streaming before it expires, on a loaded machine too
    short=$(jwt_mint HS256 "$KEYS/secret" "{\"exp\":$(now_plus "$life"),\"ssed\":{\"subscribe\":[\"a\"]}}")
    # connects, asks, and never reads
    start_bg "$BATS_TEST_TMPDIR/stuck.out" "$BATS_TEST_TMPDIR/stuck.err" python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(("GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n" % sys.argv[2]).encode())
time.sleep(600)' "$PORT" "$short"
    local i
    wait_for_stat subscribers -ge 1
    [ "$(stat_of subscribers)" -eq 1 ]
    head -c 8000000 /dev/zero | tr '\0' x | fold -w 1000 >&8
    # the token expires $life s after it was made; the client never goes away itself
    wait_for_stat subscribers -eq 0 $((8 + 10))
    kill -0 "$SSED_PID"
}

@test "jwt: npm eventsource with an Authorization header; ssecat with --bearer and --token-file" {
    start_ssed --jwt-secret-file "$KEYS/secret" --channel a
    local t
    t=$(jwt_mint HS256 "$KEYS/secret" "$(claims '{"subscribe":["a"]}')")
    ES_CLIENT_BEARER=$t start_bg "$BATS_TEST_TMPDIR/es.out" "$BATS_TEST_TMPDIR/es.err" \
        timeout 20 node "$TOP/tests/lib/es_client.mjs" "$URL/a" 1
    local es_pid=$BG_PID
    printf '%s\n' "$t" >"$BATS_TEST_TMPDIR/token"
    start_bg "$BATS_TEST_TMPDIR/cat1.out" "$BATS_TEST_TMPDIR/cat1.err" "$SSECAT" -n 1 --bearer "$t" "$URL/a"
    local cat1=$BG_PID
    start_bg "$BATS_TEST_TMPDIR/cat2.out" "$BATS_TEST_TMPDIR/cat2.err" "$SSECAT" -n 1 --token-file "$BATS_TEST_TMPDIR/token" "$URL/a"
    local cat2=$BG_PID
    local i
    for i in $(seq 1 $((100 * SSETOOLS_WAIT_SCALE))); do
        [ "$(curl -s --max-time 5 "$URL/_ssed/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["subscribers"])')" -ge 3 ] && break
        sleep 0.1
    done
    echo hello >&8
    wait_for_exit "$es_pid" 20
    [ "$EXIT_STATUS" -eq 0 ]
    grep -q '"data":"hello"' "$BATS_TEST_TMPDIR/es.out"
    wait_for_exit "$cat1" 10
    [ "$(cat "$BATS_TEST_TMPDIR/cat1.out")" = hello ]
    wait_for_exit "$cat2" 10
    [ "$(cat "$BATS_TEST_TMPDIR/cat2.out")" = hello ]
    run "$SSECAT" -n 1 --token-file "$BATS_TEST_TMPDIR/missing" "$URL/a"
    [ "$status" -eq 2 ]
    [[ "$output" == *"--token-file"*"No such file"* ]]
    # without a token ssecat is told why
    run "$SSECAT" -n 1 "$URL/a"
    [ "$status" -ne 0 ]
    [[ "$output" == *401* ]]
}

@test "jwt: --token-file given twice to ssecat or ssepub: the last one counts" {
    start_ssed --jwt-secret-file "$KEYS/secret" --channel a
    printf 'not-this-one\n' >"$BATS_TEST_TMPDIR/first"
    jwt_mint HS256 "$KEYS/secret" "$(claims '{"subscribe":["a"],"publish":["b"]}')" >"$BATS_TEST_TMPDIR/second"
    start_bg "$BATS_TEST_TMPDIR/cat.out" "$BATS_TEST_TMPDIR/cat.err" "$SSECAT" -n 1 \
        --token-file "$BATS_TEST_TMPDIR/first" --token-file "$BATS_TEST_TMPDIR/second" "$URL/a"
    local cat_pid=$BG_PID i
    for i in $(seq 1 $((100 * SSETOOLS_WAIT_SCALE))); do
        [ "$(stat_of subscribers)" -ge 1 ] && break
        kill -0 "$cat_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo hello >&8
    wait_for_exit "$cat_pid" 10
    cat "$BATS_TEST_TMPDIR/cat.err"
    [ "$EXIT_STATUS" -eq 0 ]
    [ "$(cat "$BATS_TEST_TMPDIR/cat.out")" = hello ]
    run "$SSEPUB" --url "$URL" --channel b --token-file "$BATS_TEST_TMPDIR/first" \
        --token-file "$BATS_TEST_TMPDIR/second" hello
    [ "$status" -eq 0 ]
}

@test "jwt: --cors with an explicit origin allows credentials; * does not" {
    start_ssed --cors https://app.example
    run curl -s -I --max-time 5 "$URL/a"
    [[ "$output" == *"Access-Control-Allow-Origin: https://app.example"* ]]
    [[ "$output" == *"Access-Control-Allow-Credentials: true"* ]]
    [[ "$output" == *"Vary: Origin"* ]]
    stop_all
    start_ssed --cors '*'
    run curl -s -I --max-time 5 "$URL/a"
    [[ "$output" == *"Access-Control-Allow-Origin: *"* ]]
    [[ "$output" != *"Allow-Credentials"* ]]
}

@test "jwt: bad settings are refused at start" {
    printf 'short\n' >"$BATS_TEST_TMPDIR/short"
    run "$SSED" --no-stdin -l 127.0.0.1:0 --jwt-secret-file "$BATS_TEST_TMPDIR/short"
    [ "$status" -eq 1 ]
    [[ "$output" == *"--jwt-secret-file"*"at least 32"* ]]
    run "$SSED" --no-stdin -l 127.0.0.1:0 --jwt-key-file "$KEYS/secret"
    [ "$status" -eq 1 ]
    [[ "$output" == *"--jwt-key-file"*"no PEM public key"* ]]
    run "$SSED" --no-stdin -l 127.0.0.1:0 --jwt-key-file "$BATS_TEST_TMPDIR/missing"
    [ "$status" -eq 1 ]
    [[ "$output" == *"No such file"* ]]
    run "$SSED" --no-stdin --public 'news/*'
    [ "$status" -eq 2 ]
    [[ "$output" == *"--public: needs --jwt-secret-file or --jwt-key-file"* ]]
    run "$SSED" --no-stdin --jwt-secret-file "$KEYS/secret" --public 'a*b'
    [ "$status" -eq 2 ]
}

@test "publish: a JSON body that is not JSON is refused with 400; valid JSON is one event" {
    start_ssed
    subscribe s /j
    run curl -s -w ' %{http_code}' --max-time 5 -H 'Content-Type: application/json' --data-binary '{not json' "$URL/j"
    [[ "$output" == *"the body is not JSON"*" 400" ]]
    run curl -s -w ' %{http_code}' --max-time 5 -H 'Content-Type: application/json' --data-binary '{"a":1,"a":2}' "$URL/j"
    [[ "$output" == *"400" ]]
    run curl -s -w ' %{http_code}' --max-time 5 -H 'Content-Type: application/json' --data-binary $'{"a":\n[1, 2]}' "$URL/j"
    [[ "$output" == *" 200" ]]
    # chunked, and with a charset parameter
    run curl -s -w ' %{http_code}' --max-time 5 -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json; charset=utf-8' \
        --data-binary '"just a string"' "$URL/j"
    [[ "$output" == *" 200" ]]
    printf '"\xff"' >"$BATS_TEST_TMPDIR/bad-utf8"
    run curl -s -w ' %{http_code}' --max-time 5 -H 'Content-Type: application/json' --data-binary @"$BATS_TEST_TMPDIR/bad-utf8" "$URL/j"
    [[ "$output" == *" 400" ]]
    wait_for_data "$BATS_TEST_TMPDIR/s" 2
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(printf '{"a":\n[1, 2]}\n"just a string"')" ]
}

@test "jwt in Chromium: cookie same-origin and cross-origin withCredentials, a denied channel, expiry and resume" {
    [ -x /usr/bin/chromium ] || skip "chromium is not installed (make deps)"
    [ -d "$TOP/tests/node_modules/playwright-core" ] || skip "playwright-core is not installed (make deps)"
    run env SSETOOLS_WAIT_SCALE="$SSETOOLS_WAIT_SCALE" timeout $((60 * SSETOOLS_WAIT_SCALE)) \
        node "$TOP/tests/browser/jwt_test.mjs" "$SSED" "$(free_port)" "$(free_port)"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"all checks passed"* ]]
}

@test "jwt: SIGHUP reads --jwt-secret-file again: tokens of the old secret are refused from then on, the new secret's accepted" {
    cp "$KEYS/secret" "$BATS_TEST_TMPDIR/secret"
    start_ssed --jwt-secret-file "$BATS_TEST_TMPDIR/secret"
    local old
    old=$(jwt_mint HS256 "$BATS_TEST_TMPDIR/secret" "$(claims '{"subscribe":["a"]}')")
    [ "$(bearer_code "$old" /a)" = 200 ]
    head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$BATS_TEST_TMPDIR/secret"
    kill -HUP "$SSED_PID"
    wait_for_line "$SSED_ERR" "SIGHUP: JWT keys reloaded from $BATS_TEST_TMPDIR/secret" 10
    [ "$(bearer_code "$old" /a)" = 401 ]
    [ "$(bearer_code "$(jwt_mint HS256 "$BATS_TEST_TMPDIR/secret" "$(claims '{"subscribe":["a"]}')")" /a)" = 200 ]
    # a key file that cannot be read keeps the keys in use
    rm "$BATS_TEST_TMPDIR/secret"
    kill -HUP "$SSED_PID"
    wait_for_line "$SSED_ERR" 'SIGHUP: keeping the JWT keys in use: .*secret' 10
    kill -0 "$SSED_PID"
}

# man ssed's worked example (TOKENS), as written there, made runnable: the
# binaries are this build's, the port a free one on 127.0.0.1, each command
# sent to the background is recorded to be stopped, and each waits for the
# one before it to be ready, as a person typing it would. A command the
# example leaves in the foreground (a subscriber) ends by timeout.
man_jwt_example() {
    local blocks="$BATS_TEST_TMPDIR/blocks" n
    mkdir -p "$blocks"
    python3 "$TOP/tests/lib/doc_blocks.py" --containing 'jwt.secret' --out "$blocks" "$TOP/man/ssed.1" >/dev/null
    for n in "$blocks"/[0-9]*; do
        [[ "$n" == *.from ]] && continue
        grep -q -- '--jwt-secret-file jwt.secret' "$n" && { cat "$n"; return 0; }
    done
    echo "no worked example serving jwt.secret in man/ssed.1" >&2
    return 1
}

@test "jwt: man ssed's worked example runs as written: its subscriber gets what its publisher sends" {
    port=$(free_port)
    man_jwt_example >"$BATS_TEST_TMPDIR/example"
    python3 - "$BATS_TEST_TMPDIR/example" "$port" >"$BATS_TEST_TMPDIR/example.sh" <<'PY'
import re, sys
text, port = open(sys.argv[1]).read(), sys.argv[2]
text = text.replace("127.0.0.1:8080", "127.0.0.1:" + port).replace("--listen :8080", "--listen 127.0.0.1:" + port)
out, cmd = ["set -eu"], []
for line in text.splitlines():
    cmd.append(line)
    if line.rstrip().endswith("\\"):
        continue
    whole = "\n".join(cmd)
    cmd = []
    word = whole.strip().split(" ", 1)[0]
    if word in ("ssed", "ssecat"):
        whole = whole.replace(word, '"$%s"' % word.upper(), 1)
    if whole.rstrip().endswith("&"):
        whole += ' echo $! >>"$PIDS"'
    out.append(whole)
    if word == "ssed":
        out.append("wait_up")
    elif word == "ssecat":
        out.append("wait_subscribed")
print("\n".join(out))
PY
    cat "$BATS_TEST_TMPDIR/example.sh"
    wait_up() {
        for i in $(seq 1 $((100 * SSETOOLS_WAIT_SCALE))); do
            curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/_ssed/health" && return 0
            sleep 0.1
        done
        return 1
    }
    wait_subscribed() {
        URL="http://127.0.0.1:$port" wait_for_stat subscribers -eq 1
    }
    export -f wait_up wait_subscribed wait_for_stat stat_of
    mkdir -p "$BATS_TEST_TMPDIR/run"
    # the example writes jwt.secret where it runs
    (cd "$BATS_TEST_TMPDIR/run" && PIDS="$BATS_TEST_TMPDIR/pids" SSED="$SSED" SSECAT="$SSECAT" port=$port \
        SSETOOLS_WAIT_SCALE=$SSETOOLS_WAIT_SCALE timeout $((30 * SSETOOLS_WAIT_SCALE)) bash "$BATS_TEST_TMPDIR/example.sh" \
        >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- 8>&- 9>&-)
    cat "$BATS_TEST_TMPDIR/err"
    # its publisher was accepted, and its subscriber got the event
    grep -q '"accepted":1' "$BATS_TEST_TMPDIR/out"
    wait_for_line "$BATS_TEST_TMPDIR/out" '^order 42 shipped$' 10
}
