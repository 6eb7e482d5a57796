#!/usr/bin/env bats
# Every nginx block in the README and the man pages, taken from them as
# written (tests/lib/doc_blocks.py) and run in a real nginx in front of real
# ssed nodes: a subscriber through nginx gets its events (so the Host nginx
# sends is one ssed answers), nobody publishes through nginx without a token
# (limit_except), and ssed itself sees nginx's requests as relayed, not
# local (the client's address is forwarded), so it refuses them too.

load lib/helpers

teardown() {
    stop_all
}

# nginx_conf BLOCK NGINX_PORT DIR [drop]: a whole nginx.conf around BLOCK,
# listening on NGINX_PORT, each 127.0.0.1:PORT it names replaced by the
# port in $DIR/ports ("doc-port test-port" lines). With drop, limit_except
# lines are left out.
nginx_conf() {
    local block=$1 port=$2 dir=$3 drop=${4:-}
    python3 - "$block" "$port" "$dir" "$drop" <<'PY'
import re, sys
block, port, d, drop = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
text = open(block).read()
# What comes before the first nginx directive is the shell around it.
lines = text.splitlines()
first = next(i for i, l in enumerate(lines) if re.match(r"\s*(upstream|server|location)\b", l))
lines = lines[first:]
if drop:
    lines = [l for l in lines if "limit_except" not in l]
text = "\n".join(lines) + "\n"
ports = dict(l.split() for l in open(d + "/ports"))
text = re.sub(r"127\.0\.0\.1:(\d+)", lambda m: "127.0.0.1:" + ports[m.group(1)], text)
text = re.sub(r"listen\s+[^;]+;", "listen 127.0.0.1:%s;" % port, text)
if not re.search(r"^\s*server\s*\{", text, re.M):
    text = "server {\n    listen 127.0.0.1:%s;\n%s}\n" % (port, text)
print(f"""daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{}}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
{text}}}""")
PY
}

# start_nginx CONF PORT: nginx in the background, once it answers.
start_nginx() {
    run nginx -t -c "$1" -p "$(dirname "$1")"
    [ "$status" -eq 0 ] || { echo "nginx -t: $output"; return 1; }
    start_bg "$1.out" "$1.err" nginx -c "$1" -p "$(dirname "$1")"
    for i in $(seq 1 $((100 * SSETOOLS_WAIT_SCALE))); do
        curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$2/_ssed/health" && return 0
        sleep 0.1
    done
    echo "nginx did not answer on $2" >&2
    return 1
}

# published: events all the nodes took in.
published() {
    local p n total=0
    while read -r _ p; do
        n=$(URL="http://127.0.0.1:$p" stat_of events_published)
        total=$((total + n))
    done <"$dir/ports"
    echo "$total"
}

subscribers() {
    local p n total=0
    while read -r _ p; do
        n=$(URL="http://127.0.0.1:$p" stat_of subscribers)
        total=$((total + n))
    done <"$dir/ports"
    echo "$total"
}

# check_block N: the doc block $blocks/N, as described at the top.
check_block() {
    local block="$blocks/$1"
    dir="$BATS_TEST_TMPDIR/nginx$1"
    mkdir -p "$dir"
    : >"$dir/ports"
    local p
    for p in $(grep -v '^ *\(ssed\|for\|printf\|done\)' "$block" | grep -oE '127\.0\.0\.1:[0-9]+' | sort -u | cut -d: -f2); do
        local test_port
        test_port=$(free_port)
        echo "$p $test_port" >>"$dir/ports"
        start_bg "$dir/ssed-$test_port.out" "$dir/ssed-$test_port.err" "$SSED" -l "127.0.0.1:$test_port" --no-stdin -v
        wait_for_line "$dir/ssed-$test_port.err" 'serving http://' 10
    done
    [ -s "$dir/ports" ]
    local np prefix
    np=$(free_port)
    nginx_conf "$block" "$np" "$dir" >"$dir/nginx.conf"
    start_nginx "$dir/nginx.conf" "$np"
    prefix=$(grep -oE 'location +/[^ {]*' "$block" | head -1 | awk '{print $2}')
    # a subscriber through nginx: 200 and an event stream, not 421
    run curl -s -o /dev/null -w '%{http_code} %{content_type}' --max-time 2 "http://127.0.0.1:$np$prefix"
    [[ "$output" == "200 text/event-stream"* ]] || { echo "GET $prefix through nginx: $output"; return 1; }
    curl -sN --max-time 30 "http://127.0.0.1:$np$prefix" >"$dir/sub" 2>/dev/null &
    echo $! >>"$BATS_TEST_TMPDIR/pids"
    for i in $(seq 1 $((100 * SSETOOLS_WAIT_SCALE))); do
        [ "$(subscribers)" -eq 1 ] && break
        sleep 0.1
    done
    [ "$(subscribers)" -eq 1 ]
    # published at each node, locally: the subscriber gets it once
    while read -r _ p; do
        curl -s --max-time 5 -d "from a node" "http://127.0.0.1:$p/" | grep -q '"accepted":1'
    done <"$dir/ports"
    wait_for_data "$dir/sub" 1
    # publishing through nginx is refused there, without a token
    local before
    before=$(published)
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 -d "through nginx" "http://127.0.0.1:$np$prefix"
    [ "$output" = 403 ] || { echo "POST through nginx: $output"; return 1; }
    # and by ssed, were the limit_except taken out: the request is relayed
    local np2
    np2=$(free_port)
    nginx_conf "$block" "$np2" "$dir" drop >"$dir/nginx-open.conf"
    ! grep -q limit_except "$dir/nginx-open.conf"
    sed -i "s|$dir/nginx.pid|$dir/nginx-open.pid|" "$dir/nginx-open.conf"
    start_nginx "$dir/nginx-open.conf" "$np2"
    run curl -s --max-time 5 -d "through nginx" "http://127.0.0.1:$np2$prefix"
    [[ "$output" == *"403 Forbidden: only local peers may publish (a request relayed by a proxy is not local)"* ]] ||
        { echo "POST through nginx without limit_except: $output"; return 1; }
    [ "$(published)" -eq "$before" ]
    [ "$(data_of "$dir/sub" | tr '\n' ' ')" = "from a node " ]
}

@test "nginx docs: every nginx block in the README and man pages works in a real nginx in front of ssed" {
    command -v nginx >/dev/null || skip "nginx is not installed (make deps installs it)"
    blocks="$BATS_TEST_TMPDIR/blocks"
    mkdir -p "$blocks"
    count=$(python3 "$TOP/tests/lib/doc_blocks.py" --containing proxy_pass --out "$blocks" "$TOP"/man/*.1 "$TOP/README.md")
    # the cluster's three nodes and man ssed's EXAMPLES block, at least
    [ "$count" -ge 2 ]
    for n in $(seq 1 "$count"); do
        echo "# block $n from $(cat "$blocks/$n.from")" >&3
        check_block "$n"
    done
}
