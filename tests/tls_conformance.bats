#!/usr/bin/env bats
# ssed's TLS as a scanner nobody on the project wrote sees it: testssl.sh
# (Debian's testssl package, installed by make deps) runs its
# vulnerability checks against a fresh ssed on 127.0.0.1 with an RSA
# certificate (the only kind with which RSA key exchange, ROBOT's way in,
# can be offered) and must report nothing. The fast openssl s_client checks
# of the same profile are in tls.bats.

load lib/helpers

setup() {
    if [[ "$("$SSED" --tls-cert /dev/null --tls-key /dev/null 2>&1)" == *"built without TLS"* ]]; then
        skip "this ssed was built without TLS (make TLS=0)"
    fi
    TESTSSL=$(command -v testssl || command -v testssl.sh) || skip "testssl.sh is not installed (make deps)"
    CERTS="$BATS_TEST_TMPDIR/certs"
    mkdir -p "$CERTS"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$CERTS/server.key" -out "$CERTS/server.pem" 2>/dev/null
}

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
}

# findings JSON: testssl's findings (--jsonfile, a flat list) worse than OK or INFO, one a line
# ("ID SEVERITY finding"); nothing when all is well. A WARN is a check
# that could not run, except engine_problem: Debian's openssl has no GOST
# engine, which none of these checks uses.
findings() {
    python3 - "$1" <<'EOF'
import json, sys
for f in json.load(open(sys.argv[1])):
    if f.get("severity") not in ("OK", "INFO") and f.get("id") != "engine_problem":
        print(f.get("id"), f.get("severity"), f.get("finding"))
EOF
}

@test "tls conformance: testssl.sh finds no vulnerability (ROBOT, LUCKY13, SWEET32, BEAST, RC4, FREAK, LOGJAM, POODLE, fallback)" {
    SSED_LISTEN=http://127.0.0.1:0 start_ssed --listen https://127.0.0.1:0 --tls-cert "$CERTS/server.pem" \
        --tls-key "$CERTS/server.key"
    wait_for_line "$SSED_ERR" 'serving https://127\.0\.0\.1:[0-9]+/' 10
    PORT=$(grep -oE 'serving https://127\.0\.0\.1:[0-9]+' "$SSED_ERR" | head -1 | sed 's/.*://')
    # The checks the cipher and protocol lists decide, in one run: its
    # start-up costs more than the checks. --nodns none keeps it
    # on 127.0.0.1 (an address, so nothing to resolve); /_ssed/health answers at once where / would stream.
    run timeout $((120 * SSETOOLS_WAIT_SCALE)) "$TESTSSL" --quiet --color 0 --warnings off --nodns none \
        --jsonfile "$BATS_TEST_TMPDIR/testssl.json" -BB -L -W -A -4 -F -J -O -Z \
        "https://127.0.0.1:$PORT/_ssed/health"
    echo "$output"
    [ -s "$BATS_TEST_TMPDIR/testssl.json" ]
    run findings "$BATS_TEST_TMPDIR/testssl.json"
    echo "$output"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    # Each check ran and said so.
    for id in ROBOT LUCKY13 SWEET32 BEAST RC4 FREAK LOGJAM POODLE_SSL fallback_SCSV; do
        grep -q "\"id\" *: *\"$id\"" "$BATS_TEST_TMPDIR/testssl.json" || { echo "no $id in testssl's report"; false; }
    done
}
