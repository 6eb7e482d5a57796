#!/usr/bin/env bats
# Durable history (--store), against real ssed processes: restarts keep
# history, ids, eviction marks and publisher dedup; kill -9 in the middle of
# `seq 10000 | ssepub` loses and duplicates nothing; a locked, damaged or
# full store is reported, never served wrong.

load lib/helpers
load lib/store_helpers

# Every ssed here reads stdin from a FIFO on fd 8.
SSED_FEED=1

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
    if [ -n "${TMPFS_DIR:-}" ]; then
        umount "$TMPFS_DIR" 2>/dev/null || true
    fi
}

# stop_ssed: TERM and wait (ssed commits and closes the store on the way out).
stop_ssed() {
    exec 8>&- 2>/dev/null || true
    kill -TERM "$SSED_PID"
    wait_for_exit "$SSED_PID" 10
}

publish() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 ${2:+-H "SSE-Id: $2"} --data-binary "$3" "$URL/$1")" = 200 ]
}

# read_history NAME PATH N [CURL OPTIONS...]: subscribe, wait until N data
# lines have arrived in $BATS_TEST_TMPDIR/NAME, then stop reading.
read_history() {
    local name=$1 path=$2 n=$3
    shift 3
    subscribe "$name" "$path" "$@"
    wait_for_data "$BATS_TEST_TMPDIR/$name" "$n" 30
    kill "$SUB_PID" 2>/dev/null || true
}

# channel_history CHANNEL: how many events the channel retains now.
channel_history() {
    curl -s --max-time 5 "$URL/_ssed/stats" | python3 -c "
import json, sys
for c in json.load(sys.stdin)['channels']:
    if c['name'] == '/$1':
        print(c['history'])
        break
else:
    print(0)"
}

@test "store: history and ids survive a restart; a resume from before it gets exactly what follows, no gap" {
    local port store="$BATS_TEST_TMPDIR/h.store"
    port=$(free_port)
    start_store_ssed "$port" --store "$store" --replay 10
    publish news "" one
    publish news "" two
    publish news "" three
    subscribe s /news
    wait_for_data "$BATS_TEST_TMPDIR/s" 3
    stop_ssed
    [ "$(stat -c %a "$store")" = 600 ]
    local first
    first=$(grep -m1 '^id:' "$BATS_TEST_TMPDIR/s" | cut -c5-)
    [ -n "$first" ]
    start_store_ssed "$port" --store "$store"
    read_history r /news 2 -H "Last-Event-ID: $first"
    cat "$BATS_TEST_TMPDIR/r"
    [ "$(channel_history news)" -eq 3 ]
    [ "$(grep -c 'ssed-gap' "$BATS_TEST_TMPDIR/r")" -eq 0 ]
    [ "$(data_of "$BATS_TEST_TMPDIR/r")" = "$(printf 'two\nthree')" ]
    # New ids go on increasing after the restored ones.
    publish news "" four
    read_history r2 /news 3 -H "Last-Event-ID: $first"
    local ids
    ids=$(grep '^id:' "$BATS_TEST_TMPDIR/r2" | cut -c5-)
    [ "$(echo "$ids" | wc -l)" -eq 3 ]
    [ "$ids" = "$(echo "$ids" | sort -n)" ]
}

@test "store: eviction marks survive a restart: a resume from an evicted id reports the gap, a retained one does not" {
    local port store="$BATS_TEST_TMPDIR/e.store"
    port=$(free_port)
    start_store_ssed "$port" --store "$store" --history 2
    publish c a1 a1
    publish c a2 a2
    publish c a3 a3
    stop_ssed
    start_store_ssed "$port" --store "$store" --history 2
    read_history lost /c 2 -H "Last-Event-ID: a1"
    grep -q '^event: ssed-gap' "$BATS_TEST_TMPDIR/lost"
    read_history kept /c 1 -H "Last-Event-ID: a2"
    [ "$(grep -c 'ssed-gap' "$BATS_TEST_TMPDIR/kept")" -eq 0 ]
    [ "$(data_of "$BATS_TEST_TMPDIR/kept")" = a3 ]
}

