#!/usr/bin/env bats
# ssecat on captured streams (`ssecat -`, --input FILE): every output format
# and each parsing rule of the spec reaching the output, usage errors, and
# the selecting and stopping options that need no server.

bats_require_minimum_version 1.5.0
load lib/helpers
load lib/ssecat_helpers

setup() {
    [ -x "$SSECAT" ] || skip "ssecat is not built"
    IN="$BATS_TEST_TMPDIR/in.sse"
    OUT="$BATS_TEST_TMPDIR/out"
}

# feed BYTES [ARGS...]: printf BYTES into `ssecat - ARGS`, output in $OUT.
feed() {
    local bytes=$1
    shift
    printf "$bytes" >"$IN"
    timeout 10 "$SSECAT" - "$@" <"$IN" >"$OUT"
}

@test "data: each event's data and a newline; multi-line data prints its lines" {
    feed 'data: one\n\ndata: two\ndata: lines\n\n' -o data
    [ "$(cat "$OUT")" = "$(printf 'one\ntwo\nlines')" ]
}

@test "data is the default on a pipe" {
    feed 'data: plain\n\n'
    [ "$(cat "$OUT")" = "plain" ]
}

@test "json: one object per event with type, id, data and an RFC 3339 time" {
    feed 'event: up\nid: 7\ndata: {"x":"y"}\n\ndata: two\n\n' -o json
    json_lines_valid "$OUT"
    run events_of "$OUT"
    [ "${lines[0]}" = '{"data": "{\"x\":\"y\"}", "id": "7", "type": "up"}' ]
    [ "${lines[1]}" = '{"data": "two", "id": "7", "type": "message"}' ]
    grep -qE '"time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z"' "$OUT"
}

@test "json: non-UTF-8 input becomes U+FFFD and control characters are escaped" {
    feed 'data: bad \xff\xfe end\nevent: t\xc3\n\ndata: tab\there\x01\n\n' -o json
    json_lines_valid "$OUT"
    run events_of "$OUT"
    [ "${lines[0]}" = '{"data": "bad �� end", "id": "", "type": "t�"}' ]
    [ "${lines[1]}" = '{"data": "tab\there\u0001", "id": "", "type": "message"}' ]
}

@test "json: comments and retry values with --comments, not without" {
    feed ': keep-alive\nretry: 1500\ndata: x\n\n' -o json --comments
    json_lines_valid "$OUT"
    run events_of "$OUT"
    [ "${lines[0]}" = '{"comment": "keep-alive"}' ]
    [ "${lines[1]}" = '{"retry": 1500}' ]
    [ "${lines[2]}" = '{"data": "x", "id": "", "type": "message"}' ]
    feed ': keep-alive\nretry: 1500\ndata: x\n\n' -o json
    [ "$(wc -l <"$OUT")" -eq 1 ]
}

@test "sse: the re-encoded stream parses back to the same events" {
    feed '\xef\xbb\xbfid: 1\nevent: a\ndata: x\r\ndata: y\r\rid\n\ndata: after reset\n\nid: 9\n\ndata: z\n\n' -o sse
    "$SSECAT" - -o json <"$OUT" >"$OUT.again"
    "$SSECAT" - -o json <"$IN" >"$OUT.orig"
    [ "$(events_of "$OUT.again")" = "$(events_of "$OUT.orig")" ]
    [ "$(events_of "$OUT.orig" | wc -l)" -eq 3 ]
    # a clean stream: LF line ends, no BOM, no CR
    [ "$(grep -c $'\r' "$OUT")" -eq 0 ]
    [ "$(head -c 6 "$OUT")" = "event:" ]
}

@test "sse: comments and retry are relayed with --comments" {
    feed ': ping\nretry: 42\ndata: x\n\n' -o sse --comments
    [ "$(cat "$OUT")" = "$(printf ': ping\nretry: 42\ndata: x')" ]
}

@test "pretty: type, id and data laid out, no colour on a pipe" {
    feed 'event: up\nid: 3\ndata: a\ndata: b\n\n' -o pretty
    [ "$(cat "$OUT")" = "$(printf 'up  id: 3\n  a\n  b')" ]
}

@test "pretty: --pretty-json indents JSON data and leaves other data alone" {
    feed 'data: {"a":[1,{"b":null}]}\n\ndata: {not json\n\n' -o pretty --pretty-json
    [ "$(cat "$OUT")" = "$(printf 'message\n  {\n    "a": [\n      1,\n      {\n        "b": null\n      }\n    ]\n  }\nmessage\n  {not json')" ]
}

@test "pretty: terminal control bytes from the stream are shown, not obeyed" {
    feed 'data: \x1b[31mred\x07\n\n' -o pretty
    [ "$(cat "$OUT")" = "$(printf 'message\n  ^[[31mred^G')" ]
}

# on_tty CMD...: run CMD with stdout on a pseudo-terminal.
on_tty() {
    python3 -c 'import os, pty, sys; os.environ.update(dict(a.split("=",1) for a in sys.argv[1:2] if "=" in a)); pty.spawn(sys.argv[2:])' "$@"
}

