#!/usr/bin/env bash
# ssecat's parsing throughput on a captured stream: `ssecat - -o data` next
# to `cat` of the same file, both into /dev/null, best of RUNS.
# Usage: ssecat_throughput.sh [BUILD_DIR] [MB] [RUNS]   (defaults: build 200 3)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build="$top/${1:-build}"
mb=${2:-200}
runs=${3:-3}
ssecat="$build/ssecat"
[ -x "$ssecat" ] || { echo "ssecat_throughput: $ssecat is not built" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
file="$work/stream.sse"

python3 "$top/tests/bench/make_stream.py" "$file" "$mb"
size=$(stat -c %s "$file")
events=$(grep -c '^data:' "$file")

# best_seconds CMD...: the fastest of $runs runs, in seconds.
best_seconds() {
    local best="" i start end t
    for i in $(seq 1 "$runs"); do
        start=$(date +%s%N)
        "$@" <"$file" >/dev/null
        end=$(date +%s%N)
        t=$((end - start))
        if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
    done
    echo "$best"
}
cat_ns=$(best_seconds cat)
ssecat_ns=$(best_seconds "$ssecat" - -o data)
rate() { awk -v b="$size" -v ns="$1" 'BEGIN { printf "%.0f", b / 1e6 / (ns / 1e9) }'; }
echo "stream: $((size / 1000000)) MB, $events events (best of $runs)"
printf 'cat file > /dev/null                 %6s MB/s  %.2fs\n' "$(rate "$cat_ns")" "$(awk -v n="$cat_ns" 'BEGIN{print n/1e9}')"
printf 'ssecat - -o data < file > /dev/null  %6s MB/s  %.2fs\n' "$(rate "$ssecat_ns")" "$(awk -v n="$ssecat_ns" 'BEGIN{print n/1e9}')"