@test "store: the publisher dedup table survives a restart: a resend after it is not published twice" {
    local port store="$BATS_TEST_TMPDIR/d.store"
    port=$(free_port)
    start_store_ssed "$port" --store "$store" --history 100 --replay 100
    post() {
        curl -s --max-time 5 -H 'SSE-Publisher: 00000000deadbeef' -H 'SSE-Sequence: 0' \
            --data-binary $'x0\nx1\nx2\n' "$URL/"
    }
    [[ "$(post)" == *'"accepted":3'*'"duplicates":0'* ]]
    stop_ssed
    start_store_ssed "$port" --store "$store" --history 100 --replay 100
    run post
    [[ "$output" == *'"accepted":3'*'"duplicates":3'* ]]
    read_history all / 3
    [ "$(channel_history "")" -eq 3 ]
    [ "$(data_of "$BATS_TEST_TMPDIR/all")" = "$(printf 'x0\nx1\nx2')" ]
}

@test "store: kill -9 while ssepub sends 10000 events, restart: every event in history exactly once, in order" {
    local port store="$BATS_TEST_TMPDIR/k.store" target
    port=$(free_port)
    start_store_ssed "$port" --store "$store" --history 20000 --replay 20000 --max-pending 16MiB
    # Paced so the kill lands while ssepub is sending.
    start_bg "$BATS_TEST_TMPDIR/pub.out" "$BATS_TEST_TMPDIR/pub.err" bash -c "
        python3 -c '
import sys, time
for i in range(1, 10001):
    sys.stdout.write(\"%d\\n\" % i)
    if i % 100 == 0:
        sys.stdout.flush()
        time.sleep(0.05)' | '$SSEPUB' --url '$URL/' --retry-for 120s"
    local pub=$BG_PID
    target=$((RANDOM % 8000 + 500))
    local i n=0
    for i in $(seq 1 $((600 * SSETOOLS_WAIT_SCALE))); do
        n=$(channel_history "")
        [ "$n" -ge "$target" ] && break
        sleep 0.02
    done
    kill -KILL "$SSED_PID"
    wait_for_exit "$SSED_PID" 10
    echo "killed at $n of 10000 (target $target)"
    [ "$n" -lt 10000 ] # the kill landed while ssepub was sending
    start_store_ssed "$port" --store "$store" --history 20000 --replay 20000 --max-pending 16MiB
    wait_for_exit "$pub" 120
    cat "$BATS_TEST_TMPDIR/pub.err"
    [ "$EXIT_STATUS" -eq 0 ]
    # Exactly 10000 retained (--history 20000 keeps every one), in order.
    [ "$(channel_history "")" -eq 10000 ]
    read_history all / 10000
    data_of "$BATS_TEST_TMPDIR/all" >"$BATS_TEST_TMPDIR/got"
    seq 1 10000 >"$BATS_TEST_TMPDIR/want"
    cmp "$BATS_TEST_TMPDIR/got" "$BATS_TEST_TMPDIR/want"
}

@test "store: a start that cannot load the store (too small --max-channels) leaves it as it was" {
    local port store="$BATS_TEST_TMPDIR/m.store" ch
    port=$(free_port)
    start_store_ssed "$port" --store "$store"
    for ch in a b c d e; do publish "$ch" "" "on $ch"; done
    stop_ssed
    run "$SSED" -l 127.0.0.1:0 --no-stdin --store "$store" --max-channels 3
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"--max-channels"* ]]
    start_store_ssed "$port" --store "$store"
    for ch in a b c d e; do [ "$(channel_history "$ch")" -eq 1 ]; done
}

@test "store: a store another ssed holds is refused at start, exit 1, naming the path" {
    local port store="$BATS_TEST_TMPDIR/l.store"
    port=$(free_port)
    start_store_ssed "$port" --store "$store"
    run "$SSED" -l 127.0.0.1:0 --no-stdin --store "$store"
    [ "$status" -eq 1 ]
    [[ "$output" == *"ssed: store $store: in use by another process"* ]]
}

@test "store: a damaged store is refused with its path; --store-repair moves it aside and starts empty" {
    local store="$BATS_TEST_TMPDIR/c.store" port
    port=$(free_port)
    start_store_ssed "$port" --store "$store"
    publish "" "" before
    stop_ssed
    rm -f "$store-wal" "$store-shm"
    # Its header stays: the pages after it are garbage.
    head -c 12288 /dev/urandom | dd of="$store" bs=4096 seek=1 conv=notrunc 2>/dev/null
    run "$SSED" -l 127.0.0.1:0 --no-stdin --store "$store"
    [ "$status" -eq 1 ]
    [[ "$output" == *"ssed: store $store: "*"--store-repair"* ]]
    start_store_ssed "$port" --no-stdin --store "$store" --store-repair
    grep -q "moved aside to $store.corrupt" "$SSED_ERR"
    [ -f "$store.corrupt" ]
    publish "" "" fresh
}