@test "pretty is the default on a terminal, in colour unless NO_COLOR or --no-color" {
    printf 'id: 1\ndata: hi\n\n' >"$IN"
    run -0 timeout 10 env -u NO_COLOR python3 -c 'import pty, sys; pty.spawn(sys.argv[1:])' "$SSECAT" --input "$IN"
    [[ "$output" == *$'\e[1;36mmessage\e[0m'* ]]
    run -0 timeout 10 env NO_COLOR=1 python3 -c 'import pty, sys; pty.spawn(sys.argv[1:])' "$SSECAT" --input "$IN"
    [[ "$output" == *"message  id: 1"* ]]
    [[ "$output" != *$'\e['* ]]
    run -0 timeout 10 env -u NO_COLOR python3 -c 'import pty, sys; pty.spawn(sys.argv[1:])' "$SSECAT" --input "$IN" --no-color
    [[ "$output" == *"message  id: 1"* ]]
    [[ "$output" != *$'\e['* ]]
}

@test "-F: placeholders for type, data, id, time and escapes" {
    feed 'event: e\nid: 5\ndata: d\n\n' -F '%t|%i|%d|%%|\t|%j\n'
    [ "$(cut -d'|' -f1-5 "$OUT")" = "$(printf 'e|5|d|%%|\t')" ]
    cut -d'|' -f6 "$OUT" | python3 -c 'import json,sys; o=json.load(sys.stdin); assert o["data"]=="d" and o["id"]=="5", o'
    feed 'data: d\n\n' -F '%I %U\n'
    grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z [0-9]+\.[0-9]{3}$' "$OUT"
}

@test "--timestamps adds the receive time" {
    feed 'data: d\n\n' -o data --timestamps
    grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z d$' "$OUT"
}

@test "spec: BOM skipped once; LF, CR and CRLF line ends" {
    feed '\xef\xbb\xbfdata: a\r\n\r\ndata: b\r\rdata: c\n\n\xef\xbb\xbfdata: d\n\n' -o json
    run events_of "$OUT"
    [ "${#lines[@]}" -eq 3 ]
    [ "${lines[0]}" = '{"data": "a", "id": "", "type": "message"}' ]
    [ "${lines[1]}" = '{"data": "b", "id": "", "type": "message"}' ]
    [ "${lines[2]}" = '{"data": "c", "id": "", "type": "message"}' ]
}

@test "spec: comments hidden by default, shown with --comments (one leading space removed)" {
    feed ':no space\n:  two spaces\ndata: x\n\n' -o data
    [ "$(cat "$OUT")" = "x" ]
    feed ':no space\n:  two spaces\ndata: x\n\n' -o json --comments
    run events_of "$OUT"
    [ "${lines[0]}" = '{"comment": "no space"}' ]
    [ "${lines[1]}" = '{"comment": " two spaces"}' ]
}

@test "spec: an id with NUL is ignored; an empty id resets the last event ID" {
    feed 'id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\nid\ndata: c\n\nid: 4\ndata: d\n\ndata: e\n\n' -o json
    run events_of "$OUT"
    [ "${lines[0]}" = '{"data": "a", "id": "1", "type": "message"}' ]
    [ "${lines[1]}" = '{"data": "b", "id": "1", "type": "message"}' ]
    [ "${lines[2]}" = '{"data": "c", "id": "", "type": "message"}' ]
    [ "${lines[3]}" = '{"data": "d", "id": "4", "type": "message"}' ]
    [ "${lines[4]}" = '{"data": "e", "id": "4", "type": "message"}' ]
}

@test "spec: retry values only when all digits; default type; field without colon" {
    feed 'retry: 10\nretry: 1x\nretry:\nretry: 20\ndata\n\n' -o json --comments
    run events_of "$OUT"
    [ "${#lines[@]}" -eq 3 ]
    [ "${lines[0]}" = '{"retry": 10}' ]
    [ "${lines[1]}" = '{"retry": 20}' ]
    [ "${lines[2]}" = '{"data": "", "id": "", "type": "message"}' ]
}

@test "spec: an event with no data is not dispatched; the incomplete last event is dropped" {
    feed 'event: nodata\n\nid: 3\n\ndata: kept\n\ndata: incomplete' -o json
    run events_of "$OUT"
    [ "${#lines[@]}" -eq 1 ]
    [ "${lines[0]}" = '{"data": "kept", "id": "3", "type": "message"}' ]
}

@test "spec: an empty event type means message; unknown fields are ignored" {
    feed 'event:\nfoo: bar\ndata: x\n\n' -o json
    run events_of "$OUT"
    [ "${lines[0]}" = '{"data": "x", "id": "", "type": "message"}' ]
}

