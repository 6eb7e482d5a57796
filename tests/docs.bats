#!/usr/bin/env bats
# Keeps --help, the man pages, the completions and the README in step: every
# long option a binary's --help lists must appear in each of them, and every
# option the man page documents must be in --help.

load lib/helpers

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
