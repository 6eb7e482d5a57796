#!/usr/bin/env bash
# Runs every test suite against the binaries in BUILD_DIR and sums their
# results into one closing line: "N passed, M failed" (and skipped, if any).
set -u
build_dir=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
export SSETOOLS_BUILD="$top/$build_dir"
# Memory bounds are not meaningful under AddressSanitizer (shadow memory).
case "$build_dir" in *-san) export SSETOOLS_SANITIZED=1 ;; esac
passed=0 failed=0 skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# count_tap FILE: the counts of a TAP stream, added to the totals and left
# in suite_passed, suite_failed and suite_skipped.
count_tap() {
    suite_skipped=$(grep -cE '^ok [0-9]+ .*# (skip|SKIP)' "$1")
    suite_passed=$(($(grep -cE '^ok [0-9]+' "$1") - suite_skipped))
    suite_failed=$(grep -cE '^not ok [0-9]+' "$1")
    passed=$((passed + suite_passed))
    skipped=$((skipped + suite_skipped))
    failed=$((failed + suite_failed))
}

# run_suite NAME COMMAND...: run one suite, print what failed and then one
# progress line with its counts and time.
run_suite() {
    local name=$1 start=$SECONDS status
    shift
    "$@" >"$log" 2>&1
    status=$?
    grep -vE '^ok |^1\.\.[0-9]+$|^[0-9]+ passed, [0-9]+ failed' "$log"
    count_tap "$log"
    if [ $status -ne 0 ] && [ "$suite_failed" -eq 0 ]; then
        echo "$name exited $status"
        failed=$((failed + 1))
        suite_failed=1
    fi
    local extra=""
    [ "$suite_skipped" -gt 0 ] && extra=", $suite_skipped skipped"
    printf '== %-28s %3d passed, %d failed%s (%ds)\n' "$name" "$suite_passed" "$suite_failed" "$extra" \
        $((SECONDS - start))
}

run_suite "unit tests" "$SSETOOLS_BUILD/unit-tests"
shopt -s nullglob
for file in "$top"/tests/*.bats; do
    run_suite "tests/$(basename "$file")" bats --tap "$file"
done

if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
