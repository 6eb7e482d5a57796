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
    # ssed's units name where it was installed; its configuration is under PREFIX/etc
    grep -qx 'ExecStart=/opt/sse/bin/ssed --config /opt/sse/etc/ssed/ssed.conf' \
        "$dest/opt/sse/lib/systemd/system/ssed.service"
    [ -f "$dest/opt/sse/lib/systemd/system/ssed.socket" ]
    cmp "$TOP/cmd/ssed/systemd/ssed.conf" "$dest/opt/sse/etc/ssed/ssed.conf"
    run make -C "$TOP" -s uninstall "${san[@]}" BUILD_DIR="$build" DESTDIR="$dest" PREFIX=/opt/sse
    [ "$status" -eq 0 ]
    [ -z "$(find "$dest" -type f)" ]
}

@test "install: PREFIX=/usr puts the configuration in /etc and zsh completions in vendor-completions, SYSTEMD_UNIT_DIR moves the units, and an edited configuration is kept" {
    dest="$BATS_TEST_TMPDIR/root"
    build=$(basename "$SSETOOLS_BUILD")
    san=()
    [[ "$build" == *-san ]] && san=(SANITIZE=1)
    vars=("${san[@]}" BUILD_DIR="$build" DESTDIR="$dest" PREFIX=/usr SYSTEMD_UNIT_DIR=/lib/systemd/system)
    run make -C "$TOP" -s install "${vars[@]}"
    [ "$status" -eq 0 ]
    grep -qx 'ExecStart=/usr/bin/ssed --config /etc/ssed/ssed.conf' "$dest/lib/systemd/system/ssed.service"
    # zsh completions where Debian's zsh looks for a package's (its fpath)
    for b in ssed ssecat ssepub; do
        [ -f "$dest/usr/share/zsh/vendor-completions/_$b" ]
    done
    [ ! -e "$dest/usr/share/zsh/site-functions" ]
    echo "history 5" >>"$dest/etc/ssed/ssed.conf"
    # installing again does not overwrite the operator's configuration
    run make -C "$TOP" -s install "${vars[@]}"
    [ "$status" -eq 0 ]
    grep -qx 'history 5' "$dest/etc/ssed/ssed.conf"
    run make -C "$TOP" -s uninstall "${vars[@]}"
    [ "$status" -eq 0 ]
    [ "$(find "$dest" -type f)" = "$dest/etc/ssed/ssed.conf" ]
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
