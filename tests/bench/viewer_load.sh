#!/usr/bin/env bash
# The viewer page's speed targets, in headless Chromium: a 10,000-event
# burst shown within 3 s; at 1,000 events/s for SECONDS the page within 1 s
# of the stream; Pause and a text filter within 200 ms; Resume after 50,000
# events within 3 s. Prints each figure and fails on a missed target; make
# check runs the same page test and only prints them.
# Usage: viewer_load.sh BUILD_DIR [SECONDS]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "== viewer under load (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
VIEWER_HOLD_TIMES=1 exec node "$top/tests/browser/viewer_load_test.mjs" "$build/ssed" "$port" "${2:-30}"
