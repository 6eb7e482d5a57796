#!/usr/bin/env bats
# make install honours PREFIX and DESTDIR; make uninstall removes it all.

load lib/helpers

@test "install: binaries, man pages and completions land under DESTDIR/PREFIX, and uninstall removes them" {
    dest="$BATS_TEST_TMPDIR/root"
    build=$(basename "$SSETOOLS_BUILD")
    san=()
    [[ "$build" == *-san ]] && san=(SANITIZE=1)
    run make -C "$TOP" -s install "${san[@]}" BUILD_DIR="$build" DESTDIR="$dest" PREFIX=/opt/sse
    [ "$status" -eq 0 ]
    for b in ssed ssecat ssepub; do
        [ -x "$SSETOOLS_BUILD/$b" ] || continue
        [ -x "$dest/opt/sse/bin/$b" ]
        [ -f "$dest/opt/sse/share/man/man1/$b.1" ]
        [ -f "$dest/opt/sse/share/bash-completion/completions/$b" ]
        [ -f "$dest/opt/sse/share/zsh/site-functions/_$b" ]
        [ -f "$dest/opt/sse/share/fish/vendor_completions.d/$b.fish" ]
    done
    "$dest/opt/sse/bin/ssed" --version
    run make -C "$TOP" -s uninstall "${san[@]}" BUILD_DIR="$build" DESTDIR="$dest" PREFIX=/opt/sse
    [ "$status" -eq 0 ]
    [ -z "$(find "$dest" -type f)" ]
}

# The demo runs in a process group of its own (a shell, its feed loop and
# ssed), stopped whole.
teardown() {
    [ -n "${DEMO_PGID:-}" ] && kill -TERM -- "-$DEMO_PGID" 2>/dev/null
    stop_all
}

@test "demo: serves a feed, says what to try next, and names DEMO_LISTEN when the port is taken" {
    port=$(free_port)
    setsid bash "$TOP/tests/demo.sh" "${SSETOOLS_BUILD#$TOP/}" "127.0.0.1:$port" \
        >"$BATS_TEST_TMPDIR/demo.out" 2>"$BATS_TEST_TMPDIR/demo.err" 3>&- 8>&- 9>&- &
    DEMO_PGID=$!
    wait_for_line "$BATS_TEST_TMPDIR/demo.err" 'curl -d hi http://127.0.0.1:' 30
    grep -q "ssecat http://127.0.0.1:$port/" "$BATS_TEST_TMPDIR/demo.err"
    run curl -sN --max-time 3 "http://127.0.0.1:$port/"
    [[ "$output" == *'data: {"n":'* ]]
    # the same address again: taken, and the message says how to move it
    run timeout 30 bash "$TOP/tests/demo.sh" "${SSETOOLS_BUILD#$TOP/}" "127.0.0.1:$port"
    [ "$status" -ne 0 ]
    [[ "$output" == *"Address already in use"*"DEMO_LISTEN"* ]]
}
