# Helpers shared by the benchmark scripts (compare.sh, cluster_bench.sh,
# tls_idle_memory.sh). Sourced, not run.

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

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }'; }

nchan_module=/usr/lib/nginx/modules/ngx_nchan_module.so
have_nchan() { command -v nginx >/dev/null 2>&1 && [ -f "$nchan_module" ]; }

# start_nchan DIR PORT WORKERS NOFILE [CERT KEY]: nginx+nchan from
# nchan.conf.in, everything under DIR (made empty first), on 127.0.0.1:PORT
# with TLS when CERT and KEY are given. Sets NCHAN_PID (the master; the
# caller tracks it) and returns once WORKERS workers run and the port
# answers, or 1 after 5 s.
start_nchan() {
    local dir=$1 port=$2 workers=$3 nofile=$4 cert=${5:-} key=${6:-} ssl="" tls="" scheme=http i
    if [ -n "$cert" ]; then
        ssl="ssl " tls="ssl_certificate $cert; ssl_certificate_key $key;" scheme=https
    fi
    rm -rf "$dir" && mkdir -p "$dir"
    sed -e "s|@TMP@|$dir|g; s|@PORT@|$port|g; s|@WORKERS@|$workers|g; s|@NOFILE@|$nofile|g" \
        -e "s|@MODULE@|$nchan_module|g; s|@SSL@|$ssl|; s|@TLS@|$tls|" \
        "$(dirname "${BASH_SOURCE[0]}")/nchan.conf.in" >"$dir/nginx.conf"
    nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log" 2>"$dir/stderr" &
    NCHAN_PID=$!
    for i in $(seq 1 100); do
        [ "$(pgrep -c -P "$NCHAN_PID" 2>/dev/null)" -ge "$workers" ] &&
            curl -sk -o /dev/null -m 1 "$scheme://127.0.0.1:$port/nope" && return 0
        sleep 0.05
    done
    return 1
}

# rss_kib PID...: the VmRSS of these processes, summed.
rss_kib() {
    local p total=0 kb
    for p in "$@"; do
        kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
        total=$((total + ${kb:-0}))
    done
    echo "$total"
}
