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

# count_tap FILE: add a TAP stream's results to the totals.
count_tap() {
    local ok notok skip
    skip=$(grep -cE '^ok [0-9]+ .*# (skip|SKIP)' "$1")
    ok=$(grep -cE '^ok [0-9]+' "$1")
    notok=$(grep -cE '^not ok [0-9]+' "$1")
    passed=$((passed + ok - skip))
    skipped=$((skipped + skip))
    failed=$((failed + notok))
}

echo "== unit tests (common/)"
"$SSETOOLS_BUILD/unit-tests" >"$log" 2>&1
status=$?
grep -vE '^ok ' "$log"
count_tap "$log"
[ $status -ne 0 ] && ! grep -q '^not ok' "$log" && { echo "unit-tests exited $status"; failed=$((failed + 1)); }

shopt -s nullglob
bats_files=("$top"/tests/*.bats)
if [ ${#bats_files[@]} -gt 0 ]; then
    echo "== bats tests (${#bats_files[@]} files)"
    bats --tap "${bats_files[@]}" >"$log" 2>&1
    status=$?
    grep -vE '^ok ' "$log"
    count_tap "$log"
    [ $status -ne 0 ] && ! grep -q '^not ok' "$log" && { echo "bats exited $status"; failed=$((failed + 1)); }
fi

if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
