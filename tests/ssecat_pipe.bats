#!/usr/bin/env bats
# ssecat as one stage of a pipeline: --until's terminator kept out of the
# data (so `| jq` reads every line), -o json exact for data dense in what
# must be escaped, -N accepted as curl users type it, and the "did you
# mean" answers to options users bring from curl, mosquitto and websocketd
# (the hint tables are one mechanism in common/cli, so ssepub's and ssed's
# are checked here too).

bats_require_minimum_version 1.5.0
load lib/helpers

setup() {
    [ -x "$SSECAT" ] || skip "ssecat is not built"
    IN="$BATS_TEST_TMPDIR/in.sse"
    printf 'data: {"n":1}\n\nevent: note\ndata: {"n":2}\n\ndata: [DONE]\n\ndata: {"n":3}\n\n' >"$IN"
}

@test "--until: the terminator ends the stream and is not printed, so | jq reads every line" {
    command -v jq >/dev/null || skip "jq is not installed"
    run -0 bash -c "'$SSECAT' - -o data --until '[DONE]' <'$IN' | jq -c .n"
    [ "$output" = "$(printf '1\n2')" ]
}

@test "--until: not printed in the json and sse formats either" {
    run -0 "$SSECAT" - -o json --until '[DONE]' <"$IN"
    [ "${#lines[@]}" -eq 2 ]
    [[ "$output" != *DONE* ]]
    run -0 "$SSECAT" - -o sse --until '[DONE]' <"$IN"
    [ "$output" = "$(printf 'data: {"n":1}\n\nevent: note\ndata: {"n":2}')" ]
}

@test "--until-inclusive prints the terminator too, and then stops" {
    run -0 "$SSECAT" - -o data --until '[DONE]' --until-inclusive <"$IN"
    [ "$output" = "$(printf '{"n":1}\n{"n":2}\n[DONE]')" ]
}

@test "--until-inclusive without --until is a usage error" {
    run --separate-stderr -2 "$SSECAT" - --until-inclusive <"$IN"
    [ "$stderr" = "$(printf "ssecat: --until-inclusive: needs --until\nTry 'ssecat --help' for more information.")" ]
}

@test "--until with -n: whichever comes first, and the terminator is not printed" {
    run -0 "$SSECAT" - -o data --until '[DONE]' -n 3 <"$IN"
    [ "$output" = "$(printf '{"n":1}\n{"n":2}')" ]
}

@test "-N/--no-buffer is accepted (curl's habit) and changes nothing" {
    run -0 "$SSECAT" - -o data <"$IN"
    local plain=$output
    run -0 "$SSECAT" -N - -o data <"$IN"
    [ "$output" = "$plain" ]
    run -0 "$SSECAT" --no-buffer - -o data <"$IN"
    [ "$output" = "$plain" ]
}

@test "-o json: data dense in quotes, backslashes, controls and C1 controls comes back exactly through jq" {
    command -v jq >/dev/null || skip "jq is not installed"
    python3 - "$IN" "$BATS_TEST_TMPDIR/want" <<'PY'
import random, sys
rng = random.Random(7)
pieces = ['"', '\\', '\t', '\x01', '\x1f', '\x7f', 'a', 'bcdefgh', ' ', '\u0085', '\u00e9', '\u20ac', '{"k":"v"}']
events = [''.join(rng.choice(pieces) for _ in range(rng.randrange(0, 60))) for _ in range(300)]
with open(sys.argv[1], 'w', encoding='utf-8', newline='') as f:
    f.write(''.join('data: %s\n\n' % e for e in events))
with open(sys.argv[2], 'w', encoding='utf-8', newline='') as f:
    f.write(''.join('%s\n' % e for e in events))
PY
    "$SSECAT" - -o json <"$IN" >"$BATS_TEST_TMPDIR/out"
    [ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 300 ]
    jq -j '.data + "\n"' <"$BATS_TEST_TMPDIR/out" >"$BATS_TEST_TMPDIR/got"
    cmp "$BATS_TEST_TMPDIR/got" "$BATS_TEST_TMPDIR/want"
    ! LC_ALL=C grep -q $'\xc2[\x80-\x9f]' "$BATS_TEST_TMPDIR/out" # C1 controls only as \u0080..
}

