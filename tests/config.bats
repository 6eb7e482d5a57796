#!/usr/bin/env bats
# ssed --config FILE: options one per line, checked by the same table as the
# command line, which overrides them; every problem names the file and line.

load lib/helpers

teardown() {
    stop_all
}

# conf TEXT: write TEXT (printf's format) to $CONF.
conf() {
    CONF="$BATS_TEST_TMPDIR/ssed.conf"
    # shellcheck disable=SC2059
    printf -- "$@" >"$CONF"
}

@test "config: options, comments, blank lines and blanks around values; the command line wins" {
    sock="$BATS_TEST_TMPDIR/file.sock"
    conf '# ssed for the tests\n\n  listen   unix:%s  \r\nchannel news\n\t# indented comment\ntoken abc#def\nhistory 50\r\n' "$sock"
    start_ssed --config "$CONF" -c sports
    # --listen on the command line replaced the file's (start_ssed gives one)
    [ "$(grep -c 'serving ' "$SSED_ERR")" -eq 1 ]
    [ ! -e "$sock" ]
    subscribe sub /sports
    echo "from stdin" >&8
    wait_for_data "$BATS_TEST_TMPDIR/sub" 1
    [ "$(data_of "$BATS_TEST_TMPDIR/sub")" = "from stdin" ]
    # the token is the rest of the line, '#' included
    run curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Authorization: Bearer abc' -d x "$URL/sports"
    [ "$output" = 401 ] || [ "$output" = 403 ]
    run curl -s --max-time 10 -H 'Authorization: Bearer abc#def' -d 'with the token' "$URL/sports"
    [[ "$output" == *'"accepted":1'* ]]
    wait_for_data "$BATS_TEST_TMPDIR/sub" 2
}

@test "config: the file's repeatable options add up, and single-valued ones hold where the command line is silent" {
    a="$BATS_TEST_TMPDIR/a.sock" b="$BATS_TEST_TMPDIR/b.sock"
    conf 'listen unix:%s\nlisten unix:%s\nno-stdin\nreplay 2\n' "$a" "$b"
    start_bg "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" "$SSED" --config "$CONF"
    wait_for_lines "$BATS_TEST_TMPDIR/err" 2 10
    grep -qE "ssed: serving unix:$a\$" "$BATS_TEST_TMPDIR/err"
    grep -qE "ssed: serving unix:$b\$" "$BATS_TEST_TMPDIR/err"
    for e in one two three; do
        curl -s --max-time 10 --unix-socket "$a" -d "$e" http://localhost/ >/dev/null
    done
    # replay 2 (from the file): a new subscriber gets the last two, then
    # what comes next (and nothing more replayed before it)
    URL=http://localhost subscribe sub / --unix-socket "$b"
    wait_for_data "$BATS_TEST_TMPDIR/sub" 2
    curl -s --max-time 10 --unix-socket "$a" -d four http://localhost/ >/dev/null
    wait_for_data "$BATS_TEST_TMPDIR/sub" 3
    [ "$(data_of "$BATS_TEST_TMPDIR/sub" | tr '\n' ' ')" = "two three four " ]
}

@test "config: an exclusive option on the command line drops the file's other one (token / token-file, store / redis)" {
    echo 'from-the-file' >"$BATS_TEST_TMPDIR/token"
    conf 'token from-the-config\nno-stdin\n'
    start_ssed --config "$CONF" --token-file "$BATS_TEST_TMPDIR/token"
    run curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Authorization: Bearer from-the-config' -d x "$URL/"
    [ "$output" = 401 ] || [ "$output" = 403 ]
    run curl -s --max-time 10 -H 'Authorization: Bearer from-the-file' -d x "$URL/"
    [[ "$output" == *'"accepted":1'* ]]
    stop_pid "$SSED_PID"
    # and the other way round: --token drops the file's token-file
    conf 'token-file %s\nno-stdin\n' "$BATS_TEST_TMPDIR/token"
    start_ssed --config "$CONF" --token cmdline
    run curl -s --max-time 10 -H 'Authorization: Bearer cmdline' -d x "$URL/"
    [[ "$output" == *'"accepted":1'* ]]
    stop_pid "$SSED_PID"
    # --store drops the file's redis and redis-prefix: served from the store
    conf 'redis redis://127.0.0.1:1\nredis-prefix other\nno-stdin\n'
    start_ssed --config "$CONF" --store "$BATS_TEST_TMPDIR/h.db"
    [ -e "$BATS_TEST_TMPDIR/h.db" ]
    [ "$(grep -c redis "$SSED_ERR")" -eq 0 ]
    stop_pid "$SSED_PID"
    # --redis drops the file's store and what only applies to it (sync)
    conf 'store %s\nsync always\nno-stdin\n' "$BATS_TEST_TMPDIR/s.db"
    start_ssed --config "$CONF" --redis redis://127.0.0.1:1
    [ ! -e "$BATS_TEST_TMPDIR/s.db" ]
}

