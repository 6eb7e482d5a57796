#!/usr/bin/env bats
# What --store does to the file at PATH before it knows the file is its own:
# nothing. A symbolic link (dangling or not), a device node, another
# program's SQLite database, or a link in place of the store's log are
# refused untouched (mode and content as they were); a new store is 0600
# whatever the umask; a store another process merely has locked is reported
# as locked, naming the holder, never as damaged, and --store-repair leaves
# it where it is.

load lib/helpers

teardown() {
    exec 7>&- 2>/dev/null || true
    exec 8>&- 2>/dev/null || true
    stop_all
}

# refused ARGS...: ssed --store ARGS exits 1 within a bounded time; its
# messages are left in $output.
refused() {
    run timeout $((30 * SSETOOLS_WAIT_SCALE)) "$SSED" -l 127.0.0.1:0 --no-stdin --store "$@"
    echo "$output"
    [ "$status" -eq 1 ]
}

# same_file FILE MODE SUM: FILE still has mode MODE and content SUM.
same_file() {
    [ "$(stat -c %a "$1")" = "$2" ]
    [ "$(sha256sum <"$1")" = "$3" ]
}

need_sqlite3() {
    command -v sqlite3 >/dev/null || skip "the sqlite3 command is not installed (make deps)"
}

@test "store files: a symbolic link at PATH is refused, naming it; its target keeps its mode and content" {
    local dir=$BATS_TEST_TMPDIR sum
    echo "the test's own file" >"$dir/target"
    chmod 0644 "$dir/target"
    sum=$(sha256sum <"$dir/target")
    ln -s target "$dir/link"
    refused "$dir/link"
    [[ "$output" == *"ssed: store $dir/link: is a symbolic link to target; refusing to follow it"* ]]
    refused "$dir/link" --store-repair
    [[ "$output" == *"is a symbolic link"* ]]
    same_file "$dir/target" 644 "$sum"
    [ -L "$dir/link" ]
    [ ! -e "$dir/link.corrupt" ] && [ ! -e "$dir/target-wal" ] && [ ! -e "$dir/link-wal" ]
}

@test "store files: a dangling symbolic link is refused and its target is not created" {
    local dir=$BATS_TEST_TMPDIR
    ln -s missing "$dir/dangling"
    refused "$dir/dangling"
    [[ "$output" == *"ssed: store $dir/dangling: is a symbolic link to missing"* ]]
    [ ! -e "$dir/missing" ]
    [ "$(find "$dir" -name 'missing*' | wc -l)" -eq 0 ]
}

@test "store files: a device node of the test's own is refused before anything; its mode is unchanged" {
    local dir=$BATS_TEST_TMPDIR
    # The same device as /dev/null (1,3), made here so nothing shared is at risk.
    mknod "$dir/dev" c 1 3 2>/dev/null || skip "cannot make a device node here (needs root)"
    chmod 0644 "$dir/dev"
    refused "$dir/dev"
    [[ "$output" == *"ssed: store $dir/dev: is a character device, not a regular file"* ]]
    refused "$dir/dev" --store-repair
    [ "$(stat -c %a "$dir/dev")" = 644 ]
    [ -c "$dir/dev" ]
    [ ! -e "$dir/dev.corrupt" ] && [ ! -e "$dir/dev-wal" ] && [ ! -e "$dir/dev-journal" ]
}

@test "store files: another program's SQLite database is refused untouched, even with --store-repair" {
    need_sqlite3
    local db=$BATS_TEST_TMPDIR/other.db sum
    sqlite3 "$db" "CREATE TABLE notes(body TEXT); INSERT INTO notes VALUES('keep me');"
    chmod 0644 "$db"
    sum=$(sha256sum <"$db")
    refused "$db"
    [[ "$output" == *"ssed: store $db: not an ssed store (application id 0, version 0)"* ]]
    refused "$db" --store-repair
    [[ "$output" == *"not an ssed store"* ]]
    same_file "$db" 644 "$sum"
    [ ! -e "$db.corrupt" ] && [ ! -e "$db-wal" ] && [ ! -e "$db-journal" ]
    # Another program's WAL-mode database with its own id: likewise.
    local wal=$BATS_TEST_TMPDIR/wal.db
    sqlite3 "$wal" "PRAGMA journal_mode=WAL; PRAGMA application_id=42; CREATE TABLE t(x); INSERT INTO t VALUES(1);" >/dev/null
    chmod 0640 "$wal"
    sum=$(sha256sum <"$wal")
    refused "$wal" --store-repair
    [[ "$output" == *"not an ssed store (application id 42"* ]]
    same_file "$wal" 640 "$sum"
    [ "$(sqlite3 "$db" 'SELECT body FROM notes')" = "keep me" ]
}

@test "store files: a symbolic link in place of the store's log is refused, naming it; its target is untouched" {
    local dir=$BATS_TEST_TMPDIR sum
    echo "the test's own file" >"$dir/target"
    chmod 0644 "$dir/target"
    sum=$(sha256sum <"$dir/target")
    ln -s target "$dir/s.db-wal"
    refused "$dir/s.db"
    [[ "$output" == *"ssed: store $dir/s.db-wal: is a symbolic link to target; refusing to follow it"* ]]
    same_file "$dir/target" 644 "$sum"
    [ ! -e "$dir/s.db" ] # refused before the store was created
}

