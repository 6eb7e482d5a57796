#!/usr/bin/env bats
# The store under faults, with a subscriber watching: a publish refused
# because the store cannot write (a full disk) reaches no one, is not in
# history, and its numbered resend lands exactly once when the disk has
# room again (or the disk stops failing with EIO), across a kill -9; a
# store file deleted while ssed runs is noticed before the next publish is
# acknowledged.

load lib/helpers
load lib/store_helpers

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
    if [ -n "${TMPFS_DIR:-}" ]; then
        umount "$TMPFS_DIR" 2>/dev/null || true
    fi
}

# watch NAME PATH [CURL OPTIONS...]: a subscriber writing the raw stream to
# $BATS_TEST_TMPDIR/NAME for as long as the test may run.
watch() {
    local name=$1 path=$2
    shift 2
    curl -sN --max-time $((120 * SSETOOLS_WAIT_SCALE)) "$@" "$URL$path" >"$BATS_TEST_TMPDIR/$name" 2>/dev/null \
        3>&- 8>&- 9>&- &
    echo $! >>"$BATS_TEST_TMPDIR/pids"
    WATCH_PID=$!
    wait_for_line "$BATS_TEST_TMPDIR/$name" '^: ssed stream' 10
}

# post_numbered SEQ DATA: publish one event as publisher 5eed, number SEQ;
# prints the status and leaves the answer in $BATS_TEST_TMPDIR/answer.
post_numbered() {
    curl -s -o "$BATS_TEST_TMPDIR/answer" -w '%{http_code}' --max-time 5 -H 'SSE-Publisher: 5eed' \
        -H "SSE-Sequence: $1" --data-binary "$2" "$URL/c"
}

# history_of CHANNEL: how many events the channel retains now.
history_of() {
    curl -s --max-time 5 "$URL/_ssed/stats" | python3 -c "
import json, sys
print(sum(c['history'] for c in json.load(sys.stdin)['channels'] if c['name'] == '/$1'))"
}

# build_eio_shim: tests/lib/eio_shim.c built into $BATS_TEST_TMPDIR, or skip.
build_eio_shim() {
    command -v cc >/dev/null || skip "no C compiler to build tests/lib/eio_shim.c"
    ! ldd "$SSED" | grep -q libasan || skip "an AddressSanitizer build cannot take an LD_PRELOAD shim"
    cc -shared -fPIC -o "$BATS_TEST_TMPDIR/eio_shim.so" "$TOP/tests/lib/eio_shim.c" -ldl
}

# mount_small_tmpfs: a 2 MiB tmpfs at TMPFS_DIR, or skip.
mount_small_tmpfs() {
    TMPFS_DIR="$BATS_TEST_TMPDIR/small"
    mkdir -p "$TMPFS_DIR"
    mount -t tmpfs -o size=2m tmpfs "$TMPFS_DIR" 2>/dev/null || {
        TMPFS_DIR=""
        skip "cannot mount a small tmpfs here (mount needs root, or a user namespace allowing it)"
    }
}