@test "-o json: every event of one read has a well-formed time" {
    "$SSECAT" - -o json <"$IN" >"$BATS_TEST_TMPDIR/out"
    run -0 grep -cE '"time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z"\}$' "$BATS_TEST_TMPDIR/out"
    [ "$output" = 4 ]
}

# usage_error TOOL ARGS...: run TOOL with ARGS; it must exit 2 and $first
# is its first line on stderr.
usage_error() {
    local tool=$1
    shift
    run --separate-stderr -2 "$SSETOOLS_BUILD/$tool" "$@"
    first=${stderr%%$'\n'*}
}

@test "typos get a did-you-mean by edit distance, in all three tools" {
    usage_error ssecat --outptu json http://127.0.0.1:9/
    [ "$first" = "ssecat: --outptu: unknown option (did you mean -o/--output?)" ]
    usage_error ssecat --ssl http://127.0.0.1:9/
    [ "$first" = "ssecat: --ssl: unknown option (TLS comes with an https:// URL)" ]
    usage_error ssepub --chanel a hello
    [ "$first" = "ssepub: --chanel: unknown option (did you mean -c/--channel?)" ]
    usage_error ssecat --no-such-option http://127.0.0.1:9/
    [ "$first" = "ssecat: --no-such-option: unknown option" ]
    [ -x "$SSED" ] || skip "ssed is not built"
    usage_error ssed --listn 127.0.0.1:0
    [ "$first" = "ssed: --listn: unknown option (did you mean -l/--listen?)" ]
    usage_error ssed --tls-certs cert.pem
    [ "$first" = "ssed: --tls-certs: unknown option (did you mean --tls-cert?)" ]
    usage_error ssed --ssl
    [ "$first" = "ssed: --ssl: unknown option (did you mean --tls-cert?)" ]
}

@test "ssecat: mosquitto_sub's and curl's options get a did-you-mean" {
    usage_error ssecat -C 5 http://127.0.0.1:9/
    [ "$first" = "ssecat: -C: unknown option (did you mean -n/--count?)" ]
    usage_error ssecat -W 10 http://127.0.0.1:9/
    [ "$first" = "ssecat: -W: unknown option (did you mean -m/--max-time?)" ]
    usage_error ssecat -L http://127.0.0.1:9/
    [ "$first" = "ssecat: -L: unknown option (ssecat follows redirects already)" ]
    usage_error ssecat --write-out=%{http_code} http://127.0.0.1:9/
    [ "$first" = "ssecat: --write-out: unknown option (did you mean -F/--format-string?)" ]
    usage_error ssecat -kC5 http://127.0.0.1:9/
    [ "$first" = "ssecat: -C: unknown option (did you mean -n/--count?)" ]
    usage_error ssecat -Z http://127.0.0.1:9/
    [ "$first" = "ssecat: -Z: unknown option" ]
}

@test "ssepub: mosquitto_pub's options get a did-you-mean" {
    [ -x "$SSEPUB" ] || skip "ssepub is not built"
    usage_error ssepub -t news hello
    [ "$first" = "ssepub: -t: unknown option (did you mean -c/--channel?)" ]
    usage_error ssepub -m hello
    [ "$first" = "ssepub: -m: unknown option (the message is the operands: ssepub [OPTIONS] MESSAGE...)" ]
    usage_error ssepub -L http://127.0.0.1:9/news hello
    [ "$first" = "ssepub: -L: unknown option (did you mean --url?)" ]
}

@test "ssed: websocketd's options get a did-you-mean" {
    [ -x "$SSED" ] || skip "ssed is not built"
    usage_error ssed --port=8080
    [ "$first" = "ssed: --port: unknown option (did you mean -l/--listen?)" ]
    usage_error ssed --address 127.0.0.1
    [ "$first" = "ssed: --address: unknown option (did you mean -l/--listen?)" ]
    usage_error ssed -p 8080
    [ "$first" = "ssed: -p: unknown option (did you mean -l/--listen?)" ]
}
