#!/usr/bin/env bats
# History and reconnection edge cases, against the real ssed: resumes across
# several channels, numeric and odd ids, replay larger than --max-pending,
# and size limits that are exact.

load lib/helpers

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
}

# publish CHANNEL ID DATA
publish() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "SSE-Id: $2" --data-binary "$3" "$URL/$1")" = 200 ]
}

# resume NAME PATH LAST_EVENT_ID: the raw stream after resuming, read for a
# moment (history is written at once).
resume() {
    curl -sN --max-time 2 -H "Last-Event-ID: $3" "$URL$2" >"$BATS_TEST_TMPDIR/$1" 2>/dev/null || true
}

@test "history: a multi-channel resume reports a gap when one channel evicted what followed the id" {
    start_ssed --history 2
    publish a a1 a1
    publish b b1 b1
    publish b b2 b2
    publish b b3 b3
    resume r '/?channels=a,b' a1
    cat "$BATS_TEST_TMPDIR/r"
    grep -q '^event: ssed-gap' "$BATS_TEST_TMPDIR/r"
    [ "$(data_of "$BATS_TEST_TMPDIR/r" | grep -v last_event_id)" = "$(printf 'b2\nb3')" ]
}

# gaps_of FILE: the data of each ssed-gap notice in a raw stream, one per line.
gaps_of() {
    grep -A2 -x 'event: ssed-gap' "$1" | sed -n 's/^data: //p'
}

@test "history: a multi-channel resume is told which channel lost events, with its ids, in either order" {
    start_ssed --history 2
    publish a a1 a1
    publish b b1 b1
    publish b b2 b2
    publish b b3 b3
    # a lost nothing after a1, b lost b1: one notice, naming b and b's first event
    subscribe ab '/?channels=a,b' -H 'Last-Event-ID: a1'
    subscribe ba '/?channels=b,a' -H 'Last-Event-ID: a1'
    for s in ab ba; do
        wait_for_line "$BATS_TEST_TMPDIR/$s" '^data: b3$'
        cat "$BATS_TEST_TMPDIR/$s"
        [ "$(gaps_of "$BATS_TEST_TMPDIR/$s")" = '{"last_event_id":"a1","oldest_retained_id":"b2","channel":"/b"}' ]
        [ "$(data_of "$BATS_TEST_TMPDIR/$s" | grep -v last_event_id)" = "$(printf 'b2\nb3')" ]
    done
    # one channel: the notice keeps its documented form, with no channel
    subscribe one /b -H 'Last-Event-ID: a1'
    wait_for_line "$BATS_TEST_TMPDIR/one" '^data: b3$'
    [ "$(gaps_of "$BATS_TEST_TMPDIR/one")" = '{"last_event_id":"a1","oldest_retained_id":"b2"}' ]
}

@test "history: a multi-channel resume where the first channel listed lost nothing never reads as nothing lost" {
    start_ssed --history 2
    publish b b1 b1
    publish a a1 a1
    publish a a2 a2
    publish a a3 a3
    # b lost nothing after b1, a lost a1: the notice names a and a2, never b1
    subscribe ba '/?channels=b,a' -H 'Last-Event-ID: b1'
    subscribe ab '/?channels=a,b' -H 'Last-Event-ID: b1'
    for s in ba ab; do
        wait_for_line "$BATS_TEST_TMPDIR/$s" '^data: a3$'
        cat "$BATS_TEST_TMPDIR/$s"
        [ "$(gaps_of "$BATS_TEST_TMPDIR/$s")" = '{"last_event_id":"b1","oldest_retained_id":"a2","channel":"/a"}' ]
    done
    # the log names the channel that lost events too
    [ "$(grep -c 'no longer in history .* channel=/a last_event_id=b1$' "$SSED_ERR")" -eq 2 ]
    ! grep -q 'no longer in history .* channel=/b' "$SSED_ERR"
}