@test "store faults: a publish refused while the disk is full reaches no subscriber; its resend lands once, across kill -9" {
    mount_small_tmpfs
    local port store="$TMPFS_DIR/f.store" big code i refused=""
    # Room to give back later: deleting it is what frees the disk.
    head -c $((512 * 1024)) /dev/zero >"$TMPFS_DIR/filler"
    port=$(free_port)
    start_store_ssed "$port" --store "$store" --history 100000 --replay 100000 --max-pending 64MiB
    watch live /c
    big=$(head -c 3000 /dev/zero | tr '\0' 'y')
    : >"$BATS_TEST_TMPDIR/acked"
    for i in $(seq 1 2000); do
        code=$(post_numbered "$i" "ev $i $big")
        [ "$code" = 200 ] || break
        echo "$i" >>"$BATS_TEST_TMPDIR/acked"
    done
    echo "first refusal at $i: $code $(cat "$BATS_TEST_TMPDIR/answer")"
    [ "$code" = 503 ]
    grep -q '"accepted":0' "$BATS_TEST_TMPDIR/answer"
    refused=$i
    # Two more while full: another number, and the refused one again.
    [ "$(post_numbered $((refused + 1)) "ev $((refused + 1)) $big")" = 503 ]
    [ "$(post_numbered "$refused" "ev $refused $big")" = 503 ]
    # Every acknowledged event reached the subscriber, and nothing else did
    # (the refused ones were published, if at all, before the last of them).
    local n
    n=$(wc -l <"$BATS_TEST_TMPDIR/acked")
    [ "$n" -gt 0 ]
    wait_for_data "$BATS_TEST_TMPDIR/live" "$n" 30
    [ "$(data_of "$BATS_TEST_TMPDIR/live" | cut -d' ' -f2)" = "$(cat "$BATS_TEST_TMPDIR/acked")" ]
    # Nor are they in history: a new subscriber replays only what was acknowledged.
    [ "$(history_of c)" = "$n" ]

    # Room again: the refused numbered publish, resent, is taken exactly once.
    # Until ssed's next retry finds room, a resend is refused, before its
    # body is read (the store is known to be failing) or after.
    rm -f "$TMPFS_DIR/filler"
    for i in $(seq 1 $((100 * SSETOOLS_WAIT_SCALE))); do
        code=$(post_numbered "$refused" "ev $refused $big")
        [ "$code" = 200 ] && break
        grep -qE '"accepted":0|; nothing was published' "$BATS_TEST_TMPDIR/answer" || { echo "retry $i: $code $(cat "$BATS_TEST_TMPDIR/answer")"; false; }
        sleep 0.1
    done
    cat "$BATS_TEST_TMPDIR/answer"
    [ "$code" = 200 ]
    grep -q '"accepted":1,.*"duplicates":0' "$BATS_TEST_TMPDIR/answer"
    echo "$refused" >>"$BATS_TEST_TMPDIR/acked"
    # Resent once more (its answer lost, say): a duplicate, not published.
    [ "$(post_numbered "$refused" "ev $refused $big")" = 200 ]
    grep -q '"duplicates":1' "$BATS_TEST_TMPDIR/answer"
    wait_for_data "$BATS_TEST_TMPDIR/live" $((n + 1)) 30
    # A marker after it: once it arrives, anything sent twice would have too.
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --data-binary "marker" "$URL/c")
    [ "$code" = 200 ]
    wait_for_line "$BATS_TEST_TMPDIR/live" '^data: marker$' 10
    [ "$(data_of "$BATS_TEST_TMPDIR/live" | grep -v '^marker$' | cut -d' ' -f2)" = "$(cat "$BATS_TEST_TMPDIR/acked")" ]

    # A crash: every acknowledged event is in the store, once; the refused
    # ones that were never resent are not.
    kill -KILL "$SSED_PID"
    wait_for_exit "$SSED_PID" 10
    start_store_ssed "$port" --store "$store" --history 100000 --replay 100000 --max-pending 64MiB
    watch after /c
    wait_for_line "$BATS_TEST_TMPDIR/after" '^data: marker$' 30
    [ "$(data_of "$BATS_TEST_TMPDIR/after" | grep -v '^marker$' | cut -d' ' -f2)" = "$(cat "$BATS_TEST_TMPDIR/acked")" ]
    # And the dedup record came through: the resend is still a duplicate.
    [ "$(post_numbered "$refused" "ev $refused $big")" = 200 ]
    grep -q '"duplicates":1' "$BATS_TEST_TMPDIR/answer"
}

