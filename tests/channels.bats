#!/usr/bin/env bats
# Which channel an event came from on a /?channels= stream: ssed names it in
# a comment before the event (": ssed-channel /NAME"), which every
# EventSource ignores, and ssecat shows it in its json and pretty formats.

load lib/helpers
load lib/ssecat_helpers
bats_require_minimum_version 1.5.0

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
}

# events_of FILE: "DATA CHANNEL" for each event of ssecat -o json output,
# "-" for an event with no channel.
events_of() {
    python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    if "type" in o:
        print(o["data"], o.get("channel", "-"))
' "$1"
}

# ssecat_on NAME PATH [OPTIONS...]: ssecat --comments writing to
# $BATS_TEST_TMPDIR/NAME; returns once ssed's first comment arrived.
ssecat_on() {
    local name=$1 path=$2
    shift 2
    start_bg "$BATS_TEST_TMPDIR/$name" "$BATS_TEST_TMPDIR/$name.err" "$SSECAT" --comments "$@" "$URL$path"
    wait_for_line "$BATS_TEST_TMPDIR/$name" 'ssed stream' 10
}

@test "channels: ssecat -o json and -o pretty show each event's channel on a ?channels= stream" {
    start_ssed
    ssecat_on json "/?channels=a,b,/" -o json
    ssecat_on pretty "/?channels=a,b,/" -o pretty
    ssecat_on one /a -o json
    curl -s --max-time 5 -d a1 "$URL/a" >/dev/null
    curl -s --max-time 5 -d b1 "$URL/b?event=up" >/dev/null
    curl -s --max-time 5 -d r1 "$URL/" >/dev/null
    curl -s --max-time 5 -d a2 "$URL/a" >/dev/null
    wait_for_line "$BATS_TEST_TMPDIR/json" '"data":"a2"'
    wait_for_line "$BATS_TEST_TMPDIR/pretty" '^  a2$'
    wait_for_line "$BATS_TEST_TMPDIR/one" '"data":"a2"'
    [ "$(events_of "$BATS_TEST_TMPDIR/json")" = "$(printf 'a1 /a\nb1 /b\nr1 /\na2 /a')" ]
    grep -qE '^\{"type":"up","id":"[0-9]+","data":"b1","channel":"/b","time":' "$BATS_TEST_TMPDIR/json"
    # --comments still shows the comment itself
    grep -qF '{"comment":"ssed-channel /b",' "$BATS_TEST_TMPDIR/json"
    grep -qxE 'up  channel: /b  id: [0-9]+' "$BATS_TEST_TMPDIR/pretty"
    grep -qxE 'message  channel: /  id: [0-9]+' "$BATS_TEST_TMPDIR/pretty"
    # one channel: ssed names none, ssecat shows none
    [ "$(events_of "$BATS_TEST_TMPDIR/one")" = "$(printf 'a1 -\na2 -')" ]
    ! grep -q 'ssed-channel' "$BATS_TEST_TMPDIR/one"
}

@test "channels: ssed names the channel in a comment only on streams of several channels, never in envelopes or its own notices" {
    start_ssed
    subscribe both "/?channels=a,b"
    subscribe one /a
    subscribe env "/?channels=a,b&envelope=1"
    curl -s --max-time 5 -d a1 "$URL/a" >/dev/null
    curl -s --max-time 5 -d b1 "$URL/b?event=up" >/dev/null
    wait_for_data "$BATS_TEST_TMPDIR/both" 2
    wait_for_data "$BATS_TEST_TMPDIR/one" 1
    wait_for_data "$BATS_TEST_TMPDIR/env" 2
    # a comment, so the event's own lines (type, id, data) are untouched
    [ "$(grep -v -e '^id: ' -e '^$' "$BATS_TEST_TMPDIR/both")" = "$(printf '%s\n' ': ssed stream /a +1 more' \
        ': ssed-channel /a' 'data: a1' ': ssed-channel /b' 'event: up' 'data: b1')" ]
    grep -A1 -x ': ssed-channel /a' "$BATS_TEST_TMPDIR/both" | grep -qE '^id: [0-9]+$'
    [ "$(grep -c 'ssed-channel' "$BATS_TEST_TMPDIR/one")" -eq 0 ]
    # an envelope names the channel inside it
    [ "$(grep -c 'ssed-channel' "$BATS_TEST_TMPDIR/env")" -eq 0 ]
    grep -qF 'data: {"type":"up","data":"b1","channel":"/b"}' "$BATS_TEST_TMPDIR/env"
    # ssed's gap notices (one per channel that lost events, naming it in its
    # data) come from no channel: untagged; history replayed is tagged
    subscribe again "/?channels=b,a" -H 'Last-Event-ID: unknown'
    wait_for_data "$BATS_TEST_TMPDIR/again" 4
    [ "$(grep -v -e '^id: ' -e '^data: {' -e '^$' "$BATS_TEST_TMPDIR/again")" = "$(printf '%s\n' \
        ': ssed stream /b +1 more' 'event: ssed-gap' 'event: ssed-gap' ': ssed-channel /a' 'data: a1' \
        ': ssed-channel /b' 'event: up' 'data: b1')" ]
    [ "$(grep -oE '"channel":"/[ab]"}$' "$BATS_TEST_TMPDIR/again" | tr '\n' ' ')" = '"channel":"/b"} "channel":"/a"} ' ]
}

@test "channels: ssecat keeps a named channel for the next event only; data and sse formats unchanged" {
    stream=$': ssed-channel /a\ndata: 1\n\ndata: 2\n\n: ssed-channel /b\nevent: skip\ndata: 3\n\ndata: 4\n\n'
    stream+=$': ssed-channel /\n: ssed-channelled\ndata: 5\n\n: ssed-channel /cut\ndata: 6'
    run bash -c 'printf "%s" "$1" | "$2" -o json - | python3 -c "
import json, sys
for line in sys.stdin:
    o = json.loads(line)
    print(o[\"data\"], o.get(\"channel\", \"-\"))
"' _ "$stream" "$SSECAT"
    [ "$status" -eq 0 ]
    [ "$output" = "$(printf '1 /a\n2 -\n3 /b\n4 -\n5 /')" ]
    # -e: the channel of an event not shown does not pass to the next one
    run bash -c 'printf "%s" "$1" | "$2" -o json -e message - | grep -c channel' _ "$stream" "$SSECAT"
    [ "$output" = 2 ]
    run bash -c 'printf "%s" "$1" | "$2" -o data -' _ "$stream" "$SSECAT"
    [ "$output" = "$(printf '1\n2\n3\n4\n5')" ]
    run bash -c 'printf "%s" "$1" | "$2" -o sse -' _ "$stream" "$SSECAT"
    [[ "$output" != *channel* ]]
}

@test "channels: a channel named just before a stream ends does not pass to the next stream" {
    start_sse_server '[{"chunks":["retry: 0\n\ndata: x\n\n: ssed-channel /a\n"]},{"chunks":["data: y\n\n"],"hold":20}]'
    run --separate-stderr -0 timeout 10 "$SSECAT" -o json -n 2 "$URL"
    [[ "${lines[0]}" == '{"type":"message","id":"","data":"x","time":'* ]]
    [[ "${lines[1]}" == '{"type":"message","id":"","data":"y","time":'* ]]
}