@test "store: a file that is no SQLite database at all is not taken for a damaged store: refused untouched, even with --store-repair" {
    local store="$BATS_TEST_TMPDIR/notes.txt"
    head -c 20000 /dev/urandom >"$store"
    cp "$store" "$BATS_TEST_TMPDIR/copy"
    for repair in "" --store-repair; do
        run "$SSED" -l 127.0.0.1:0 --no-stdin --store "$store" $repair
        [ "$status" -eq 1 ]
        [[ "$output" == *"ssed: store $store: not an SQLite database (no SQLite header), so not an ssed store; left as it is"* ]]
    done
    [ ! -e "$store.corrupt" ]
    cmp "$store" "$BATS_TEST_TMPDIR/copy"
}

@test "store: a truncated store is refused, never served" {
    local port store="$BATS_TEST_TMPDIR/t.store"
    port=$(free_port)
    start_store_ssed "$port" --store "$store" --history 5000
    python3 -c 'print("\n".join("event %05d %s" % (i, "x" * 200) for i in range(3000)))' >&8
    for i in $(seq 1 $((100 * SSETOOLS_WAIT_SCALE))); do
        [ "$(channel_history "")" -ge 3000 ] && break
        sleep 0.05
    done
    stop_ssed
    local size
    size=$(stat -c %s "$store")
    [ "$size" -gt 100000 ]
    truncate -s $((size / 2)) "$store"
    run "$SSED" -l 127.0.0.1:0 --no-stdin --store "$store"
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"ssed: store $store: "* ]]
}

@test "store: a full disk makes publishes 503 and input pause; nothing acknowledged is lost" {
    TMPFS_DIR="$BATS_TEST_TMPDIR/small"
    mkdir -p "$TMPFS_DIR"
    mount -t tmpfs -o size=2m tmpfs "$TMPFS_DIR" 2>/dev/null || {
        TMPFS_DIR=""
        skip "cannot mount a small tmpfs here (needs root)"
    }
    local port store="$TMPFS_DIR/f.store" big acked=0 code i
    port=$(free_port)
    start_store_ssed "$port" --store "$store" --history 100000
    big=$(head -c 3000 /dev/zero | tr '\0' 'y')
    : >"$BATS_TEST_TMPDIR/acked"
    for i in $(seq 1 2000); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --data-binary "$i $big" "$URL/")
        [ "$code" = 200 ] || break
        echo "$i" >>"$BATS_TEST_TMPDIR/acked"
    done
    echo "first refusal at $i: $code"
    [ "$code" = 503 ]
    # While full: stdin input pauses with a warning.
    echo "from stdin" >&8
    wait_for_line "$SSED_ERR" 'input paused and publishes refused' 10
    # Room again: the write is retried and publishing works.
    # Free space by raising the tmpfs size.
    mount -o remount,size=64m "$TMPFS_DIR"
    for i in $(seq 1 $((100 * SSETOOLS_WAIT_SCALE))); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --data-binary "after $big" "$URL/")
        [ "$code" = 200 ] && break
        sleep 0.1
    done
    [ "$code" = 200 ]
    wait_for_line "$SSED_ERR" 'store writable again' 10
    stop_ssed
    # Every acknowledged event is in the store after a restart.
    start_store_ssed "$port" --store "$store" --history 100000 --replay 100000 --max-pending 64MiB
    local n
    n=$(wc -l <"$BATS_TEST_TMPDIR/acked")
    read_history all / $((n + 2))
    wait_for_line "$BATS_TEST_TMPDIR/all" '^data: from stdin$' 10
    data_of "$BATS_TEST_TMPDIR/all" | cut -d' ' -f1 >"$BATS_TEST_TMPDIR/got"
    [ "$n" -gt 0 ]
    [ "$(head -n "$n" "$BATS_TEST_TMPDIR/got")" = "$(cat "$BATS_TEST_TMPDIR/acked")" ]
}

