# Helpers shared by the benchmark scripts (compare.sh, cluster_bench.sh).
# Sourced, not run.

# on_exit_stop_all: when the script ends (or is interrupted), stop every
# PID in the array pids and remove the folder $work.
on_exit_stop_all() {
    trap stop_all_and_clean EXIT
    trap 'exit 130' INT TERM
}
stop_all_and_clean() {
    local p
    for p in "${pids[@]}"; do stop_pid "$p"; done
    rm -rf "$work"
}

# stop_pid PID: TERM, wait up to 5 s, then KILL; reaps it.
stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# wait_for_line FILE REGEX SECONDS
wait_for_line() {
    local i
    for i in $(seq 1 $(($3 * 20))); do
        grep -qE "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# field KEY LINE: the value of KEY=VALUE in a result line.
field() { sed -nE "s/.*(^| )$1=([^ ]*).*/\\2/p" <<<"$2"; }