# root_channel_stat KEY: a number of channel / from /_ssed/stats.
root_channel_stat() {
    curl -s --max-time 5 "$URL/_ssed/stats" |
        python3 -c "import json,sys; print([c for c in json.load(sys.stdin)['channels'] if c['name'] == '/'][0]['$1'])"
}

# bad_conf TEXT EXPECTED: ssed refuses the file with exit 2 and EXPECTED.
bad_conf() {
    conf "$1"
    run "$SSED" --config "$CONF" -l 127.0.0.1:0
    echo "$output"
    [ "$status" -eq 2 ]
    [[ "$output" == *"ssed: $CONF:$2"* ]]
    [[ "$output" == *"Try 'ssed --help'"* ]]
}

@test "config: unknown, repeated, conflicting, malformed or misplaced options name the file and line (exit 2)" {
    bad_conf '# ok\nlisten 127.0.0.1:0\nlisen 127.0.0.1:0\n' "3: unknown option 'lisen'"
    bad_conf 'history 5\n\nhistory 6\n' "3: history: given twice (first on line 1)"
    bad_conf 'verbose\nquiet\n' "2: quiet: conflicts with verbose on line 1"
    bad_conf 'history many\n' "1: history: invalid number 'many'"
    bad_conf 'keepalive 5x\n' "1: keepalive: invalid duration '5x'"
    bad_conf 'listen\n' "1: listen: needs a value"
    bad_conf 'no-stdin yes\n' "1: no-stdin: takes no value"
    bad_conf 'config /etc/other.conf\n' "1: config: cannot be used in a configuration file"
    bad_conf 'check\n' "1: check: cannot be used in a configuration file"
    bad_conf '--history 5\n' "1: unknown option '--history' (write 'history', without the leading --)"
    bad_conf 'port 8080\n' "1: unknown option 'port' (did you mean -l/--listen?)"
    bad_conf 'help\n' "1: unknown option 'help'"
    bad_conf '= 5\n' "1: no option name before '='"
    bad_conf 'history = 5 # keep few\nlisen = 127.0.0.1:0 # typo\n' "2: unknown option 'lisen'"
    # a check across options comes after the file and the command line
    conf 'sync always\n'
    run "$SSED" --config "$CONF"
    [ "$status" -eq 2 ]
    [[ "$output" == *"ssed: --sync: needs --store"* ]]
}

@test "config: a missing, unreadable, binary or oversized file is a usage error (exit 2)" {
    run "$SSED" --config "$BATS_TEST_TMPDIR/none.conf"
    [ "$status" -eq 2 ]
    [[ "$output" == *"ssed: --config $BATS_TEST_TMPDIR/none.conf: No such file or directory"* ]]
    run "$SSED" --config "$BATS_TEST_TMPDIR"
    [ "$status" -eq 2 ]
    [[ "$output" == *"Is a directory"* ]]
    printf 'history 5\n\0\n' >"$BATS_TEST_TMPDIR/nul.conf"
    run "$SSED" --config "$BATS_TEST_TMPDIR/nul.conf"
    [ "$status" -eq 2 ]
    [[ "$output" == *"contains a NUL byte"* ]]
    head -c 1048577 /dev/zero | tr '\0' '#' >"$BATS_TEST_TMPDIR/big.conf"
    run "$SSED" --config "$BATS_TEST_TMPDIR/big.conf"
    [ "$status" -eq 2 ]
    [[ "$output" == *"larger than 1048576 bytes"* ]]
    run "$SSED" --config ""
    [ "$status" -eq 2 ]
    [[ "$output" == *"--config: the value cannot be empty"* ]]
}

@test "config: an empty or comment-only file leaves the defaults" {
    conf '# nothing here\n\n'
    start_ssed --config "$CONF"
    # stdin is read, into /, of which 1000 events are kept (--history)
    seq 1 1005 >&8
    for i in $(seq 1 $((100 * SSETOOLS_WAIT_SCALE))); do
        [ "$(root_channel_stat events_in)" -ge 1005 ] && break
        sleep 0.1
    done
    [ "$(root_channel_stat events_in)" -eq 1005 ]
    [ "$(root_channel_stat history)" -eq 1000 ]
}

@test "config: a UTF-8 byte order mark at the start of the file is skipped" {
    conf '\xef\xbb\xbfno-stdin\nhistory 7\nreplay 7\n'
    start_ssed --config "$CONF"
    for e in 1 2 3 4 5 6 7 8 9; do
        curl -s --max-time 10 -d "$e" "$URL/" >/dev/null
    done
    # replay 7 of history 7: the BOM did not hide the first line either
    subscribe sub /
    wait_for_data "$BATS_TEST_TMPDIR/sub" 7
    [ "$(data_of "$BATS_TEST_TMPDIR/sub" | tr '\n' ' ')" = "3 4 5 6 7 8 9 " ]
}