@test "store: a body still streaming when the disk fills is answered 503 with what was stored, and no longer read" {
    TMPFS_DIR="$BATS_TEST_TMPDIR/small"
    mkdir -p "$TMPFS_DIR"
    mount -t tmpfs -o size=2m tmpfs "$TMPFS_DIR" 2>/dev/null || {
        TMPFS_DIR=""
        skip "cannot mount a small tmpfs here (needs root)"
    }
    local port
    port=$(free_port)
    start_store_ssed "$port" --store "$TMPFS_DIR/f.store" --history 100000
    run python3 - "$PORT" "$TMPFS_DIR" "$((30 * SSETOOLS_WAIT_SCALE))" <<'PY'
import json, socket, sys, time, urllib.request
port, fs, limit = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
deadline = time.monotonic() + limit
def history():
    stats = json.load(urllib.request.urlopen("http://127.0.0.1:%d/_ssed/stats" % port, timeout=5))
    return sum(c["history"] for c in stats["channels"] if c["name"] == "/c")
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"POST /c HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
def chunk(body):
    s.sendall(b"%x\r\n%s\r\n" % (len(body), body))
chunk(b"".join(b"stored %d\n" % i for i in range(10)))
while history() < 10:
    if time.monotonic() > deadline:
        sys.exit("the first ten events were never published")
    time.sleep(0.05)
# History shows them as soon as they are published, before the commit of
# that loop turn; a request served in a later turn comes after it.
history()
with open(fs + "/filler", "wb") as f:  # fill the disk
    try:
        while True:
            f.write(b"\0" * 65536)
            f.flush()
    except OSError:
        pass
s.setblocking(False)
reply, sent = b"", 0
while b"\r\n\r\n" not in reply or not reply.endswith(b"}\n"):
    if time.monotonic() > deadline:
        sys.exit("no answer after %d chunks: %r" % (sent, reply))
    try:
        if sent < 500:
            chunk(b"".join(b"more %d %s\n" % (sent, b"y" * 3000) for _ in range(20)))
            sent += 1
    except (BlockingIOError, BrokenPipeError, ConnectionResetError):
        pass
    try:
        data = s.recv(65536)
        if not data and not reply:
            sys.exit("closed without an answer")
        reply += data
    except BlockingIOError:
        time.sleep(0.02)
print(reply.decode())
PY
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"HTTP/1.1 503"* ]]
    [[ "$output" == *'"accepted":10,'* ]]
    rm -f "$TMPFS_DIR/filler"
    # Room again: the store catches up, and the ten acknowledged events stay.
    wait_for_line "$SSED_ERR" 'store writable again' 10
    stop_ssed
    start_store_ssed "$port" --store "$TMPFS_DIR/f.store" --history 100000 --replay 100000 --max-pending 64MiB
    read_history all /c 10
    [ "$(data_of "$BATS_TEST_TMPDIR/all" | head -10)" = "$(seq 0 9 | sed 's/^/stored /')" ]
}

@test "store: --sync and --store-repair need --store; --sync takes always, batch or off" {
    run "$SSED" --sync always
    [ "$status" -eq 2 ]
    [[ "$output" == *"--sync: needs --store"* ]]
    run "$SSED" --store-repair
    [ "$status" -eq 2 ]
    run "$SSED" --store x --sync sometimes
    [ "$status" -eq 2 ]
    [[ "$output" == *"sometimes"* ]]
}

@test "store: every --sync mode keeps what was published across a restart" {
    local port mode
    port=$(free_port)
    for mode in always batch off; do
        start_store_ssed "$port" --store "$BATS_TEST_TMPDIR/$mode.store" --sync "$mode" --replay 10
        seq 1 5 | "$SSEPUB" -q --url "$URL/"
        # A crash, not a clean stop: what was acknowledged must be in the store already.
        kill -KILL "$SSED_PID"
        wait_for_exit "$SSED_PID" 10
        start_store_ssed "$port" --store "$BATS_TEST_TMPDIR/$mode.store" --sync "$mode" --replay 10
        read_history "$mode" / 5
        stop_ssed
        [ "$(data_of "$BATS_TEST_TMPDIR/$mode")" = "$(seq 1 5)" ]
    done
}

@test "store: Chromium and npm eventsource subscribed through a kill -9 and restart get every event once, in order, no ssed-gap" {
    [ -x /usr/bin/chromium ] || skip "chromium is not installed (make deps)"
    [ -d "$TOP/tests/node_modules/playwright-core" ] || skip "playwright-core is not installed (make deps)"
    [ -d "$TOP/tests/node_modules/eventsource" ] || skip "eventsource is not installed (make deps)"
    run env SSETOOLS_WAIT_SCALE="$SSETOOLS_WAIT_SCALE" timeout $((60 * SSETOOLS_WAIT_SCALE)) \
        node "$TOP/tests/browser/store_restart_test.mjs" "$SSED" "$(free_port)" "$BATS_TEST_TMPDIR/b.store"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"all checks passed"* ]]
}
