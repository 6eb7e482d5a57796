#!/usr/bin/env bats
# ssed over TLS (--tls-cert, --tls-key): real clients (curl, ssecat, npm
# eventsource) over HTTPS, mixed plaintext and TLS listeners, certificate
# reload on SIGHUP, bad certificates refused at start, and hostile clients
# on the TLS port. Every test makes its own certificates with openssl.

load lib/helpers

setup() {
    if [[ "$("$SSED" --tls-cert /dev/null --tls-key /dev/null 2>&1)" == *"built without TLS"* ]]; then
        [[ "$BATS_TEST_DESCRIPTION" == *"make TLS=0"* ]] || skip "this ssed was built without TLS (make TLS=0)"
    fi
    CERTS="$BATS_TEST_TMPDIR/certs"
    mkdir -p "$CERTS"
}

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
}

# make_cert NAME CN: a self-signed certificate for 127.0.0.1 and localhost,
# valid from now for two days, in $CERTS/NAME.pem with its key in NAME.key.
make_cert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=$2" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$CERTS/$1.key" -out "$CERTS/$1.pem" 2>/dev/null
}

# make_rsa_cert NAME CN: as make_cert with an RSA key, the only kind with
# which RSA key exchange (ROBOT) can be offered at all.
make_rsa_cert() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$2" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$CERTS/$1.key" -out "$CERTS/$1.pem" 2>/dev/null
}

# handshake S_CLIENT_OPTIONS...: what a handshake with those openssl
# s_client options gets from ssed: "TLSv1.2 CIPHER", or "refused".
# (SECLEVEL=0 lets the client offer what ssed must refuse itself.)
handshake() {
    local out
    out=$(timeout $((5 * SSETOOLS_WAIT_SCALE)) openssl s_client -brief -connect "127.0.0.1:$PORT" "$@" </dev/null 2>&1)
    if [[ "$out" == *"CONNECTION ESTABLISHED"* ]]; then
        echo "$(sed -n 's/^Protocol version: //p' <<<"$out") $(sed -n 's/^Ciphersuite: //p' <<<"$out")"
    else
        echo refused
    fi
}

# make_dated_cert NAME START END: a self-signed certificate valid only from
# START to END (YYYYMMDDHHMMSSZ), made with `openssl ca`, which takes dates.
make_dated_cert() {
    local ca="$CERTS/ca-$1"
    mkdir -p "$ca"
    : >"$ca/index.txt"
    echo 01 >"$ca/serial"
    printf '[ca]\ndefault_ca = d\n[d]\ndatabase = %s\nnew_certs_dir = %s\nserial = %s\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n' \
        "$ca/index.txt" "$ca" "$ca/serial" >"$ca/ca.cnf"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$1" \
        -keyout "$CERTS/$1.key" -out "$ca/req.csr" 2>/dev/null
    openssl ca -batch -selfsign -notext -config "$ca/ca.cnf" -keyfile "$CERTS/$1.key" -in "$ca/req.csr" \
        -out "$CERTS/$1.pem" -startdate "$2" -enddate "$3" 2>/dev/null
}

# start_tls_ssed [OPTIONS...]: like start_ssed, with TLS on 127.0.0.1:0
# (the certificate in $CERTS/server.pem). Sets SSED_PID, PORT, URL (https).
start_tls_ssed() {
    FEED="$BATS_TEST_TMPDIR/feed"
    SSED_ERR="$BATS_TEST_TMPDIR/ssed.err"
    rm -f "$FEED"
    mkfifo "$FEED"
    "$SSED" -l 127.0.0.1:0 --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key" "$@" \
        <"$FEED" >"$BATS_TEST_TMPDIR/ssed.out" 2>"$SSED_ERR" 3>&- 8>&- 9>&- &
    SSED_PID=$!
    echo "$SSED_PID" >>"$BATS_TEST_TMPDIR/pids"
    exec 8>"$FEED"
    wait_for_line "$SSED_ERR" 'serving https://127\.0\.0\.1:[0-9]+/' 10
    PORT=$(grep -oE 'serving https://127\.0\.0\.1:[0-9]+' "$SSED_ERR" | head -1 | sed 's/.*://')
    URL="https://127.0.0.1:$PORT"
    # curl (and so subscribe and stat_of) trusts the test's certificate.
    export CURL_CA_BUNDLE="$CERTS/server.pem"
}

