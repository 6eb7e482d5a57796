# Helpers for the --store suites (store.bats, store_faults.bats). Load
# after helpers.bash.

# start_store_ssed PORT [OPTIONS...]: ssed on 127.0.0.1:PORT, so a restart
# keeps the URL publishers use. With SSED_FEED set, its stdin is a FIFO held
# open on fd 8 (else --no-stdin); with SSED_PRELOAD set, that library is
# preloaded into it. A restart's log starts afresh in SSED_ERR (the one
# before is kept as ssed.err.1, .2, ...), so waiting for "serving" waits
# for the new process.
start_store_ssed() {
    local port=$1 input=/dev/null n=1
    shift
    SSED_ERR="$BATS_TEST_TMPDIR/ssed.err"
    if [ -e "$SSED_ERR" ]; then
        while [ -e "$SSED_ERR.$n" ]; do n=$((n + 1)); done
        mv "$SSED_ERR" "$SSED_ERR.$n"
    fi
    if [ -n "${SSED_FEED:-}" ]; then
        input="$BATS_TEST_TMPDIR/feed"
        rm -f "$input"
        mkfifo "$input"
    else
        set -- --no-stdin "$@"
    fi
    env ${SSED_PRELOAD:+LD_PRELOAD="$SSED_PRELOAD"} "$SSED" -l "127.0.0.1:$port" "$@" <"$input" \
        >"$BATS_TEST_TMPDIR/ssed.out" 2>"$SSED_ERR" 3>&- 8>&- 9>&- &
    SSED_PID=$!
    echo "$SSED_PID" >>"$BATS_TEST_TMPDIR/pids"
    [ -z "${SSED_FEED:-}" ] || exec 8>"$input"
    wait_for_line "$SSED_ERR" "serving http://127\.0\.0\.1:$port/" 10
    PORT=$port
    URL="http://127.0.0.1:$port"
}
