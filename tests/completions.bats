#!/usr/bin/env bats
# Each binary's completions, run in the shell they are for: every long option
# its --help lists is offered after "--" in bash, zsh and fish, and an
# option's values where it has a fixed set. docs.bats checks the files name
# the options; this checks the shells can load them and offer them.

load lib/helpers

long_options_of_help() {
    "$SSETOOLS_BUILD/$1" --help | grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u
}

# need_shell NAME: CI installs zsh and fish (.ci/deps.sh); elsewhere a
# missing shell skips its test, saying which.
need_shell() {
    command -v "$1" >/dev/null || skip "$1 is not installed (make deps installs it)"
}

# missing_from OFFERED BIN: the --help options not in OFFERED (one a line).
missing_from() {
    local offered=$1 bin=$2 opt missing=""
    for opt in $(long_options_of_help "$bin"); do
        grep -qxF -- "$opt" <<<"$offered" || missing="$missing $opt"
    done
    echo "$missing"
}

bash_complete() {
    local bin=$1
    shift
    bash --norc --noprofile -c '
        source "$1/completions/$2.bash"
        shift 2
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        "_${COMP_WORDS[0]}"
        printf "%s\n" "${COMPREPLY[@]}"' _ "$TOP" "$bin" "$bin" "$@"
}

@test "completions: bash offers every option of each binary, and the values of a choice" {
    for bin in ssed ssecat ssepub; do
        offered=$(bash_complete "$bin" --)
        missing=$(missing_from "$offered" "$bin")
        [ -z "$missing" ] || { echo "bash $bin misses:$missing"; return 1; }
    done
    [ "$(bash_complete ssed --format '' | sort | tr '\n' ' ')" = "lines sse " ]
    [ "$(bash_complete ssed --ch | sort | tr '\n' ' ')" = "--channel --check " ]
}

# zsh_complete LINE: what zsh's completion system offers for LINE, with
# completions/ first in its fpath (tests/lib/zsh_complete.zsh).
zsh_complete() {
    timeout $((60 * SSETOOLS_WAIT_SCALE)) zsh -f "$TOP/tests/lib/zsh_complete.zsh" "$TOP/completions" "$1"
}

@test "completions: zsh loads each _BIN and offers every option" {
    need_shell zsh
    for bin in ssed ssecat ssepub; do
        run zsh -n "$TOP/completions/_$bin"
        [ "$status" -eq 0 ] || { echo "zsh -n _$bin: $output"; return 1; }
        offered=$(zsh_complete "$bin --")
        missing=$(missing_from "$offered" "$bin")
        [ -z "$missing" ] || { echo "zsh $bin misses:$missing"; return 1; }
    done
    [ "$(zsh_complete 'ssed --format ' | sort | tr '\n' ' ')" = "lines sse " ]
}

fish_complete() {
    fish --no-config -c 'source $argv[1]/completions/$argv[2].fish; complete -C $argv[3]' "$TOP" "$1" "$2" |
        cut -f1
}

@test "completions: fish offers every option of each binary, and the values of a choice" {
    need_shell fish
    for bin in ssed ssecat ssepub; do
        offered=$(fish_complete "$bin" "$bin --")
        missing=$(missing_from "$offered" "$bin")
        [ -z "$missing" ] || { echo "fish $bin misses:$missing"; return 1; }
    done
    [ "$(fish_complete ssed 'ssed --log-format ' | sort | tr '\n' ' ')" = "json text " ]
}