@test "store faults: a failed fsync: what it covered is in the file, so it is sent and counted accepted (503); later publishes are refused, across kill -9" {
    build_eio_shim
    local port store="$BATS_TEST_TMPDIR/y.store" code
    export EIO_SHIM_TRIGGER="$BATS_TEST_TMPDIR/eio-now" EIO_SHIM_MATCH="/y.store" EIO_SHIM_SYNC=1
    port=$(free_port)
    SSED_PRELOAD="$BATS_TEST_TMPDIR/eio_shim.so" start_store_ssed "$port" --store "$store" --sync always --replay 100
    watch live /c
    [ "$(post_numbered 1 "ev 1")" = 200 ]
    touch "$EIO_SHIM_TRIGGER"
    code=$(post_numbered 2 "ev 2")
    cat "$BATS_TEST_TMPDIR/answer"
    [ "$code" = 503 ]
    grep -q '"accepted":1,' "$BATS_TEST_TMPDIR/answer"
    grep -qF "store $store: fsync: Input/output error; what was written is kept" "$BATS_TEST_TMPDIR/answer"
    # Final: the next is refused and reaches no one.
    code=$(post_numbered 3 "ev 3")
    [ "$code" = 503 ]
    grep -qE '"accepted":0|; nothing was published' "$BATS_TEST_TMPDIR/answer"
    rm "$EIO_SHIM_TRIGGER"
    [ "$(post_numbered 3 "ev 3")" = 503 ]
    wait_for_data "$BATS_TEST_TMPDIR/live" 2 10
    [ "$(data_of "$BATS_TEST_TMPDIR/live" | tr '\n' ' ')" = "ev 1 ev 2 " ]
    # After a crash the store serves what the subscriber saw: nothing
    # refused comes back, nothing taken is missing.
    kill -KILL "$SSED_PID"
    wait_for_exit "$SSED_PID" 10
    unset EIO_SHIM_SYNC
    start_store_ssed "$port" --store "$store" --replay 100
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --data-binary "marker" "$URL/c")" = 200 ]
    watch after /c
    wait_for_line "$BATS_TEST_TMPDIR/after" '^data: marker$' 10
    [ "$(data_of "$BATS_TEST_TMPDIR/after" | tr '\n' ' ')" = "ev 1 ev 2 marker " ]
    # ev 2 was taken: its numbered resend is a duplicate, ev 3 is new.
    [ "$(post_numbered 2 "ev 2")" = 200 ]
    grep -q '"duplicates":1' "$BATS_TEST_TMPDIR/answer"
}

@test "store faults: a publish refused on an I/O error (EIO on write) reaches no subscriber; its resend lands once, across kill -9" {
    build_eio_shim
    local port store="$BATS_TEST_TMPDIR/e.store" code i
    export EIO_SHIM_TRIGGER="$BATS_TEST_TMPDIR/eio-now" EIO_SHIM_MATCH="/e.store"
    port=$(free_port)
    SSED_PRELOAD="$BATS_TEST_TMPDIR/eio_shim.so" start_store_ssed "$port" --store "$store" --replay 100
    watch live /c
    for i in 1 2 3; do
        [ "$(post_numbered "$i" "ev $i")" = 200 ]
    done
    # The disk fails: the publish is refused, and so is the next.
    touch "$EIO_SHIM_TRIGGER"
    code=$(post_numbered 4 "ev 4")
    cat "$BATS_TEST_TMPDIR/answer"
    [ "$code" = 503 ]
    grep -q '"accepted":0' "$BATS_TEST_TMPDIR/answer"
    grep -qF "store $store: write: disk I/O error" "$BATS_TEST_TMPDIR/answer"
    [ "$(post_numbered 5 "ev 5")" = 503 ]
    [ "$(history_of c)" = 3 ]
    # The disk works again: the refused one, resent, is taken once.
    rm "$EIO_SHIM_TRIGGER"
    for i in $(seq 1 $((100 * SSETOOLS_WAIT_SCALE))); do
        code=$(post_numbered 4 "ev 4")
        [ "$code" = 200 ] && break
        sleep 0.1
    done
    [ "$code" = 200 ]
    grep -q '"accepted":1,.*"duplicates":0' "$BATS_TEST_TMPDIR/answer"
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --data-binary "marker" "$URL/c")" = 200 ]
    wait_for_line "$BATS_TEST_TMPDIR/live" '^data: marker$' 10
    [ "$(data_of "$BATS_TEST_TMPDIR/live" | tr '\n' ' ')" = "ev 1 ev 2 ev 3 ev 4 marker " ]
    # A crash, and a restart without the shim: the same, once each.
    kill -KILL "$SSED_PID"
    wait_for_exit "$SSED_PID" 10
    start_store_ssed "$port" --store "$store" --replay 100
    watch after /c
    wait_for_line "$BATS_TEST_TMPDIR/after" '^data: marker$' 10
    [ "$(data_of "$BATS_TEST_TMPDIR/after" | tr '\n' ' ')" = "ev 1 ev 2 ev 3 ev 4 marker " ]
}

