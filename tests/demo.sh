#!/usr/bin/env bash
# The suite's main job in one command: ssed serving a live demo feed (the
# time, the load average and a counter, as JSON, once a second). Prints the
# URL to open; Ctrl-C stops it. Usage: demo.sh BUILD_DIR [LISTEN_ADDR]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/${1:-build}"
listen=${2:-127.0.0.1:8080}
echo "ssed demo: open the URL below in a browser, or run: curl -N <URL>  (Ctrl-C stops)" >&2
n=0
while :; do
    n=$((n + 1))
    read -r load1 _ </proc/loadavg
    printf '{"n":%d,"time":"%s","load1":%s}\n' "$n" "$(date -u +%H:%M:%S)" "$load1"
    sleep 1
done | exec "$build/ssed" --listen "$listen" --replay 10 --retry 2s
