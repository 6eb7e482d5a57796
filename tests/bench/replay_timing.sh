#!/usr/bin/env bash
# How closely ssed --replay keeps a recording's pace: a recording of N
# events at irregular gaps (10 to 190 ms), replayed to ssecat on its own
# timeline (?replay=start, speed 1) and recorded again; prints how far each
# replayed event's time from the first is off the recorded one (median,
# p99, max, in ms) with the load average. Issue 31's target: within 10 ms
# on a quiet machine. Asserts nothing.
# Usage: replay_timing.sh [BUILD_DIR] [EVENTS]   (defaults: build 100)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build="$top/${1:-build}"
events=${2:-100}
for bin in ssed ssecat; do
    [ -x "$build/$bin" ] || { echo "replay_timing: $build/$bin is not built" >&2; exit 1; }
done
work=$(mktemp -d)
ssed_pid=
cleanup() {
    [ -n "$ssed_pid" ] && kill "$ssed_pid" 2>/dev/null && wait "$ssed_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

python3 - "$work/in.rec" "$events" <<'PY'
import random, sys
path, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(31)
t = 0.0
with open(path, "w") as f:
    f.write(": ssecat-recording=1\n")
    for i in range(1, n + 1):
        f.write(": t=%.3f\nid: %d\ndata: event %d\n\n" % (t, i, i))
        t += rng.randint(10, 190) / 1000
PY
"$build/ssed" -l 127.0.0.1:0 --no-stdin --replay "$work/in.rec" 2>"$work/ssed.err" &
ssed_pid=$!
for _ in $(seq 1 100); do
    grep -q 'serving http://' "$work/ssed.err" 2>/dev/null && break
    sleep 0.1
done
url=$(grep -oE 'serving http://127\.0\.0\.1:[0-9]+' "$work/ssed.err" | head -1 | sed 's/serving //')
[ -n "$url" ] || { echo "replay_timing: ssed did not start" >&2; cat "$work/ssed.err" >&2; exit 1; }
"$build/ssecat" --no-reconnect -o record "$url/?replay=start" >"$work/out.rec"
python3 - "$work/in.rec" "$work/out.rec" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import sys
def times(path):
    ts = [float(l[4:]) for l in open(path, encoding="utf-8") if l.startswith(": t=")]
    return [t - ts[0] for t in ts]
a, b = times(sys.argv[1]), times(sys.argv[2])
if len(a) != len(b):
    sys.exit("replay_timing: %d events recorded, %d replayed" % (len(a), len(b)))
off = sorted(abs(x - y) * 1000 for x, y in zip(a, b))
pick = lambda q: off[min(len(off) - 1, int(q * len(off)))]
print("replay pace, %d events over %.1f s at speed 1: off by median %.1f ms, p99 %.1f ms, max %.1f ms (load %s)"
      % (len(a), a[-1], pick(0.5), pick(0.99), off[-1], sys.argv[3]))
PY
