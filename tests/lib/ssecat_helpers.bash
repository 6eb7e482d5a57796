# Helpers for ssecat's bats tests: the scripted test server, the request log
# it keeps, and checks on JSON output. Load after helpers.bash.

# wait_for_file FILE [SECONDS]
wait_for_file() {
    local file=$1 limit=$((${2:-10} * SSETOOLS_WAIT_SCALE)) i
    for i in $(seq 1 $((limit * 20))); do
        [ -s "$file" ] && return 0
        sleep 0.05
    done
    echo "timed out after ${limit}s waiting for $file" >&2
    return 1
}

# start_sse_server SCRIPT_JSON: start tests/servers/sse_test_server.py with this
# script (see the server's docstring); sets PORT and URL (ending in /stream).
start_sse_server() {
    local dir=$BATS_TEST_TMPDIR
    printf '%s' "$1" >"$dir/script.json"
    rm -f "$dir/port" "$dir/requests.log"
    start_bg "$dir/server.out" "$dir/server.err" python3 "$TOP/tests/servers/sse_test_server.py" \
        --port-file "$dir/port" --log "$dir/requests.log" "$dir/script.json"
    wait_for_file "$dir/port" 10 || { cat "$dir/server.err" >&2; return 1; }
    PORT=$(cat "$dir/port")
    URL="http://127.0.0.1:$PORT/stream"
}

# request_count: how many requests the test server has seen.
request_count() {
    [ -f "$BATS_TEST_TMPDIR/requests.log" ] || { echo 0; return; }
    wc -l <"$BATS_TEST_TMPDIR/requests.log" | tr -d ' '
}

# request N FIELD [HEADER]: a field of request N (0-based): method, path,
# body, or header NAME (lower case; empty if absent).
request() {
    python3 - "$BATS_TEST_TMPDIR/requests.log" "$@" <<'PY'
import json, sys
log, n, field = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = [json.loads(l) for l in open(log, encoding="utf-8")][n]
print(r["headers"].get(sys.argv[4], "") if field == "header" else r[field])
PY
}

# json_lines_valid FILE: every line is one JSON object, and the file is
# valid UTF-8.
json_lines_valid() {
    python3 - "$1" <<'PY'
import json, sys
raw = open(sys.argv[1], "rb").read()
text = raw.decode("utf-8")  # raises on invalid UTF-8
for line in text.splitlines():
    assert isinstance(json.loads(line), dict), line
PY
}

# events_of FILE: the JSON Lines output without the time key, one compact
# object per line, for comparing whole outputs.
events_of() {
    python3 - "$1" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    o.pop("time", None)
    print(json.dumps(o, ensure_ascii=False, sort_keys=True))
PY
}