# served_subject: the subject of the certificate a new connection gets.
served_subject() {
    timeout 10 openssl s_client -connect "127.0.0.1:$PORT" </dev/null 2>/dev/null | openssl x509 -noout -subject
}

@test "tls: curl over HTTPS subscribes, publishes, resumes with Last-Event-ID, gets the viewer page and stats; ALPN gives http/1.1 to a client asking for it" {
    make_cert server localhost
    start_tls_ssed
    grep -q 'TLS certificate: /CN=localhost, valid until' "$SSED_ERR"
    subscribe first /
    echo one >&8
    run curl -s --max-time 5 -X POST --data-binary $'two\nthree' "$URL/"
    [ "$status" -eq 0 ]
    wait_for_data "$BATS_TEST_TMPDIR/first" 3
    [ "$(data_of "$BATS_TEST_TMPDIR/first")" = $'one\ntwo\nthree' ]
    local first_id
    first_id=$(grep -m1 '^id:' "$BATS_TEST_TMPDIR/first" | sed 's/^id: *//')
    subscribe again / -H "Last-Event-ID: $first_id"
    wait_for_data "$BATS_TEST_TMPDIR/again" 2
    [ "$(data_of "$BATS_TEST_TMPDIR/again")" = $'two\nthree' ]
    run curl -s --max-time 5 -H 'Accept: text/html' "$URL/"
    [[ "$output" == *'src="_ssed/ui.js"'* ]]
    run curl -s --max-time 5 "$URL/_ssed/stats"
    [[ "$output" == *'"subscribers":2'* ]]
    run curl -sv --max-time 5 --http1.1 -o /dev/null "$URL/_ssed/health"
    [[ "$output" == *"ALPN: server accepted http/1.1"* ]]
    [[ "$output" == *"TLSv1.3"* ]]
}

@test "tls: only TLS 1.2 and 1.3 are spoken" {
    make_cert server localhost
    start_tls_ssed
    run curl -s --max-time 5 --tlsv1.2 --tls-max 1.2 "$URL/_ssed/health"
    [ "$status" -eq 0 ]
    run curl -s --max-time 5 --tlsv1.1 --tls-max 1.1 "$URL/_ssed/health"
    [ "$status" -ne 0 ]
}

@test "tls: the default profile refuses TLS 1.0 and 1.1, RSA key exchange and CBC, and takes ECDHE with AES-GCM or ChaCha20 and TLS 1.3" {
    make_rsa_cert server localhost
    start_tls_ssed
    [ "$(handshake -tls1 -cipher DEFAULT@SECLEVEL=0)" = refused ]
    [ "$(handshake -tls1_1 -cipher DEFAULT@SECLEVEL=0)" = refused ]
    # RSA key exchange (ROBOT, no forward secrecy), with CBC and with GCM.
    [ "$(handshake -tls1_2 -cipher AES128-SHA)" = refused ]
    [ "$(handshake -tls1_2 -cipher AES256-GCM-SHA384)" = refused ]
    # CBC with HMAC (LUCKY13), even with ECDHE.
    [ "$(handshake -tls1_2 -cipher ECDHE-RSA-AES128-SHA)" = refused ]
    [ "$(handshake -tls1_2 -cipher ECDHE-RSA-AES256-SHA384)" = refused ]
    [ "$(handshake -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256)" = "TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256" ]
    [ "$(handshake -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384)" = "TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384" ]
    [ "$(handshake -tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305)" = "TLSv1.2 ECDHE-RSA-CHACHA20-POLY1305" ]
    # The client's order chooses among them.
    [ "$(handshake -tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256)" = \
        "TLSv1.2 ECDHE-RSA-CHACHA20-POLY1305" ]
    [[ "$(handshake -tls1_3)" == "TLSv1.3 TLS_"* ]]
    # An ECDSA certificate gets the ECDSA half of the list.
    kill -TERM "$SSED_PID"
    wait_for_exit "$SSED_PID"
    make_cert server localhost
    start_tls_ssed
    [ "$(handshake -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384)" = "TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384" ]
    [ "$(handshake -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA)" = refused ]
}