@test "history: a resume where several channels lost events gets one notice per channel, in the order listed" {
    start_ssed --history 1
    publish a a1 a1
    publish b b1 b1
    publish a a2 a2
    publish b b2 b2
    publish c c1 c1
    subscribe s '/?channels=b,c,a' -H 'Last-Event-ID: a1'
    wait_for_line "$BATS_TEST_TMPDIR/s" '^data: c1$'
    cat "$BATS_TEST_TMPDIR/s"
    [ "$(gaps_of "$BATS_TEST_TMPDIR/s")" = "$(printf '%s\n' \
        '{"last_event_id":"a1","oldest_retained_id":"b2","channel":"/b"}' \
        '{"last_event_id":"a1","oldest_retained_id":"c1","channel":"/c"}' \
        '{"last_event_id":"a1","oldest_retained_id":"a2","channel":"/a"}')" ]
    [ "$(data_of "$BATS_TEST_TMPDIR/s" | grep -v last_event_id)" = "$(printf 'a2\nb2\nc1')" ]
}

@test "history: a client owed more history than --max-pending resumes and gets all of it" {
    start_ssed --history 100 --replay 100 --max-pending 4KiB
    python3 -c '
for i in range(40):
    print("%02d" % i + "p" * 198)' >&8
    for i in $(seq 1 100); do curl -s --max-time 5 "$URL/_ssed/stats" | grep -q '"history":40' && break; sleep 0.05; done
    subscribe s /
    wait_for_data "$BATS_TEST_TMPDIR/s" 40
    [ "$(data_of "$BATS_TEST_TMPDIR/s" | cut -c1-2 | tr '\n' ' ')" = "$(seq -f '%02g' -s ' ' 0 39) " ]
    [ "$(stat_of slow_subscriber_drops)" -eq 0 ]
}

@test "history: --max-event-size is exact for POSTed lines and stdin (only a CR may pass it)" {
    start_ssed --max-event-size 10
    subscribe s /
    run curl -s -w ' %{http_code}' --max-time 5 --data-binary $'12345678901\n' "$URL/"
    [[ "$output" == *" 413" ]]
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --data-binary $'1234567890\r\n' "$URL/")" = 200 ]
    printf '12345678901\nfits\n' >&8
    wait_for_data "$BATS_TEST_TMPDIR/s" 2
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(printf '1234567890\nfits')" ]
    [ "$(stat_of oversized_records)" -eq 1 ]
}

@test "history: a channels= list too long for ssed is 414, never another channel" {
    start_ssed
    list=$(for i in $(seq 1 30); do printf 'c%03d%0146d,' "$i" 0; done)
    run curl -s -w ' %{http_code}' --max-time 5 "$URL/?channels=${list%,}"
    echo "$output" | tail -c 200
    [[ "$output" == *"channels list"*" 414" ]]
}

@test "history: a publisher's own numeric ids resume without a spurious gap" {
    start_ssed --history 2
    publish x 1 one
    publish x 2 two
    publish x 3 three
    resume r /x 1
    cat "$BATS_TEST_TMPDIR/r"
    [ "$(grep -c 'ssed-gap' "$BATS_TEST_TMPDIR/r")" -eq 0 ]
    [ "$(data_of "$BATS_TEST_TMPDIR/r")" = "$(printf 'two\nthree')" ]
}

@test "history: an id with invalid UTF-8 is resumed from as clients received it" {
    start_ssed
    publish u $'\xff1' first
    publish u k2 second
    resume r /u $'\xef\xbf\xbd1'
    cat "$BATS_TEST_TMPDIR/r"
    [ "$(grep -c 'ssed-gap' "$BATS_TEST_TMPDIR/r")" -eq 0 ]
    [ "$(data_of "$BATS_TEST_TMPDIR/r")" = second ]
}

@test "history: a Last-Event-ID longer than ssed's ids gets a gap notice, header or ?lastEventId=" {
    start_ssed
    publish l k1 kept
    long=$(python3 -c 'print("9" * 1500)')
    resume r /l "$long"
    grep -q '^event: ssed-gap' "$BATS_TEST_TMPDIR/r"
    grep -q '^data: kept' "$BATS_TEST_TMPDIR/r"
    curl -sN --max-time 2 "$URL/l?lastEventId=$long" >"$BATS_TEST_TMPDIR/q" 2>/dev/null || true
    grep -q '^event: ssed-gap' "$BATS_TEST_TMPDIR/q"
}
