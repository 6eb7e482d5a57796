#!/usr/bin/env bash
# Subscriber connect rate with JWT verification next to without: a storm of
# BENCH_SUBSCRIBERS (10,000) subscribers, each its own connection, to ssed
# with no auth, with HS256, RS256 and ES256 tokens: every subscriber
# presenting the same token (a page load storm; ssed verifies it once and
# remembers it), and each its own HS256 token (every one verified). Prints
# the figures; target: HS256 within 2x of no auth. Usage: jwt_connect.sh
# BUILD_DIR
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build="$top/${1:-build}"
n=${BENCH_SUBSCRIBERS:-10000}
work=$(mktemp -d)
ssed_pid=
cleanup() {
    [ -z "$ssed_pid" ] || { kill "$ssed_pid" 2>/dev/null; wait "$ssed_pid" 2>/dev/null || true; }
    rm -rf "$work"
}
trap cleanup EXIT
"${CC:-cc}" -O2 -std=c11 -D_GNU_SOURCE -o "$work/connect_storm" "$top/tests/bench/connect_storm.c"
BATS_TEST_TMPDIR=$work
# shellcheck source=../lib/jwt_helpers.bash
. "$top/tests/lib/jwt_helpers.bash"
jwt_keys "$work"
claims="{\"exp\":$(now_plus 3600),\"ssed\":{\"subscribe\":[\"bench/*\"]}}"

# storm NAME TOKEN SSED-OPTIONS...: start ssed, run the storm, stop ssed.
storm() {
    local name=$1 token=$2
    shift 2
    "$build/ssed" -l 127.0.0.1:0 --no-stdin --keepalive 0 --max-clients $((n + 100)) "$@" 2>"$work/ssed.err" &
    ssed_pid=$!
    local i port=
    for i in $(seq 1 100); do
        port=$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/ssed.err" | head -1)
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { echo "ssed did not start: $(cat "$work/ssed.err")" >&2; exit 1; }
    printf '%-15s ' "$name"
    "$work/connect_storm" "$port" /bench/1 "$n" ${token:+"$token"}
    kill "$ssed_pid"
    wait "$ssed_pid" 2>/dev/null || true
    ssed_pid=
}

echo "== subscriber connect storm: $n subscribers (target: HS256 within 2x of no auth)"
storm none ""
storm HS256 "$(jwt_mint HS256 "$work/secret" "$claims")" --jwt-secret-file "$work/secret"
storm RS256 "$(jwt_mint RS256 "$work/rsa.pem" "$claims")" --jwt-key-file "$work/rsa.pub"
storm ES256 "$(jwt_mint ES256 "$work/ec.pem" "$claims")" --jwt-key-file "$work/ec.pub"
# Distinct tokens, minted by python3's hmac (openssl per token is too slow).
python3 - "$work/secret" "$n" "$(now_plus 3600)" >"$work/tokens" <<'PY'
import base64, hashlib, hmac, json, sys
secret = open(sys.argv[1], "rb").read().rstrip(b"\n")
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
for i in range(int(sys.argv[2])):
    body = b64(json.dumps({"exp": int(sys.argv[3]), "jti": str(i), "ssed": {"subscribe": ["bench/*"]}}).encode())
    sig = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    print(f"{head}.{body}.{b64(sig)}")
PY
storm HS256-distinct "@$work/tokens" --jwt-secret-file "$work/secret"
