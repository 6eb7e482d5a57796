#!/usr/bin/env bats
# The source checker (tests/lib/check_source.py): files over 600 lines,
# functions over 80, dependency circles between modules (by include, and by
# call among files that share a header) and includes that point up a layer
# (tests/lib/layers.txt). First on small made-up trees, then on ours, where
# what is still being fixed is listed in tests/lib/source_allow.txt.

load lib/helpers

CHECK="$BATS_TEST_DIRNAME/lib/check_source.py"

setup() {
    T="$BATS_TEST_TMPDIR/tree"
    mkdir -p "$T/common" "$T/cmd/app"
    printf 'common 0\ncmd/app 1\n' >"$T/layers.txt"
    printf '/* low */\nint low_get(void);\n' >"$T/common/low.h"
    printf '#include "low.h"\nint low_get(void) {\n    return 1;\n}\n' >"$T/common/low.c"
    printf '#include "low.h"\nint main(void) {\n    return low_get();\n}\n' >"$T/cmd/app/main.c"
}

# check [ARGS...]: the checker on the made-up tree, into $status and $output.
check() {
    run python3 "$CHECK" --root "$T" --layers "$T/layers.txt" "$@"
}

# function_of NAME N: a C function NAME whose body is N lines.
function_of() {
    local i
    echo "int $1(int x) {"
    for ((i = 1; i < $2; i++)); do echo "    x++;"; done
    echo "    return x;"
    echo "}"
}

@test "a clean tree passes" {
    check
    [ "$status" -eq 0 ]
    [[ "$output" == *"0 errors"* ]]
}

@test "a file of 601 lines fails, naming it; 600 lines pass" {
    { echo '#include "low.h"'; for i in $(seq 2 600); do echo "/* $i */"; done; } >"$T/cmd/app/long.c"
    check
    [ "$status" -eq 0 ]
    echo "/* 601 */" >>"$T/cmd/app/long.c"
    check
    [ "$status" -eq 1 ]
    [[ "$output" == *"cmd/app/long.c: 601 lines, over 600"* ]]
}

@test "a function of 81 lines fails, naming it; one of exactly 80 passes" {
    { function_of just_right 80; function_of too_long 81; } >"$T/cmd/app/funcs.c"
    check
    [ "$status" -eq 1 ]
    [[ "$output" == *"cmd/app/funcs.c:83: function too_long has 81 lines, over 80"* ]]
    [[ "$output" != *just_right* ]]
}

@test "a function is measured whatever the brace style, and braces in comments and strings do not count" {
    {
        printf 'static const char *\nk_and_r(void)\n{\n'
        printf '    /* } */ const char *s = "}}";\n'
        for i in $(seq 1 80); do echo "    (void)s;"; done
        printf '    return s;\n}\n'
        printf 'struct box { int a; };\nstatic int table[] = { 1, 2 };\n'
    } >"$T/cmd/app/style.c"
    check
    [ "$status" -eq 1 ]
    [[ "$output" == *"function k_and_r has 82 lines"* ]]
    [[ "$output" != *"function box"* ]]
    [[ "$output" != *"function table"* ]]
}

@test "an include circle fails with its path" {
    printf '#include "b.h"\n' >"$T/cmd/app/a.h"
    printf '#include "c.h"\n' >"$T/cmd/app/b.h"
    printf '#include "b.h"\n' >"$T/cmd/app/b.c"
    printf '#include "a.h"\n' >"$T/cmd/app/c.c"
    printf 'int c;\n' >"$T/cmd/app/c.h"
    check
    [ "$status" -eq 1 ]
    [[ "$output" == *"include circle: cmd/app/a -[b.h]-> cmd/app/b -[c.h]-> cmd/app/c -[a.h]-> cmd/app/a"* ]]
    [ "$(grep -c 'include circle' <<<"$output")" -eq 1 ]
}