@test "store faults: a stdin line read as the disk starts failing (EIO) is sent only once the store has it, and kept" {
    build_eio_shim
    local port store="$BATS_TEST_TMPDIR/i.store"
    export EIO_SHIM_TRIGGER="$BATS_TEST_TMPDIR/eio-now" EIO_SHIM_MATCH="/i.store"
    port=$(free_port)
    SSED_FEED=1 SSED_PRELOAD="$BATS_TEST_TMPDIR/eio_shim.so" start_store_ssed "$port" --store "$store" --replay 100
    watch live /
    echo "first" >&8
    wait_for_line "$BATS_TEST_TMPDIR/live" '^data: first$' 10
    # Read, published, and its commit fails: taken back, input paused.
    touch "$EIO_SHIM_TRIGGER"
    echo "during" >&8
    wait_for_line "$SSED_ERR" 'input paused' 10
    [ "$(history_of '')" = 1 ]
    [ "$(grep -c '^data: during$' "$BATS_TEST_TMPDIR/live")" = 0 ]
    # The disk works again: it is published then, once, in its place.
    rm "$EIO_SHIM_TRIGGER"
    wait_for_line "$BATS_TEST_TMPDIR/live" '^data: during$' 10
    echo "after" >&8
    wait_for_line "$BATS_TEST_TMPDIR/live" '^data: after$' 10
    [ "$(data_of "$BATS_TEST_TMPDIR/live" | tr '\n' ' ')" = "first during after " ]
    kill -KILL "$SSED_PID"
    wait_for_exit "$SSED_PID" 10
    exec 8>&-
    start_store_ssed "$port" --store "$store" --replay 100
    watch again /
    wait_for_line "$BATS_TEST_TMPDIR/again" '^data: after$' 10
    [ "$(data_of "$BATS_TEST_TMPDIR/again" | tr '\n' ' ')" = "first during after " ]
}

@test "store faults: a store file deleted while ssed runs: the next publish is refused with 503 naming it, and sent to no one" {
    local port store="$BATS_TEST_TMPDIR/d.store" code
    port=$(free_port)
    start_store_ssed "$port" --store "$store" --replay 100
    watch live /c
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --data-binary "before" "$URL/c")" = 200 ]
    wait_for_line "$BATS_TEST_TMPDIR/live" '^data: before$' 10
    rm "$store"
    code=$(curl -s -o "$BATS_TEST_TMPDIR/answer" -w '%{http_code}' --max-time 5 --data-binary "after" "$URL/c")
    cat "$BATS_TEST_TMPDIR/answer"
    [ "$code" = 503 ]
    grep -qF "store $store: the file was deleted or replaced while ssed ran" "$BATS_TEST_TMPDIR/answer"
    grep -q '"accepted":0' "$BATS_TEST_TMPDIR/answer"
    # Refused from then on, with the same reason, logged once as an error.
    code=$(curl -s -o "$BATS_TEST_TMPDIR/answer2" -w '%{http_code}' --max-time 5 --data-binary "later" "$URL/c")
    [ "$code" = 503 ]
    grep -qF "store $store: the file was deleted or replaced" "$BATS_TEST_TMPDIR/answer2"
    wait_for_line "$SSED_ERR" 'ssed: store .*deleted or replaced while ssed ran.*until ssed is restarted' 10
    [ "$(grep -c 'deleted or replaced while ssed ran' "$SSED_ERR")" -eq 1 ]
    # Not in history (a new subscriber replays only "before"), and the
    # watching subscriber never got it: the stats reply came after the
    # turn that would have sent it.
    [ "$(history_of c)" = 1 ]
    [ "$(data_of "$BATS_TEST_TMPDIR/live")" = "before" ]
}

