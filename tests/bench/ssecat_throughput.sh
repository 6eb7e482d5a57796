#!/usr/bin/env bash
# ssecat's throughput on a captured stream: `ssecat - -o data` and
# `ssecat - -o json` next to `cat` of the same file, all into /dev/null,
# the median of RUNS runs each. -o json escapes every string and stamps
# every event with its receive time; it should keep at least half the
# speed of -o data.
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

# median_ns CMD...: the median of $runs runs, in nanoseconds.
median_ns() {
    local i start end
    for i in $(seq 1 "$runs"); do
        start=$(date +%s%N)
        "$@" <"$file" >/dev/null
        end=$(date +%s%N)
        echo $((end - start))
    done | sort -n | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }'
}
rate() { awk -v b="$size" -v ns="$1" 'BEGIN { printf "%.0f", b / 1e6 / (ns / 1e9) }'; }
line() { printf '%-38s %6s MB/s  %.2fs\n' "$1" "$(rate "$2")" "$(awk -v n="$2" 'BEGIN { print n / 1e9 }')"; }

cat_ns=$(median_ns cat)
data_ns=$(median_ns "$ssecat" - -o data)
json_ns=$(median_ns "$ssecat" - -o json)
echo "stream: $((size / 1000000)) MB, $events events (median of $runs)"
line "cat file > /dev/null" "$cat_ns"
line "ssecat - -o data < file > /dev/null" "$data_ns"
line "ssecat - -o json < file > /dev/null" "$json_ns"
awk -v d="$data_ns" -v j="$json_ns" 'BEGIN { printf "-o json / -o data speed: %.2f\n", d / j }'
