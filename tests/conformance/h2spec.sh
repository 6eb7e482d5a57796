#!/bin/sh
# h2spec (github.com/summerwind/h2spec, not packaged in Debian) against a
# fresh ssed, over h2c and over TLS: every case must pass. Optional: when
# h2spec is not on PATH it says so and exits 0. h2spec asks for
# /_ssed/stats, which answers at once with a body longer than 5 bytes (the
# flow-control cases need one); / would stream for ever.
#
#   tests/conformance/h2spec.sh            uses build/ssed
#   SSETOOLS_BUILD=build-san tests/conformance/h2spec.sh
#
# Exit status: 0 all passed (or skipped), 1 a case failed or ssed would
# not start.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
ssed=${SSETOOLS_BUILD:-$top/build}/ssed
scale=${SSETOOLS_WAIT_SCALE:-3}
if ! command -v h2spec >/dev/null 2>&1; then
    echo "h2spec.sh: skipped: h2spec is not on PATH (tests/README.md says how to build it)"
    exit 0
fi
[ -x "$ssed" ] || { echo "h2spec.sh: $ssed is not built (make)" >&2; exit 1; }

dir=$(mktemp -d)
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null ||
    { echo "h2spec.sh: openssl could not make a certificate" >&2; exit 1; }
"$ssed" --no-stdin -l http://127.0.0.1:0 -l https://127.0.0.1:0 --tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem" \
    2>"$dir/ssed.err" &
pid=$!

# The ports ssed chose, from its log, within 10 s (times the scale).
tries=$((10 * scale * 20))
while [ "$(grep -c 'serving https\{0,1\}://127\.0\.0\.1:' "$dir/ssed.err")" -lt 2 ]; do
    tries=$((tries - 1))
    if [ "$tries" -le 0 ] || ! kill -0 "$pid" 2>/dev/null; then
        echo "h2spec.sh: ssed did not start:" >&2
        cat "$dir/ssed.err" >&2
        exit 1
    fi
    sleep 0.05
done
h2c_port=$(sed -n 's|.*serving http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$dir/ssed.err")
tls_port=$(sed -n 's|.*serving https://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$dir/ssed.err")

status=0
for run in "h2c -p $h2c_port" "TLS -t -k -p $tls_port"; do
    name=${run%% *}
    # shellcheck disable=SC2086
    h2spec -h 127.0.0.1 ${run#* } -P /_ssed/stats -o $((2 * scale)) >"$dir/h2spec.out" 2>&1
    rc=$?
    echo "h2spec.sh: $name: $(tail -n 1 "$dir/h2spec.out")"
    if [ "$rc" -ne 0 ]; then
        sed -n '/^Failures:/,$p' "$dir/h2spec.out"
        status=1
    fi
done
exit "$status"