@test "store faults: a store file renamed away while ssed runs is noticed as well" {
    local port store="$BATS_TEST_TMPDIR/r.store" code
    port=$(free_port)
    start_store_ssed "$port" --store "$store"
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --data-binary "before" "$URL/c")" = 200 ]
    mv "$store" "$store.moved"
    code=$(curl -s -o "$BATS_TEST_TMPDIR/answer" -w '%{http_code}' --max-time 5 --data-binary "after" "$URL/c")
    cat "$BATS_TEST_TMPDIR/answer"
    [ "$code" = 503 ]
    grep -qF "store $store: the file was deleted or replaced while ssed ran" "$BATS_TEST_TMPDIR/answer"
}

# intake_paused: the reasons /_ssed/stats gives for input waiting, joined by commas.
intake_paused() {
    curl -s --max-time 5 "$URL/_ssed/stats" | python3 -c "
import json, sys
print(','.join(json.load(sys.stdin)['intake_paused']))"
}

# cpu_ticks PID: user and system clock ticks the process has used.
cpu_ticks() {
    awk '{print $14 + $15}' "/proc/$1/stat"
}

@test "store faults: while the store cannot write, input waits unread and unpolled (no CPU), stats and metrics say why, and every line arrives once it can" {
    build_eio_shim
    local port store="$BATS_TEST_TMPDIR/w.store" i before after
    export EIO_SHIM_TRIGGER="$BATS_TEST_TMPDIR/eio-now" EIO_SHIM_MATCH="/w.store"
    port=$(free_port)
    SSED_FEED=1 SSED_PRELOAD="$BATS_TEST_TMPDIR/eio_shim.so" start_store_ssed "$port" --store "$store"
    watch live /
    [ "$(intake_paused)" = "" ]
    echo "first" >&8
    wait_for_line "$BATS_TEST_TMPDIR/live" '^data: first$' 10
    touch "$EIO_SHIM_TRIGGER"
    echo "during" >&8
    wait_for_line "$SSED_ERR" 'input paused' 10
    [ "$(intake_paused)" = "store" ]
    curl -s --max-time 5 "$URL/_ssed/metrics" >"$BATS_TEST_TMPDIR/metrics"
    grep -qx 'ssed_intake_paused{reason="store"} 1' "$BATS_TEST_TMPDIR/metrics"
    grep -qx 'ssed_intake_paused{reason="round"} 0' "$BATS_TEST_TMPDIR/metrics"
    # More input waits in the pipe: ssed leaves it there and does not poll
    # it (a spinning loop takes a core: 200 ticks in these 2 s, or its share
    # of a loaded machine's).
    for i in $(seq 1 300); do echo "line $i"; done >&8
    before=$(cpu_ticks "$SSED_PID")
    sleep 2 # the window CPU time is measured over
    after=$(cpu_ticks "$SSED_PID")
    echo "CPU while input waited: $((after - before)) ticks in 2 s"
    [ $((after - before)) -lt 10 ]
    [ "$(grep -c '^data: line' "$BATS_TEST_TMPDIR/live")" = 0 ]
    # The store writes again: intake opens and every line arrives, in order.
    rm "$EIO_SHIM_TRIGGER"
    wait_for_line "$BATS_TEST_TMPDIR/live" '^data: line 300$' 20
    [ "$(intake_paused)" = "" ]
    [ "$(data_of "$BATS_TEST_TMPDIR/live" | tr '\n' ' ')" = "first during $(seq -f 'line %g' 1 300 | tr '\n' ' ')" ]
}
