#!/usr/bin/env bash
# Runs every test suite against the binaries in BUILD_DIR and sums their
# results into one closing line: "N passed, M failed" (and skipped, if any).
# Suites are independent (each starts its own servers on ports the kernel
# picks, in its own temporary folders), so SSETOOLS_JOBS of them (default 2,
# the cores CI has) run at once, the longest first; each suite's failures
# and its one progress line are printed when it ends, whole.
set -u
build_dir=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
export SSETOOLS_BUILD="$top/$build_dir"
# Memory bounds are not meaningful under AddressSanitizer (shadow memory).
case "$build_dir" in *-san) export SSETOOLS_SANITIZED=1 ;; esac
jobs=${SSETOOLS_JOBS:-2}
case "$jobs" in '' | *[!0-9]* | 0) echo "run-suites: SSETOOLS_JOBS must be a positive number" >&2; exit 2 ;; esac
passed=0 failed=0 skipped=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The suites that take longest, started first so the last to end is short.
slow_first="valgrind tls_conformance h2 h2_memory tls cluster store store_faults oom hardening viewer hostile ssecat_http jwt store_files"

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

# start_suite N NAME COMMAND...: run one suite in the background; its TAP
# stream goes to $work/N.log, its exit status and time to N.status, N.time.
start_suite() {
    local n=$1 name=$2
    shift 2
    echo "$name" >"$work/$n.name"
    (
        start=$SECONDS
        "$@" >"$work/$n.log" 2>&1 </dev/null
        echo $? >"$work/$n.status.tmp"
        echo $((SECONDS - start)) >"$work/$n.time"
        mv "$work/$n.status.tmp" "$work/$n.status"
    ) &
}

# report_suite N: print what failed in suite N and one progress line with
# its counts and time.
report_suite() {
    local n=$1 name status
    name=$(cat "$work/$n.name")
    status=$(cat "$work/$n.status")
    grep -vE '^ok |^1\.\.[0-9]+$|^[0-9]+ passed, [0-9]+ failed' "$work/$n.log"
    count_tap "$work/$n.log"
    if [ "$status" -ne 0 ] && [ "$suite_failed" -eq 0 ]; then
        echo "$name exited $status"
        failed=$((failed + 1))
        suite_failed=1
    fi
    local extra=""
    [ "$suite_skipped" -gt 0 ] && extra=", $suite_skipped skipped"
    printf '== %-28s %3d passed, %d failed%s (%ds)\n' "$name" "$suite_passed" "$suite_failed" "$extra" \
        "$(cat "$work/$n.time")"
    touch "$work/$n.reported"
}

# report_ended: report every suite that has ended and was not reported yet.
report_ended() {
    local status
    for status in "$work"/*.status; do
        [ -e "$status" ] || continue
        local n
        n=$(basename "$status" .status)
        [ -e "$work/$n.reported" ] || report_suite "$n"
    done
}

files=()
for name in $slow_first; do
    [ -f "$top/tests/$name.bats" ] && files+=("$top/tests/$name.bats")
done
shopt -s nullglob
for file in "$top"/tests/*.bats; do
    case " $slow_first " in *" $(basename "$file" .bats) "*) continue ;; esac
    files+=("$file")
done

n=0
running=0
for file in "$top/unit-tests" "${files[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
        report_ended
    fi
    n=$((n + 1))
    if [ "$file" = "$top/unit-tests" ]; then
        start_suite "$n" "unit tests" "$SSETOOLS_BUILD/unit-tests"
    else
        start_suite "$n" "tests/$(basename "$file")" bats --tap "$file"
    fi
    running=$((running + 1))
done
wait
report_ended
# A suite whose runner died before it could write its status is a failure.
for name_file in "$work"/*.name; do
    n=$(basename "$name_file" .name)
    [ -e "$work/$n.reported" ] && continue
    echo "$(cat "$name_file") ended without a status"
    failed=$((failed + 1))
done

if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