@test "config: 'key value', 'key = value' and 'key=value' lines, and a comment after a blank anywhere" {
    conf 'no-stdin   # no input but POSTs\nhistory = 7 # seven\nreplay=7\n  listen = 127.0.0.1:0\t# any port\ntoken = abc#def # the # inside a word stays\n'
    start_bg "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" "$SSED" --config "$CONF"
    SSED_ERR="$BATS_TEST_TMPDIR/err"
    wait_for_lines "$SSED_ERR" 1 10
    url=$(sed -n 's/.*serving \(http[^ ]*\).*/\1/p' "$SSED_ERR" | head -1)
    url=${url%/}
    [ -n "$url" ]
    for e in 1 2 3 4 5 6 7 8 9; do
        curl -s --max-time 10 -H 'Authorization: Bearer abc#def' -d "$e" "$url/" | grep -q '"accepted":1'
    done
    URL=$url subscribe sub /
    wait_for_data "$BATS_TEST_TMPDIR/sub" 7
    [ "$(data_of "$BATS_TEST_TMPDIR/sub" | tr '\n' ' ')" = "3 4 5 6 7 8 9 " ]
}

@test "config: -t/--check reads every file the options name, serves nothing, exits 0 when good" {
    d="$BATS_TEST_TMPDIR"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/key.pem" -out "$d/cert.pem" \
        -days 2 -subj /CN=localhost 2>/dev/null
    head -c 32 /dev/urandom | base64 >"$d/jwt.secret"
    echo tok >"$d/token"
    conf 'listen = 127.0.0.1:1 # nothing is bound\ntls-cert %s\ntls-key %s\njwt-secret-file %s\ntoken-file %s\nstore %s\nfifo %s\n' \
        "$d/cert.pem" "$d/key.pem" "$d/jwt.secret" "$d/token" "$d/s.db" "$d/in.fifo"
    run timeout 20 "$SSED" --config "$CONF" --check </dev/null
    [ "$status" -eq 0 ]
    [[ "$output" == *"ssed: check: TLS certificate $d/cert.pem: "*CN=localhost* ]]
    [[ "$output" == *"ssed: check: the configuration is good"* ]]
    [[ "$output" != *serving* ]]
    # nothing was created: no store, no FIFO
    [ ! -e "$d/s.db" ] && [ ! -e "$d/in.fifo" ]
    run timeout 20 "$SSED" -t --no-stdin
    [ "$status" -eq 0 ]
    # the example configuration make install ships
    run timeout 20 "$SSED" --config "$TOP/cmd/ssed/systemd/ssed.conf" --check
    [ "$status" -eq 0 ]
}

@test "config: -t/--check names each bad file and exits 2" {
    d="$BATS_TEST_TMPDIR"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/key.pem" -out "$d/cert.pem" \
        -days 2 -subj /CN=localhost 2>/dev/null
    openssl genpkey -algorithm ed25519 -out "$d/other.pem" 2>/dev/null
    echo short >"$d/jwt.secret"
    touch "$d/plain"
    conf 'tls-cert %s\ntls-key %s\njwt-secret-file %s\ntoken-file %s\nstore %s\nfifo %s\n' \
        "$d/cert.pem" "$d/other.pem" "$d/jwt.secret" "$d/no-token" "$d/missing/s.db" "$d/plain"
    run timeout 20 "$SSED" --config "$CONF" -t </dev/null
    [ "$status" -eq 2 ]
    [[ "$output" == *"--token-file $d/no-token: No such file or directory"* ]]
    [[ "$output" == *"--jwt-secret-file $d/jwt.secret: the secret has 5 bytes"* ]]
    [[ "$output" == *"--tls-key $d/other.pem: does not match the certificate"* ]]
    [[ "$output" == *"--store $d/missing/s.db: folder $d/missing: No such file or directory"* ]]
    [[ "$output" == *"--fifo $d/plain: exists and is not a FIFO"* ]]
    [[ "$output" == *"ssed: check: the configuration has errors; nothing was started"* ]]
    # other daemons' words for it point to it
    for word in --test --configtest; do
        run "$SSED" "$word"
        [ "$status" -eq 2 ]
        [[ "$output" == *"$word: unknown option (did you mean -t/--check?)"* ]]
    done
    # a bad line in the file is a usage error before any file is read
    conf 'listen = 127.0.0.1:99999\n'
    run timeout 20 "$SSED" --config "$CONF" --check
    [ "$status" -eq 2 ]
    [[ "$output" == *"--listen 127.0.0.1:99999"* ]]
    # a folder ssed cannot create the store in (not as root: root may)
    if [ "$(id -u)" -ne 0 ]; then
        mkdir "$d/ro" && chmod 500 "$d/ro"
        run timeout 20 "$SSED" --no-stdin --store "$d/ro/s.db" --check
        [ "$status" -eq 2 ]
        [[ "$output" == *"cannot create files in $d/ro"* ]]
    fi
}
