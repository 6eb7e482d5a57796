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
