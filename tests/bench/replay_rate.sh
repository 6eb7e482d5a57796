#!/usr/bin/env bash
# ssed --replay FILE --speed max against ssed reading the same events from
# stdin with --format sse: events/s each takes into the hub (no
# subscribers; history as by default), the median of RUNS runs, and their
# ratio. The issue's target (31) is a ratio of at least 0.8 on 1 GB.
# The recording has a `: t=` line before each event (recorded 1 ms apart)
# and ids; the stdin stream is the same events without them.
# Usage: replay_rate.sh [BUILD_DIR] [MB] [RUNS]   (defaults: build 50 3)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build="$top/${1:-build}"
mb=${2:-50}
runs=${3:-3}
ssed="$build/ssed"
[ -x "$ssed" ] || { echo "replay_rate: $ssed is not built" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work" "$mb" <<'PY'
import sys
work, mb = sys.argv[1], int(sys.argv[2])
payload = '{"model":"m","choices":[{"delta":{"content":"' + "x" * 120 + '"}}]}'
target = mb * 1000 * 1000
with open(work + "/r.rec", "w") as rec, open(work + "/s.sse", "w") as sse:
    rec.write(": ssecat-recording=1\n: url=http://127.0.0.1:9/feed\n")
    i, size = 0, 0
    while size < target:
        i += 1
        block = "id: %d\ndata: %s\n\n" % (i, payload)
        rec.write(": t=%d.%03d\n" % (i // 1000, i % 1000))
        rec.write(block)
        sse.write(block)
        size += len(block)
print(i, file=open(work + "/count", "w"))
PY
events=$(cat "$work/count")

# median_ns CMD...: ssed started, run to the end of its input
# (--exit-on-eof), the median of $runs runs in nanoseconds.
median_ns() {
    local i start end
    for i in $(seq 1 "$runs"); do
        start=$(date +%s%N)
        "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
        end=$(date +%s%N)
        echo $((end - start))
    done | sort -n | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }'
}
rate() { awk -v n="$events" -v ns="$1" 'BEGIN { printf "%.0f", n / (ns / 1e9) }'; }

stdin_ns=$(median_ns sh -c 'exec "$1" -q -l 127.0.0.1:0 --format sse --exit-on-eof <"$2"' sh "$ssed" "$work/s.sse")
replay_ns=$(median_ns "$ssed" -q -l 127.0.0.1:0 --replay "$work/r.rec" --speed max --exit-on-eof)
echo "events: $events ($(($(stat -c %s "$work/s.sse") / 1000000)) MB as SSE; median of $runs)"
printf '%-58s %10s events/s  %.2fs\n' "ssed --format sse --exit-on-eof < stream" "$(rate "$stdin_ns")" \
    "$(awk -v n="$stdin_ns" 'BEGIN { print n / 1e9 }')"
printf '%-58s %10s events/s  %.2fs\n' "ssed --replay FILE --speed max --exit-on-eof" "$(rate "$replay_ns")" \
    "$(awk -v n="$replay_ns" 'BEGIN { print n / 1e9 }')"
awk -v s="$stdin_ns" -v r="$replay_ns" 'BEGIN { printf "replay / stdin rate: %.2f\n", s / r }'