@test "tls: --tls-ciphers and --tls-ciphersuites replace the lists, in ssed's order; a bad list is a usage error naming the option" {
    make_rsa_cert server localhost
    start_tls_ssed --tls-ciphers 'ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-SHA' \
        --tls-ciphersuites TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384
    # ssed's order now, whatever the client prefers.
    [ "$(handshake -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305)" = \
        "TLSv1.2 ECDHE-RSA-CHACHA20-POLY1305" ]
    [ "$(handshake -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256)" = refused ]
    # What the operator chose is honoured, CBC included.
    [ "$(handshake -tls1_2 -cipher ECDHE-RSA-AES128-SHA)" = "TLSv1.2 ECDHE-RSA-AES128-SHA" ]
    [ "$(handshake -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256)" = \
        "TLSv1.3 TLS_CHACHA20_POLY1305_SHA256" ]
    [ "$(handshake -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256)" = refused ]
    local tls=(--tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key")
    run "$SSED" "${tls[@]}" --tls-ciphers 'ECDHE-RSA-AES128-GCM-SHA256:NO-SUCH-CIPHER'
    [ "$status" -eq 2 ]
    [[ "$output" == *"--tls-ciphers: 'NO-SUCH-CIPHER' names no TLS 1.2 cipher"* ]]
    run "$SSED" "${tls[@]}" --tls-ciphers TLS_AES_128_GCM_SHA256
    [ "$status" -eq 2 ]
    [[ "$output" == *"--tls-ciphers: "*"(TLS 1.3 suites go in --tls-ciphersuites)"* ]]
    run "$SSED" "${tls[@]}" --tls-ciphers '!ALL'
    [ "$status" -eq 2 ]
    [[ "$output" == *"--tls-ciphers: '!ALL' leaves no TLS 1.2 cipher"* ]]
    run "$SSED" "${tls[@]}" --tls-ciphersuites TLS_AES_128_GCM_SHA256:TLS_NO_SUCH
    [ "$status" -eq 2 ]
    [[ "$output" == *"--tls-ciphersuites: 'TLS_NO_SUCH' is not a TLS 1.3 suite"* ]]
    run "$SSED" --tls-ciphers HIGH
    [ "$status" -eq 2 ]
    [[ "$output" == *"--tls-ciphers: needs --tls-cert"* ]]
}

@test "tls: large events and a large streamed publish arrive whole over TLS" {
    make_cert server localhost
    start_tls_ssed --max-pending 4MiB
    subscribe big /
    # 300 lines of 5000 bytes: 1.5 MB in one chunked body, read by ssed in
    # TLS records, and written to the subscriber in many records.
    python3 -c 'import sys
for i in range(300): sys.stdout.write("%04d" % i + "x" * 4996 + "\n")' >"$BATS_TEST_TMPDIR/body"
    run curl -s --max-time 30 -H 'Transfer-Encoding: chunked' \
        --data-binary @"$BATS_TEST_TMPDIR/body" "$URL/"
    [ "$status" -eq 0 ]
    wait_for_data "$BATS_TEST_TMPDIR/big" 300 20
    [ "$(data_of "$BATS_TEST_TMPDIR/big" | cut -c1-4 | tr '\n' ' ')" = "$(seq -f %04g 0 299 | tr '\n' ' ')" ]
    [ "$(data_of "$BATS_TEST_TMPDIR/big" | awk '{ n += length($0) } END { print n }')" -eq 1500000 ]
}

@test "tls: ssecat reads an HTTPS stream with --cacert and with --insecure, and refuses an unknown certificate" {
    make_cert server localhost
    start_tls_ssed
    start_bg "$BATS_TEST_TMPDIR/ca.out" "$BATS_TEST_TMPDIR/ca.err" "$SSECAT" --cacert "$CERTS/server.pem" -n 2 "$URL/"
    local ca_pid=$BG_PID
    start_bg "$BATS_TEST_TMPDIR/k.out" "$BATS_TEST_TMPDIR/k.err" "$SSECAT" -k -n 2 "$URL/"
    local k_pid=$BG_PID
    wait_for_stat subscribers -ge 2
    printf 'alpha\nbeta\n' >&8
    wait_for_exit "$ca_pid" 15
    [ "$EXIT_STATUS" -eq 0 ]
    wait_for_exit "$k_pid" 15
    [ "$EXIT_STATUS" -eq 0 ]
    [ "$(cat "$BATS_TEST_TMPDIR/ca.out")" = $'alpha\nbeta' ]
    [ "$(cat "$BATS_TEST_TMPDIR/k.out")" = $'alpha\nbeta' ]
    run timeout 15 "$SSECAT" --max-retries 0 -n 1 "$URL/"
    [ "$status" -ne 0 ]
    [[ "$output" == *"certificate"* ]]
}

@test "tls: the npm eventsource package receives events over HTTPS" {
    [ -d "$TOP/tests/node_modules/eventsource" ] || skip "npm eventsource is not installed (make deps)"
    make_cert server localhost
    start_tls_ssed
    NODE_EXTRA_CA_CERTS="$CERTS/server.pem" start_bg "$BATS_TEST_TMPDIR/es.out" "$BATS_TEST_TMPDIR/es.err" \
        timeout 30 node "$TOP/tests/lib/es_client.mjs" "$URL/" 2
    local es_pid=$BG_PID
    wait_for_stat subscribers -ge 1
    printf 'first\nsecond\n' >&8
    wait_for_exit "$es_pid" 30
    cat "$BATS_TEST_TMPDIR/es.err"
    [ "$EXIT_STATUS" -eq 0 ]
    [[ "$(cat "$BATS_TEST_TMPDIR/es.out")" == *'"data":"first"'*'"data":"second"'* ]]
}

@test "tls: plaintext and TLS listeners side by side: http:// and https:// choose, an address without a scheme follows --tls-cert" {
    make_cert server localhost
    local plain_port tls_port
    plain_port=$(free_port)
    tls_port=$(free_port)
    start_tls_ssed -l "http://127.0.0.1:$plain_port" -l "https://127.0.0.1:$tls_port"
    grep -q "serving http://127.0.0.1:$plain_port/" "$SSED_ERR"
    grep -q "serving https://127.0.0.1:$tls_port/" "$SSED_ERR"
    subscribe over_tls /
    local saved_url=$URL
    URL="http://127.0.0.1:$plain_port"
    subscribe over_plain /
    URL="https://127.0.0.1:$tls_port"
    subscribe forced_tls /
    URL=$saved_url
    echo shared >&8
    wait_for_data "$BATS_TEST_TMPDIR/over_tls" 1
    wait_for_data "$BATS_TEST_TMPDIR/over_plain" 1
    wait_for_data "$BATS_TEST_TMPDIR/forced_tls" 1
    [ "$(data_of "$BATS_TEST_TMPDIR/over_plain")" = shared ]
    [ "$(data_of "$BATS_TEST_TMPDIR/forced_tls")" = shared ]
    # Each port speaks only what it says.
    run curl -s --max-time 5 "https://127.0.0.1:$plain_port/_ssed/health"
    [ "$status" -ne 0 ]
    run curl -s --max-time 5 "http://127.0.0.1:$tls_port/_ssed/health"
    [ "$status" -ne 0 ]
}

@test "tls: SIGHUP serves a renewed certificate to new connections while open streams go on; a broken one is refused and the old kept" {
    make_cert server first.example
    make_cert renewed second.example
    start_tls_ssed
    export CURL_CA_BUNDLE=
    subscribe before / -k
    [[ "$(served_subject)" == *"CN = first.example"* ]]
    cp "$CERTS/renewed.pem" "$CERTS/server.pem"
    cp "$CERTS/renewed.key" "$CERTS/server.key"
    kill -HUP "$SSED_PID"
    wait_for_line "$SSED_ERR" 'SIGHUP: TLS certificate reloaded for new connections: /CN=second.example' 10
    [[ "$(served_subject)" == *"CN = second.example"* ]]
    echo after-reload >&8
    wait_for_data "$BATS_TEST_TMPDIR/before" 1
    [ "$(data_of "$BATS_TEST_TMPDIR/before")" = after-reload ]
    # A half-written renewal: the certificate no longer matches the key.
    make_cert other third.example
    cp "$CERTS/other.pem" "$CERTS/server.pem"
    kill -HUP "$SSED_PID"
    wait_for_line "$SSED_ERR" 'SIGHUP: keeping the TLS certificate in use: --tls-key .*server.key: does not match the certificate' 10
    [[ "$(served_subject)" == *"CN = second.example"* ]]
    kill -0 "$SSED_PID"
    echo still-streaming >&8
    wait_for_data "$BATS_TEST_TMPDIR/before" 2
    run curl -s --max-time 5 -k "$URL/_ssed/health"
    [ "$status" -eq 0 ]
}

# refused STATUS MESSAGE OPTIONS...: ssed with OPTIONS on 127.0.0.1:0
# stops at start with STATUS and says MESSAGE.
refused() {
    local want=$1 message=$2
    shift 2
    run "$SSED" -l 127.0.0.1:0 "$@"
    echo "$output"
    [ "$status" -eq "$want" ]
    [[ "$output" == *"$message"* ]]
}

@test "tls: bad certificates and keys stop ssed at start with exit 1 and say why; missing halves are usage errors" {
    make_cert server localhost
    make_cert other other
    make_dated_cert expired 20200101000000Z 20200102000000Z
    make_dated_cert future 20990101000000Z 20990102000000Z
    refused 1 "ssed: --tls-cert $CERTS/missing.pem: No such file or directory" \
        --tls-cert "$CERTS/missing.pem" --tls-key "$CERTS/server.key"
    refused 1 "ssed: --tls-key $CERTS/missing.key: No such file or directory" \
        --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/missing.key"
    refused 1 "--tls-key $CERTS/other.key: does not match the certificate in $CERTS/server.pem" \
        --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/other.key"
    refused 1 "the certificate expired on 2020-01-02 00:00:00 UTC" \
        --tls-cert "$CERTS/expired.pem" --tls-key "$CERTS/expired.key"
    refused 1 "the certificate is not valid before 2099-01-01 00:00:00 UTC" \
        --tls-cert "$CERTS/future.pem" --tls-key "$CERTS/future.key"
    refused 1 "not a PEM certificate chain" --tls-cert "$CERTS/server.key" --tls-key "$CERTS/server.key"
    refused 1 "not a usable PEM private key" --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.pem"
    refused 2 "--tls-cert: needs --tls-key" --tls-cert "$CERTS/server.pem"
    refused 2 "--tls-key: needs --tls-cert" --tls-key "$CERTS/server.key"
    run "$SSED" -l https://127.0.0.1:0
    [ "$status" -eq 2 ]
    [[ "$output" == *"--listen https://127.0.0.1:0: needs --tls-cert and --tls-key"* ]]
}

@test "tls: built with make TLS=0, --tls-cert is refused at start with exit 1" {
    [[ "$("$SSED" --tls-cert /dev/null --tls-key /dev/null 2>&1)" == *"built without TLS"* ]] ||
        skip "this ssed has TLS"
    run "$SSED" -l 127.0.0.1:0 --tls-cert cert.pem --tls-key key.pem
    [ "$status" -eq 1 ]
    [[ "$output" == *"ssed: --tls-cert cert.pem: this ssed was built without TLS (make TLS=0)"* ]]
}

@test "tls: plaintext HTTP, a garbage ClientHello and a stalled handshake on the TLS port are closed; other clients are unaffected" {
    make_cert server localhost
    start_tls_ssed --header-timeout 1s -v
    subscribe steady /
    run python3 "$TOP/tests/lib/tls_hostile.py" "$PORT" plaintext 10
    echo "$output"
    [ "$status" -eq 0 ]
    run python3 "$TOP/tests/lib/tls_hostile.py" "$PORT" garbage 10
    echo "$output"
    [ "$status" -eq 0 ]
    wait_for_line "$SSED_ERR" 'TLS handshake with 127.0.0.1:[0-9]+ failed: http request' 10
    # Five stalled handshakes; meanwhile a new client is served at once.
    local i stall_pids=()
    for i in 1 2 3 4 5; do
        start_bg "$BATS_TEST_TMPDIR/stall$i.out" "$BATS_TEST_TMPDIR/stall$i.err" \
            python3 "$TOP/tests/lib/tls_hostile.py" "$PORT" stall 20
        stall_pids+=("$BG_PID")
    done
    run curl -s --max-time 5 "$URL/_ssed/health"
    [ "$status" -eq 0 ]
    echo during-stall >&8
    for i in 0 1 2 3 4; do
        wait_for_exit "${stall_pids[$i]}" 30
        cat "$BATS_TEST_TMPDIR/stall$((i + 1)).out"
        [ "$EXIT_STATUS" -eq 0 ]
    done
    wait_for_line "$SSED_ERR" 'closing: no complete request head within --header-timeout' 10
    [ "$(stat_of header_timeouts)" -ge 5 ]
    echo after-stall >&8
    wait_for_data "$BATS_TEST_TMPDIR/steady" 2
    [ "$(data_of "$BATS_TEST_TMPDIR/steady")" = $'during-stall\nafter-stall' ]
    kill -0 "$SSED_PID"
}

@test "tls: a subscriber that reads slowly gets every event whole and in order in a valid chunked body (TLS writes stop short and are repeated)" {
    make_cert server localhost
    start_tls_ssed --max-pending 8MiB
    start_bg "$BATS_TEST_TMPDIR/slow.out" "$BATS_TEST_TMPDIR/slow.err" \
        python3 "$TOP/tests/lib/tls_slow_reader.py" "$PORT" 3000 60
    local slow_pid=$BG_PID
    for i in $(seq 1 100); do
        [ "$(stat_of subscribers)" -ge 1 ] && break
        sleep 0.1
    done
    python3 -c 'import sys
for i in range(3000): sys.stdout.write("%d %s\n" % (i, "y" * 1000))' >&8
    wait_for_exit "$slow_pid" 60
    cat "$BATS_TEST_TMPDIR/slow.out" "$BATS_TEST_TMPDIR/slow.err"
    [ "$EXIT_STATUS" -eq 0 ]
    [ "$(cat "$BATS_TEST_TMPDIR/slow.out")" = "ok 3000 events" ]
}

@test "tls: sockets systemd passes named https speak TLS, and one named http plaintext, beside --tls-cert" {
    command -v systemd-socket-activate >/dev/null || skip "systemd-socket-activate is not installed (Debian: systemd)"
    make_cert server localhost
    export CURL_CA_BUNDLE="$CERTS/server.pem"
    local tls_port plain_port
    tls_port=$(free_port)
    plain_port=$(free_port)
    start_bg "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" \
        systemd-socket-activate -l "127.0.0.1:$tls_port" --fdname=https -l "127.0.0.1:$plain_port" --fdname=http \
        "$SSED" --no-stdin --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key"
    wait_for_line "$BATS_TEST_TMPDIR/err" '^Listening on 127.0.0.1:'"$plain_port" 10
    # systemd-socket-activate starts ssed on the first connection.
    run curl -s --max-time 10 "https://127.0.0.1:$tls_port/_ssed/health"
    [ "$status" -eq 0 ]
    wait_for_line "$BATS_TEST_TMPDIR/err" "serving https://127.0.0.1:$tls_port/ \\(https\\)" 10
    wait_for_line "$BATS_TEST_TMPDIR/err" "serving http://127.0.0.1:$plain_port/ \\(http\\)" 10
    run curl -s --max-time 10 "http://127.0.0.1:$plain_port/_ssed/health"
    [ "$status" -eq 0 ]
    run curl -s --max-time 10 "http://127.0.0.1:$tls_port/_ssed/health"
    [ "$status" -ne 0 ]
}

# cpu_ticks PID: the process's user and system time, in clock ticks.
cpu_ticks() {
    awk '{print $14 + $15}' "/proc/$1/stat"
}

@test "tls: a publisher stalled in the middle of a TLS record costs no CPU while it waits" {
    make_cert server localhost
    start_tls_ssed
    start_bg "$BATS_TEST_TMPDIR/stall" "$BATS_TEST_TMPDIR/stall.err" \
        python3 "$TOP/tests/lib/tls_stall_body.py" "$PORT" 60
    wait_for_line "$BATS_TEST_TMPDIR/stall" '^stalled$' 20
    # A loop that read again and again for the half record would burn a
    # core; waiting in epoll burns nothing. A window of 3 s: 300 ticks of
    # spinning at most, under a tenth of that when waiting, even when
    # other processes load the machine.
    local before after
    before=$(cpu_ticks "$SSED_PID")
    timeout 3 tail -f /dev/null || true
    after=$(cpu_ticks "$SSED_PID")
    echo "ssed used $((after - before)) ticks in 3 s"
    [ $((after - before)) -lt 30 ]
    run curl -s --max-time 10 "$URL/_ssed/health"
    [ "$status" -eq 0 ]
}

@test "tls: a stream ssed ends at shutdown ends with the last chunk and close_notify, not a cut connection" {
    make_cert server localhost
    start_tls_ssed
    start_bg "$BATS_TEST_TMPDIR/end" "$BATS_TEST_TMPDIR/end.err" python3 "$TOP/tests/lib/tls_stream_end.py" "$PORT" 30
    local client=$BG_PID
    wait_for_line "$BATS_TEST_TMPDIR/end" '^streaming$' 20
    kill -TERM "$SSED_PID"
    wait_for_exit "$SSED_PID" 30
    wait_for_exit "$client" 30
    cat "$BATS_TEST_TMPDIR/end" "$BATS_TEST_TMPDIR/end.err"
    grep -qx 'last chunk' "$BATS_TEST_TMPDIR/end"
    grep -qx close_notify "$BATS_TEST_TMPDIR/end"
}

# expire_with_record_pending [shutdown]: a TLS subscriber stops reading
# with a record owed, its token expires, (with "shutdown": ssed is told to
# stop then), and the client reads everything: whole records, ': token
# expired' and a close_notify.
expire_with_record_pending() {
    [[ "$("$SSED" --jwt-secret-file /dev/null 2>&1)" != *"built without JWT support"* ]] || skip "this ssed was built without JWT support (make JWT=0)"
    load lib/jwt_helpers
    make_cert server localhost
    head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$CERTS/secret"
    start_tls_ssed -v --jwt-secret-file "$CERTS/secret" --jwt-leeway 0 --keepalive 0 --channel a --max-pending 64MiB \
        --header-timeout 120s --shutdown-timeout 120s
    # Long enough for the client to connect and the flood below to fill the
    # socket first, even on a loaded machine (a TLS connect took 10 s there);
    # then the test waits for ssed's expiry, not for the clock.
    local token go="$BATS_TEST_TMPDIR/go"
    token=$(jwt_mint HS256 "$CERTS/secret" "{\"exp\":$(now_plus $((4 + 4 * SSETOOLS_WAIT_SCALE))),\"ssed\":{\"subscribe\":[\"a\"]}}")
    start_bg "$BATS_TEST_TMPDIR/end" "$BATS_TEST_TMPDIR/end.err" \
        python3 "$TOP/tests/lib/tls_expiry_reader.py" "$PORT" /a "$token" "$go" 60
    local client=$BG_PID
    wait_for_line "$BATS_TEST_TMPDIR/end" '^streaming$' 20
    # 8 MB the client does not read: ssed's socket fills and a TLS write
    # waits, its record owed, when the token expires (the FIFO takes the
    # last of it only once ssed has read the rest).
    head -c 8000000 /dev/zero | tr '\0' x | fold -w 1000 >&8
    wait_for_line "$SSED_ERR" 'token expired' 30
    if [ "${1:-}" = shutdown ]; then
        kill -TERM "$SSED_PID"
        wait_for_line "$SSED_ERR" 'received: closing streams' 10
    fi
    touch "$go"
    wait_for_exit "$client" 60
    cat "$BATS_TEST_TMPDIR/end" "$BATS_TEST_TMPDIR/end.err"
    grep -qx 'records ok' "$BATS_TEST_TMPDIR/end"
    grep -qx notice "$BATS_TEST_TMPDIR/end"
    grep -qE '^events [0-9]+ whole$' "$BATS_TEST_TMPDIR/end"
    grep -qx 'last chunk' "$BATS_TEST_TMPDIR/end" # the chunked body ends after the notice: 0\r\n\r\n
    grep -qx close_notify "$BATS_TEST_TMPDIR/end"
}

@test "tls: a token that expires while a TLS record is pending still ends the stream with whole records, ': token expired', the last chunk and close_notify" {
    expire_with_record_pending
    kill -0 "$SSED_PID"
}

@test "tls: a shutdown while a stream whose token expired is still ending lets it end the same way" {
    expire_with_record_pending shutdown
    wait_for_exit "$SSED_PID" 30
}