@test "a call circle between two files that share one header fails with its path" {
    printf 'void one(void);\nvoid two(void);\nvoid three(void);\n' >"$T/cmd/app/pair.h"
    printf '#include "pair.h"\nvoid one(void) {\n    two();\n}\nvoid three(void) {\n}\n' >"$T/cmd/app/pair_a.c"
    printf '#include "pair.h"\nvoid two(void) {\n    three();\n}\n' >"$T/cmd/app/pair_b.c"
    check
    [ "$status" -eq 1 ]
    [[ "$output" == *"call circle: cmd/app/pair_a.c -[two]-> cmd/app/pair_b.c -[three]-> cmd/app/pair_a.c"* ]]
    # one way only is no circle
    printf '#include "pair.h"\nvoid two(void) {\n}\n' >"$T/cmd/app/pair_b.c"
    check
    [ "$status" -eq 0 ]
}

@test "a call to a static function of the caller's own is not taken for another file's" {
    printf 'void one(void);\nvoid two(void);\n' >"$T/cmd/app/pair.h"
    printf '#include "pair.h"\nstatic void helper(void) {\n}\nvoid one(void) {\n    helper();\n    two();\n}\n' \
        >"$T/cmd/app/pair_a.c"
    printf '#include "pair.h"\nstatic void helper(void) {\n}\nvoid two(void) {\n    helper();\n}\n' >"$T/cmd/app/pair_b.c"
    check
    [ "$status" -eq 0 ]
}

@test "an include that points up a layer fails, naming both files" {
    printf '#include "main_api.h"\n' >"$T/common/low2.c"
    printf 'int api(void);\n' >"$T/cmd/app/main_api.h"
    check
    [ "$status" -eq 1 ]
    [[ "$output" == *"common/low2.c: includes cmd/app/main_api.h: layer cmd/app (1) is above layer common (0)"* ]]
}

@test "layers may be subfolders: the longest folder that holds a file gives its rank" {
    mkdir -p "$T/cmd/app/net" "$T/cmd/app/http"
    printf 'common 0\ncmd/app 3\ncmd/app/net 1\ncmd/app/http 2\n' >"$T/layers.txt"
    printf 'int net_read(void);\n' >"$T/cmd/app/net/net.h"
    printf '#include "net.h"\n' >"$T/cmd/app/http/http.c"
    printf 'int http_get(void);\n' >"$T/cmd/app/http/http.h"
    check
    [ "$status" -eq 0 ]
    printf '#include "http.h"\n' >"$T/cmd/app/net/net.c"
    check
    [ "$status" -eq 1 ]
    [[ "$output" == *"cmd/app/net/net.c: includes cmd/app/http/http.h: layer cmd/app/http (2) is above layer cmd/app/net (1)"* ]]
}

@test "a folder in no layer fails, naming it; so does a listed folder that is gone" {
    mkdir -p "$T/cmd/other"
    printf 'int x;\n' >"$T/cmd/other/x.c"
    printf 'cmd/gone 1\n' >>"$T/layers.txt"
    check
    [ "$status" -eq 1 ]
    [[ "$output" == *"folder cmd/other is in no layer of the layer table"* ]]
    [[ "$output" == *"the layer table lists cmd/gone, which does not exist"* ]]
}

@test "an allowed finding passes; an allowed one that no longer occurs fails" {
    function_of too_long 81 >"$T/cmd/app/funcs.c"
    echo "function cmd/app/funcs.c:too_long -- being split" >"$T/allow.txt"
    check --allow "$T/allow.txt"
    [ "$status" -eq 0 ]
    [[ "$output" == *"allowed: cmd/app/funcs.c:1: function too_long"* ]]
    function_of too_long 80 >"$T/cmd/app/funcs.c"
    check --allow "$T/allow.txt"
    [ "$status" -eq 1 ]
    [[ "$output" == *"allow.txt:1: allowed 'function cmd/app/funcs.c:too_long' no longer occurs; remove it"* ]]
}

@test "ssetools' own sources pass, with what is still being fixed allowed" {
    run python3 "$CHECK" --allow "$BATS_TEST_DIRNAME/lib/source_allow.txt"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "source: no message prints '1 channels': a count before a plural noun has its singular (tests/lib/check_plurals.py)" {
    run python3 "$BATS_TEST_DIRNAME/lib/check_plurals.py" "$TOP"
    echo "$output"
    [ "$status" -eq 0 ]
}
