#!/usr/bin/env bash
# The suite's main job in one command: ssed serving a live demo feed (the
# time, the load average and a counter, as JSON, once a second). Prints the
# URL to open and what to try next; Ctrl-C stops it.
# Usage: demo.sh BUILD_DIR [LISTEN_ADDR]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/${1:-build}"
listen=${2:-127.0.0.1:8080}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
[ -x "$build/ssed" ] || { echo "ssed demo: $build/ssed is not built (run make)" >&2; exit 1; }

feed() {
    local n=0 load1
    while :; do
        n=$((n + 1))
        read -r load1 _ </proc/loadavg
        printf '{"n":%d,"time":"%s","load1":%s}\n' "$n" "$(date -u +%H:%M:%S)" "$load1"
        sleep 1
    done
}

# Once ssed says where it serves, say what to try.
tips() {
    local url="" i
    for i in $(seq 1 100); do
        url=$(sed -n 's/^\([0-9T:.Z-]* \)\{0,1\}ssed: serving \(http[^ ]*\).*/\2/p' "$log" | head -1)
        [ -n "$url" ] && break
        sleep 0.1
    done
    [ -n "$url" ] || return 0
    cat >&2 <<TIPS
ssed demo: open $url in a browser. In another terminal, try:
  $build/ssecat $url                  # the events as a browser sees them
  curl -N $url                        # the raw stream
  curl -d hi $url                     # publish an event
  echo hello | $build/ssepub --url $url   # publish with ssepub
Ctrl-C stops the demo.
TIPS
}

tips &
tips_pid=$!
feed | "$build/ssed" --listen "$listen" --replay 10 --retry 2s 2> >(tee "$log" >&2)
status=$?
# tee runs on its own: wait until it has written all ssed said to the log.
wait $! 2>/dev/null
kill "$tips_pid" 2>/dev/null
if grep -q 'Address already in use' "$log"; then
    echo "ssed demo: $listen is taken; pick another address with DEMO_LISTEN, e.g." >&2
    echo "  make demo DEMO_LISTEN=127.0.0.1:8081" >&2
fi
exit "$status"
