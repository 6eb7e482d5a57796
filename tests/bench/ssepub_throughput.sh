#!/usr/bin/env bash
# Publish throughput into ssed with one subscriber attached: `seq N | ssepub`
# next to one `curl -d` per event. Prints events per second for both.
# Usage: ssepub_throughput.sh BUILD_DIR [EVENTS] [CURL_EVENTS]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build="$top/${1:-build}"
events=${2:-1000000}
curl_events=${3:-2000}
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

"$build/ssed" -l 127.0.0.1:0 --no-stdin --history 10 --max-pending 256M 2>"$work/err" &
pids+=($!)
for _ in $(seq 1 100); do grep -q 'serving http' "$work/err" && break; sleep 0.05; done
url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+/' "$work/err" | head -1)
curl -sN --max-time 600 "$url" >/dev/null &
pids+=($!)
sleep 0.3

rate() { awk -v n="$1" -v s="$2" -v e="$3" 'BEGIN { printf "%.0f", n / ((e - s) / 1e9) }'; }

start=$(date +%s%N)
seq "$events" | "$build/ssepub" -q -u "$url"
end=$(date +%s%N)
ssepub_rate=$(rate "$events" "$start" "$end")

start=$(date +%s%N)
for i in $(seq "$curl_events"); do curl -s -o /dev/null -d "$i" "$url"; done
end=$(date +%s%N)
curl_rate=$(rate "$curl_events" "$start" "$end")

printf '%-40s %12s events/s\n' "seq $events | ssepub" "$ssepub_rate"
printf '%-40s %12s events/s\n' "one curl -d per event ($curl_events)" "$curl_rate"
awk -v a="$ssepub_rate" -v b="$curl_rate" 'BEGIN { printf "ssepub / curl-per-event: %.0fx (target >= 100x)\n", a / b }'
