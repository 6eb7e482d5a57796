#!/usr/bin/env bats
# ssed behind a real nginx, configured with the location block from
# man ssed's EXAMPLES: a restart of ssed does not end a browser-grade
# EventSource (the npm eventsource package), which resumes with every event
# once.

load lib/helpers

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
}

# nginx_conf NGINX_PORT SSED_PORT DIR: a whole nginx.conf around the man
# page's location blocks, taken from man/ssed.1 as written there.
nginx_conf() {
    local blocks
    blocks=$(sed -n '/^Behind nginx/,/^\.fi/p' "$TOP/man/ssed.1" | sed -n '/^\.nf/,/^\.fi/p' |
        sed '/^\.nf/d; /^\.fi/d; s/\\-/-/g; s/\\\\/\\/g' | sed "s/127.0.0.1:8080/127.0.0.1:$2/")
    cat <<CONF
daemon off;
pid $3/nginx.pid;
error_log $3/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $3/body;
    proxy_temp_path $3/proxy;
    fastcgi_temp_path $3/fastcgi;
    uwsgi_temp_path $3/uwsgi;
    scgi_temp_path $3/scgi;
    server {
        listen 127.0.0.1:$1;
$blocks
    }
}
CONF
}

@test "proxy: behind the man page's nginx block, a restart of ssed does not end an EventSource" {
    command -v nginx >/dev/null || skip "nginx is not installed (make deps installs it)"
    [ -d "$TOP/tests/node_modules/eventsource" ] || skip "npm packages not installed (make deps)"
    ssed_port=$(free_port)
    nginx_port=$(free_port)
    dir="$BATS_TEST_TMPDIR/nginx"
    mkdir -p "$dir"
    nginx_conf "$nginx_port" "$ssed_port" "$dir" >"$dir/nginx.conf"
    grep -q '@sse_retry' "$dir/nginx.conf"
    start_bg "$dir/out" "$dir/err" nginx -c "$dir/nginx.conf" -p "$dir"
    for i in $(seq 1 100); do curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$nginx_port/events/" && break; sleep 0.1; done
    start_ssed -l "127.0.0.1:$ssed_port" --no-stdin --history 100
    first_ssed=$SSED_PID
    start_bg "$BATS_TEST_TMPDIR/es.out" "$BATS_TEST_TMPDIR/es.err" env ES_CLIENT_TIMEOUT_MS=120000 \
        node "$TOP/tests/lib/es_client.mjs" "http://127.0.0.1:$nginx_port/events/" 6
    client=$BG_PID
    for i in $(seq 1 300); do [ "$(stat_of subscribers)" -eq 1 ] && break; sleep 0.1; done
    for n in 1 2 3; do curl -s --max-time 5 -d "e$n" "$URL/" >/dev/null; done
    wait_for_lines "$BATS_TEST_TMPDIR/es.out" 3 20
    # ssed goes away: nginx answers with a retry, and the client keeps trying
    stop_pid "$first_ssed"
    run curl -s --max-time 5 "http://127.0.0.1:$nginx_port/events/"
    [[ "$output" == *"retry: 2000"* ]]
    start_ssed -l "127.0.0.1:$ssed_port" --no-stdin --history 100
    for i in $(seq 1 600); do [ "$(stat_of subscribers)" -eq 1 ] && break; sleep 0.1; done
    [ "$(stat_of subscribers)" -eq 1 ]
    for n in 4 5 6; do curl -s --max-time 5 -d "e$n" "$URL/" >/dev/null; done
    wait_for_exit "$client" 30
    cat "$BATS_TEST_TMPDIR/es.out"
    [ "$EXIT_STATUS" -eq 0 ]
    [ "$(python3 -c 'import json,sys; print(" ".join(json.loads(l)["data"] for l in open(sys.argv[1])))' \
        "$BATS_TEST_TMPDIR/es.out")" = "e1 e2 e3 e4 e5 e6" ]
}
