#!/usr/bin/env bats
# ssepub against a real ssed: every input mode, channels, types and ids,
# tokens, refusals, retries across a restart, and batching.

load helpers

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
}

@test "ssepub: --help and --version; bad options exit 2 naming the option" {
    run "$SSEPUB" --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"--retry-for DURATION"* ]]
    run "$SSEPUB" --version
    [[ "$output" =~ ^ssepub\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
    run "$SSEPUB" --retry-for soon hi
    [ "$status" -eq 2 ]
    [[ "$output" == *"--retry-for: invalid duration 'soon'"* ]]
    run "$SSEPUB" --id 7 </dev/null
    [ "$status" -eq 2 ]
    [[ "$output" == *"--id: names one event"* ]]
    run "$SSEPUB" --format xml
    [ "$status" -eq 2 ]
    run "$SSEPUB" -s hello
    [ "$status" -eq 2 ]
    [[ "$output" == *"--stdin-whole: give a MESSAGE or read stdin, not both"* ]]
    run "$SSEPUB" --url nonsense hi
    [ "$status" -eq 2 ]
    [[ "$output" == *"--url"* ]]
}

@test "ssepub: arguments joined with spaces make one event with its type and id" {
    start_ssed
    subscribe s /
    run "$SSEPUB" -u "$URL/" -e deploy -i v2 deploy "finished  ok"
    [ "$status" -eq 0 ]
    wait_for_data "$BATS_TEST_TMPDIR/s" 1
    run cat "$BATS_TEST_TMPDIR/s"
    [[ "$output" == *$'event: deploy\nid: v2\ndata: deploy finished  ok'* ]]
}

@test "ssepub: stdin lines are one event each; -c picks the channel; SSED_URL sets the server" {
    start_ssed
    subscribe s /logs
    printf 'one\ntwo\r\nthree' | SSED_URL="$URL/ignored/path" "$SSEPUB" -c logs
    wait_for_data "$BATS_TEST_TMPDIR/s" 3
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(printf 'one\ntwo\nthree')" ]
}

@test "ssepub: -s sends all of stdin as one event; -0 splits on NUL" {
    start_ssed
    subscribe s /
    printf 'line 1\nline 2\n' | "$SSEPUB" -u "$URL/" -s -i whole
    printf 'rec a\nstill a\0rec b\0' | "$SSEPUB" -u "$URL/" -0
    wait_for_data "$BATS_TEST_TMPDIR/s" 6
    [ "$(grep -c '^id:' "$BATS_TEST_TMPDIR/s")" -eq 3 ]
    grep -q '^id: whole$' "$BATS_TEST_TMPDIR/s"
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(printf 'line 1\nline 2\n\nrec a\nstill a\nrec b')" ]
}

@test "ssepub: --format sse keeps each event's type, id and retry" {
    start_ssed
    subscribe s /
    printf 'event: a\nid: x1\ndata: one\n\nretry: 500\ndata: two\ndata: lines\n\n' | "$SSEPUB" -u "$URL/" --format sse
    wait_for_data "$BATS_TEST_TMPDIR/s" 3
    run cat "$BATS_TEST_TMPDIR/s"
    [[ "$output" == *$'event: a\nid: x1\ndata: one\n\n'* ]]
    [[ "$output" == *$'retry: 500\ndata: two\ndata: lines'* ]]
    # an event cut off at the end of stdin is reported, exit 1
    run bash -c "printf 'data: complete\n\ndata: cut' | '$SSEPUB' -u '$URL/' --format sse"
    [ "$status" -eq 1 ]
    [[ "$output" == *"stdin ended inside an event"* ]]
}

@test "ssepub: lines are live: one line reaches a subscriber while stdin stays open" {
    start_ssed
    subscribe s /
    mkfifo "$BATS_TEST_TMPDIR/in"
    start_bg /dev/null "$BATS_TEST_TMPDIR/pub.err" sh -c 'f=$1; shift; exec "$@" <"$f"' sh "$BATS_TEST_TMPDIR/in" \
        "$SSEPUB" -u "$URL/"
    exec 9>"$BATS_TEST_TMPDIR/in"
    echo "first" >&9
    wait_for_data "$BATS_TEST_TMPDIR/s" 1 2
    echo "second" >&9
    wait_for_data "$BATS_TEST_TMPDIR/s" 2 2
    exec 9>&-
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(printf 'first\nsecond')" ]
}

@test "ssepub: seq 100000 arrives complete and in order, in few requests" {
    start_ssed --max-pending 64M
    subscribe s / --max-time 60
    run bash -c "seq 100000 | '$SSEPUB' -v -u '$URL/' 2>&1 | tail -1"
    echo "$output"
    [[ "$output" =~ 100000\ events\ delivered\ in\ ([0-9]+)\ request ]]
    [ "${BASH_REMATCH[1]}" -lt 100 ]
    wait_for_data "$BATS_TEST_TMPDIR/s" 100000 30
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(seq 100000)" ]
}

@test "ssepub: a token is sent from --token or SSED_TOKEN; without it or wrong, exit 3" {
    start_ssed --token t0ken
    subscribe s /
    run "$SSEPUB" -u "$URL/" hello
    [ "$status" -eq 3 ]
    [[ "$output" == *"1 event not delivered: refused by the server (401)"* ]]
    run "$SSEPUB" -u "$URL/" --token wrong hello
    [ "$status" -eq 3 ]
    [[ "$output" == *"(403): "*"wrong token"* ]]
    run "$SSEPUB" -u "$URL/" --token t0ken one
    [ "$status" -eq 0 ]
    SSED_TOKEN=t0ken run "$SSEPUB" -u "$URL/" -v two
    [ "$status" -eq 0 ]
    [[ "$output" != *t0ken* ]]
    wait_for_data "$BATS_TEST_TMPDIR/s" 2
}

@test "ssepub: an event over the server's limit is refused (413), reported by line, the rest delivered, exit 3" {
    start_ssed --max-event-size 20
    subscribe s /
    run bash -c "printf 'ok 1\n%050d\nok 2\n' 0 | '$SSEPUB' -u '$URL/'"
    [ "$status" -eq 3 ]
    [[ "$output" == *"event from input 2 refused by the server (413): an event is larger than --max-event-size (20 bytes)"* ]]
    wait_for_data "$BATS_TEST_TMPDIR/s" 2
    [ "$(data_of "$BATS_TEST_TMPDIR/s")" = "$(printf 'ok 1\nok 2')" ]
    # ssepub's own limit refuses before sending
    run bash -c "printf '%050d\n' 0 | '$SSEPUB' -u '$URL/' --max-event-size 10"
    [ "$status" -eq 3 ]
    [[ "$output" == *"record 1 not sent: 50 bytes is more than --max-event-size 10"* ]]
}

@test "ssepub: an unreachable server: retries for --retry-for, then says how many were not delivered, exit 4" {
    port=$(free_port)
    start=$(date +%s%N)
    run bash -c "seq 3 | '$SSEPUB' -u http://127.0.0.1:$port/ --retry-for 700ms"
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    [ "$status" -eq 4 ]
    [[ "$output" == *"3 events not delivered"* ]]
    [ "$elapsed_ms" -ge 700 ]
}

@test "ssepub: ssed restarted mid-stream: ssepub retries and every line is published exactly once" {
    port=$(free_port)
    start_ssed -l "127.0.0.1:$port" --no-stdin --history 100000
    mkfifo "$BATS_TEST_TMPDIR/in"
    start_bg "$BATS_TEST_TMPDIR/pub.out" "$BATS_TEST_TMPDIR/pub.err" sh -c 'f=$1; shift; exec "$@" <"$f"' sh \
        "$BATS_TEST_TMPDIR/in" "$SSEPUB" -v -u "http://127.0.0.1:$port/" --retry-for 20s
    pub=$BG_PID
    exec 9>"$BATS_TEST_TMPDIR/in"
    seq 1 2000 >&9
    for i in $(seq 1 100); do [ "$(stat_of events_published)" -ge 2000 ] && break; sleep 0.05; done
    first_run=$(curl -s --max-time 5 "http://127.0.0.1:$port/_ssed/stats")
    exec 8>&-
    stop_pid "$SSED_PID"
    seq 2001 4000 >&9 # sent while ssed is down: ssepub must retry
    sleep 0.5
    start_ssed -l "127.0.0.1:$port" --no-stdin --history 100000 --replay 100000
    seq 4001 5000 >&9
    exec 9>&-
    wait_for_exit "$pub" 30
    [ "$EXIT_STATUS" -eq 0 ]
    grep -q 'retrying' "$BATS_TEST_TMPDIR/pub.err"
    # Every line exactly once across both runs: 2000 before the restart,
    # the other 3000 after, and the second run's history holds exactly them.
    [[ "$first_run" == *'"events_published":2000,'* ]]
    [ "$(stat_of events_published)" -eq 3000 ]
    subscribe all /
    wait_for_data "$BATS_TEST_TMPDIR/all" 3000 10
    [ "$(data_of "$BATS_TEST_TMPDIR/all")" = "$(seq 2001 5000)" ]
}
