#!/usr/bin/env bats
# Keeps --help, the man pages, the completions and the README in step: every
# long option a binary's --help lists must appear in each of them, and every
# option the man page documents must be in --help.

load lib/helpers

teardown() {
    stop_all
}

long_options_of_help() {
    "$SSETOOLS_BUILD/$1" --help | grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u
}

# The long options a man page mentions (roff writes a hyphen as \-).
man_options() {
    sed 's/\\-/-/g' "$TOP/man/$1.1" | grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u
}

check_binary_docs() {
    local bin=$1 missing="" opt name
    [ -x "$SSETOOLS_BUILD/$bin" ] || skip "$bin is not built yet"
    for f in "man/$bin.1" "completions/$bin.bash" "completions/_$bin" "completions/$bin.fish"; do
        [ -f "$TOP/$f" ] || { echo "missing $f"; return 1; }
    done
    for opt in $(long_options_of_help "$bin"); do
        name=${opt#--}
        man_options "$bin" | grep -qxF -- "$opt" || missing="$missing man:$opt"
        grep -qF -- "--$name" "$TOP/completions/$bin.bash" || missing="$missing bash:$opt"
        grep -qF -- "--$name" "$TOP/completions/_$bin" || missing="$missing zsh:$opt"
        grep -qE -- "-l $name( |$)" "$TOP/completions/$bin.fish" || missing="$missing fish:$opt"
        grep -qF -- "--$name" "$TOP/README.md" || missing="$missing README:$opt"
    done
    for opt in $(man_options "$bin"); do
        long_options_of_help "$bin" | grep -qxF -- "$opt" || missing="$missing help:$opt"
    done
    [ -z "$missing" ] || { echo "$bin: not documented everywhere:$missing"; return 1; }
}

@test "ssed: every option is in --help, man page, completions and README" {
    check_binary_docs ssed
}

@test "ssecat: every option is in --help, man page, completions and README" {
    check_binary_docs ssecat
}

@test "ssepub: every option is in --help, man page, completions and README" {
    check_binary_docs ssepub
}

# readme_section TITLE: the README's lines from "## TITLE" (or ###) to the next heading.
readme_section() {
    awk -v t="$1" '/^```/ { code = !code } !code && /^#+ / { on = ($0 ~ "^#+ " t) } on' "$TOP/README.md"
}

@test "README: the quick start names every package the build needs (.ci/deps.sh)" {
    packages=$(sed -n 's/^build_packages="\(.*\)"$/\1/p' "$TOP/.ci/deps.sh")
    [ -n "$packages" ]
    quick=$(readme_section "Quick start")
    missing=""
    for p in $packages; do
        grep -qE "(^| )$p( |$)" <<<"$quick" || missing="$missing $p"
    done
    [ -z "$missing" ] || { echo "README's quick start misses:$missing"; return 1; }
}

@test "README: the first example that runs a tool comes after make install, or names build/" {
    # line numbers, within code blocks, of the first bare ssed/ssecat/ssepub
    # command and of the first make install
    read -r first_tool first_install < <(awk '
        /^```/ { code = !code; next }
        code && !tool && /(^|[|;&] *|^ *)(ssed|ssecat|ssepub)( |$)/ { tool = NR }
        code && !inst && /make install/ { inst = NR }
        END { print tool + 0, inst + 0 }' "$TOP/README.md")
    [ "$first_tool" -gt 0 ]
    [ "$first_install" -gt 0 ] && [ "$first_install" -lt "$first_tool" ] ||
        { echo "README line $first_tool runs a tool before any make install (line $first_install)"; return 1; }
    grep -q 'call them `build/ssed`' "$TOP/README.md"
}

@test "README: its openssl line makes a test certificate ssed serves and clients verify" {
    [[ "$("$SSED" --tls-cert /dev/null --tls-key /dev/null --check 2>&1)" != *"built without TLS"* ]] ||
        skip "this ssed was built without TLS"
    readme_section "HTTPS" | awk '/^```/ { code = !code; next } code' |
        awk '/^openssl req/ { on = 1 } on { print; if (!/\\$/) exit }' >"$BATS_TEST_TMPDIR/cert.sh"
    grep -q 'openssl req' "$BATS_TEST_TMPDIR/cert.sh" || { echo "no openssl req line in the README's HTTPS section"; return 1; }
    (cd "$BATS_TEST_TMPDIR" && bash "$BATS_TEST_TMPDIR/cert.sh" 2>/dev/null)
    run "$SSED" --tls-cert "$BATS_TEST_TMPDIR/cert.pem" --tls-key "$BATS_TEST_TMPDIR/key.pem" --check
    [ "$status" -eq 0 ]
    port=$(free_port)
    start_bg "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" "$SSED" --no-stdin -l "127.0.0.1:$port" \
        --tls-cert "$BATS_TEST_TMPDIR/cert.pem" --tls-key "$BATS_TEST_TMPDIR/key.pem"
    wait_for_line "$BATS_TEST_TMPDIR/err" 'serving https://' 10
    for host in localhost 127.0.0.1; do
        run curl -s --max-time 5 --cacert "$BATS_TEST_TMPDIR/cert.pem" --resolve "localhost:$port:127.0.0.1" \
            "https://$host:$port/_ssed/health"
        [ "$output" = ok ] || { echo "https://$host: $output"; return 1; }
    done
}