@test "store files: a new store is created 0600 whatever the umask, its log too" {
    local dir=$BATS_TEST_TMPDIR mask masks="000 022"
    # 277 takes the owner's write bit away (only root can still feed the FIFO).
    [ "$(id -u)" -ne 0 ] || masks="$masks 277"
    for mask in $masks; do
        (
            umask "$mask"
            start_ssed --store "$dir/$mask.db"
            curl -s -o /dev/null --max-time 5 --data-binary "under umask $mask" "$URL/"
            [ "$(stat -c %a "$dir/$mask.db")" = 600 ]
            [ "$(stat -c %a "$dir/$mask.db-wal")" = 600 ]
            kill -TERM "$SSED_PID"
            wait_for_exit "$SSED_PID" 10
            [ "$EXIT_STATUS" -eq 0 ]
        )
        [ "$(stat -c %a "$dir/$mask.db")" = 600 ]
    done
}

# hold_lock DB: a sqlite3 process with a read transaction open on DB until
# release_lock; its PID in LOCK_PID.
hold_lock() {
    mkfifo "$BATS_TEST_TMPDIR/sql"
    # The FIFO is opened by the background shell, which then becomes sqlite3.
    start_bg "$BATS_TEST_TMPDIR/sql.out" "$BATS_TEST_TMPDIR/sql.err" \
        sh -c 'exec sqlite3 "$1" <"$2"' sh "$1" "$BATS_TEST_TMPDIR/sql"
    LOCK_PID=$BG_PID
    exec 7>"$BATS_TEST_TMPDIR/sql"
    echo "BEGIN; SELECT 'holding', count(*) FROM events;" >&7
    wait_for_line "$BATS_TEST_TMPDIR/sql.out" '^holding\|' 10
}

release_lock() {
    echo "COMMIT;" >&7
    exec 7>&-
    wait_for_exit "$LOCK_PID" 10
    [ "$EXIT_STATUS" -eq 0 ]
}

@test "store files: a store a sqlite3 reader holds is locked, not damaged: ssed waits, exits 1 naming the holder, --store-repair moves nothing; released, it resumes with no gap" {
    need_sqlite3
    local store=$BATS_TEST_TMPDIR/l.db first sum
    start_ssed --store "$store" --replay 10
    subscribe s /news
    for e in one two three; do
        curl -s -o /dev/null --max-time 5 --data-binary "$e" "$URL/news"
    done
    wait_for_data "$BATS_TEST_TMPDIR/s" 3
    first=$(grep -m1 '^id:' "$BATS_TEST_TMPDIR/s" | cut -c5-)
    kill -TERM "$SSED_PID"
    wait_for_exit "$SSED_PID" 10
    sum=$(sha256sum <"$store")
    hold_lock "$store"
    refused "$store"
    [[ "$output" == *"ssed: store $store: locked by another process (held by PID $LOCK_PID; waited 5 s)"* ]]
    [[ "$output" != *"damaged ("* && "$output" != *"refusing to serve it"* ]]
    refused "$store" --store-repair
    [[ "$output" == *"locked by another process (held by PID $LOCK_PID"* ]]
    [[ "$output" != *"moved aside"* ]]
    [ ! -e "$store.corrupt" ]
    same_file "$store" 600 "$sum"
    release_lock
    start_ssed --store "$store" --store-repair
    [ ! -e "$store.corrupt" ]
    subscribe r /news -H "Last-Event-ID: $first"
    wait_for_data "$BATS_TEST_TMPDIR/r" 2
    [ "$(grep -c 'ssed-gap' "$BATS_TEST_TMPDIR/r")" -eq 0 ]
    [ "$(data_of "$BATS_TEST_TMPDIR/r")" = "$(printf 'two\nthree')" ]
}

@test "store files: an ssed store left 0644 is set back to 0600 once recognised; an empty file becomes a new store" {
    need_sqlite3
    local dir=$BATS_TEST_TMPDIR
    start_ssed --store "$dir/s.db"
    curl -s -o /dev/null --max-time 5 --data-binary kept "$URL/c"
    kill -TERM "$SSED_PID"
    wait_for_exit "$SSED_PID" 10
    chmod 0644 "$dir/s.db"
    start_ssed --store "$dir/s.db" --replay 5
    [ "$(stat -c %a "$dir/s.db")" = 600 ]
    subscribe r /c
    wait_for_data "$BATS_TEST_TMPDIR/r" 1
    [ "$(data_of "$BATS_TEST_TMPDIR/r")" = kept ]
    kill -TERM "$SSED_PID"
    wait_for_exit "$SSED_PID" 10
    : >"$dir/empty.db"
    chmod 0644 "$dir/empty.db"
    start_ssed --store "$dir/empty.db"
    [ "$(stat -c %a "$dir/empty.db")" = 600 ]
    kill -TERM "$SSED_PID"
    wait_for_exit "$SSED_PID" 10
    # "SSED", the store's application id.
    [ "$(sqlite3 "$dir/empty.db" 'PRAGMA application_id')" = $((0x53534544)) ]
}