@test "ssecat - reads a captured stream from a file given as stdin and as --input" {
    printf 'id: 1\ndata: a\n\nevent: b\ndata: c\n\n' >"$IN"
    run -0 "$SSECAT" -o data - <"$IN"
    [ "$output" = "$(printf 'a\nc')" ]
    run -0 "$SSECAT" -o data --input "$IN"
    [ "$output" = "$(printf 'a\nc')" ]
    run -0 bash -c "cat '$IN' | '$SSECAT' - -o data"
    [ "$output" = "$(printf 'a\nc')" ]
}

@test "-e, -n and --until select and stop" {
    printf 'event: a\ndata: 1\n\nevent: b\ndata: 2\n\nevent: a\ndata: 3\n\ndata: [DONE]\n\ndata: after\n\n' >"$IN"
    run -0 "$SSECAT" - -o data -e a <"$IN"
    [ "$output" = "$(printf '1\n3')" ]
    run -0 "$SSECAT" - -o data -e a -e message <"$IN"
    [ "$output" = "$(printf '1\n3\n[DONE]\nafter')" ]
    run -0 "$SSECAT" - -o data -n 2 <"$IN"
    [ "$output" = "$(printf '1\n2')" ]
    run -0 "$SSECAT" - -o data --until '[DONE]' <"$IN"
    [ "$output" = "$(printf '1\n2\n3')" ]
    run -0 "$SSECAT" - -o data --until '[DONE]' --until-inclusive <"$IN"
    [ "$output" = "$(printf '1\n2\n3\n[DONE]')" ]
}

@test "oversized events are dropped with a warning, and parsing goes on" {
    printf 'data: %0200d\n\ndata: small\n\n' 0 >"$IN"
    run --separate-stderr -0 "$SSECAT" - -o data --max-event-size 100 <"$IN"
    [ "$output" = "small" ]
    [[ "$stderr" == "ssecat: warning: dropped an event of "*"--max-event-size"* ]]
    run --separate-stderr -0 "$SSECAT" - -o data -s --max-event-size 100 <"$IN"
    [ -z "$stderr" ]
}

@test "a reader that goes away ends ssecat quietly" {
    for i in $(seq 1 20000); do printf 'data: %d\n\n' "$i"; done >"$IN"
    run --separate-stderr bash -c "set -o pipefail; '$SSECAT' - -o data <'$IN' | head -n 1"
    [ "$status" -eq 0 ]
    [ "$output" = "1" ]
    [ -z "$stderr" ]
}

@test "a missing input file is a runtime error (1)" {
    run --separate-stderr -1 "$SSECAT" --input /nonexistent/x.sse
    [ "$stderr" = "ssecat: /nonexistent/x.sse: No such file or directory" ]
}

@test "usage errors exit 2 with a message naming the option" {
    run --separate-stderr -2 "$SSECAT"
    [[ "$stderr" == "ssecat: no URL given"* ]]
    run --separate-stderr -2 "$SSECAT" --max-time soon http://127.0.0.1:1/
    [[ "$stderr" == "ssecat: -m/--max-time: invalid duration 'soon'"* ]]
    run --separate-stderr -2 "$SSECAT" -o yaml -
    [[ "$stderr" == "ssecat: -o/--output: unknown format 'yaml'"* ]]
    run --separate-stderr -2 "$SSECAT" -o json -F '%d' -
    [[ "$stderr" == *"cannot be used together"* ]]
    run --separate-stderr -2 "$SSECAT" -F '%z' -
    [[ "$stderr" == *"unknown placeholder '%z'"* ]]
    run --separate-stderr -2 "$SSECAT" --no-such-option -
    [[ "$stderr" == "ssecat: --no-such-option: unknown option"* ]]
    run --separate-stderr -2 "$SSECAT" -H 'no colon' http://127.0.0.1:1/
    [[ "$stderr" == "ssecat: -H/--header: invalid header 'no colon'"* ]]
    run --separate-stderr -2 "$SSECAT" ftp://example.invalid/
    [[ "$stderr" == "ssecat: unsupported URL"* ]]
    run --separate-stderr -2 "$SSECAT" -n 0 -
    run --separate-stderr -2 "$SSECAT" --cacert /nonexistent/ca.pem http://127.0.0.1:1/
    [[ "$stderr" == "ssecat: --cacert: /nonexistent/ca.pem: No such file or directory"* ]]
    run --separate-stderr -2 "$SSECAT" a b
    run --separate-stderr -2 "$SSECAT" --connect-timeout 5x http://127.0.0.1:1/
    [[ "$stderr" == "ssecat: --connect-timeout: invalid duration '5x'"* ]]
    run --separate-stderr -2 "$SSECAT" --max-time
    [[ "$stderr" == "ssecat: --max-time: option needs a value"* ]]
}

@test "--help lists the exit statuses; --version names the version" {
    run -0 "$SSECAT" --help
    [[ "$output" == *"Usage: ssecat"* ]]
    [[ "$output" == *"3 HTTP"* && "$output" == *"4 connection failure"* && "$output" == *"5 timeout"* ]]
    run -0 "$SSECAT" --version
    [[ "$output" == "ssecat "[0-9]* ]]
}
