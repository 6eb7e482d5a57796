#!/usr/bin/env bats
# ssed's live viewer page: served to browsers at the channel's URL, driven in
# Debian's Chromium by playwright-core; curl at the same URL still gets the
# event stream. Screenshots are saved in $SSETOOLS_BUILD/artifacts/.

load lib/helpers

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
}

@test "viewer: the page in headless Chromium: events in order, filters, pause, reconnect without duplicates, reused ids, channels, markup as text" {
    [ -x /usr/bin/chromium ] || skip "chromium is not installed (make deps)"
    [ -d "$TOP/tests/node_modules/playwright-core" ] || skip "playwright-core is not installed (make deps)"
    mkdir -p "$SSETOOLS_BUILD/artifacts"
    run timeout 120 node "$TOP/tests/browser/viewer_test.mjs" "$SSED" "$(free_port)" "$SSETOOLS_BUILD/artifacts"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"all checks passed"* ]]
    [ -s "$SSETOOLS_BUILD/artifacts/viewer.png" ]
}

@test "viewer: rows and controls in headless Chromium: Resume stays put while paused, JSON rows show they expand, ssed-gap in words, long lines clamped, publish times, times on one line" {
    [ -x /usr/bin/chromium ] || skip "chromium is not installed (make deps)"
    [ -d "$TOP/tests/node_modules/playwright-core" ] || skip "playwright-core is not installed (make deps)"
    mkdir -p "$SSETOOLS_BUILD/artifacts"
    run timeout 180 node "$TOP/tests/browser/viewer_rows_test.mjs" "$SSED" "$(free_port)" "$SSETOOLS_BUILD/artifacts"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"all checks passed"* ]]
}

@test "viewer: under load in headless Chromium: a 10,000-event burst and 30 s at 1,000 events/s are all shown, Pause and filters hold, heap under 50 MB (times printed; tests/bench/viewer_load.sh holds them)" {
    [ -x /usr/bin/chromium ] || skip "chromium is not installed (make deps)"
    [ -d "$TOP/tests/node_modules/playwright-core" ] || skip "playwright-core is not installed (make deps)"
    run timeout 240 node "$TOP/tests/browser/viewer_load_test.mjs" "$SSED" "$(free_port)" 30
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"all checks passed"* ]]
}

@test "viewer: the page links its style, script and stream relative to its own URL, at any depth" {
    start_ssed
    run curl -s --max-time 5 -H 'Accept: text/html' "$URL/"
    [[ "$output" == *'href="_ssed/ui.css"'* ]]
    [[ "$output" == *'src="_ssed/ui.js"'* ]]
    run curl -s --max-time 5 -H 'Accept: text/html' "$URL/a/b"
    [[ "$output" == *'href="../_ssed/ui.css"'* ]]
    [[ "$output" == *'src="../_ssed/ui.js"'* ]]
    run curl -s --max-time 5 -H 'Accept: text/html' "$URL/a/b/c?x=1"
    [[ "$output" == *'src="../../_ssed/ui.js"'* ]]
    [[ "$output" != *'"/_ssed/'* ]]
    [[ "$output" != *'{{root}}'* ]]
    run curl -s --max-time 5 "$URL/_ssed/ui.js"
    [[ "$output" != *'location.pathname + "?"'* ]]
}

@test "viewer: the page works behind nginx serving ssed under a path prefix" {
    [ -x /usr/bin/chromium ] || skip "chromium is not installed (make deps)"
    [ -d "$TOP/tests/node_modules/playwright-core" ] || skip "playwright-core is not installed (make deps)"
    local nginx
    nginx=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null) || skip "nginx is not installed (apt-get install nginx)"
    start_ssed
    local dir="$BATS_TEST_TMPDIR/nginx" nport
    nport=$(free_port)
    mkdir -p "$dir"
    cat >"$dir/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    server {
        listen 127.0.0.1:$nport;
        location /events/ {
            proxy_pass http://127.0.0.1:$PORT/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }
    }
}
CONF
    start_bg "$dir/out" "$dir/err" "$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
    local i
    for i in $(seq 1 100); do
        curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$nport/events/_ssed/health" && break
        sleep 0.1
    done
    run curl -s --max-time 5 "http://127.0.0.1:$nport/events/_ssed/health"
    [ "$output" = ok ] || { cat "$dir/err" "$dir/error.log"; false; }
    run timeout 60 node "$TOP/tests/browser/viewer_proxy_test.mjs" "http://127.0.0.1:$nport/events/a/b" "$URL/a/b"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"all checks passed"* ]]
    run timeout 60 node "$TOP/tests/browser/viewer_proxy_test.mjs" "http://127.0.0.1:$nport/events/" "$URL/"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"all checks passed"* ]]
}

@test "viewer: curl at the same URL still gets the event stream; the page's assets are served; --no-ui turns it off" {
    start_ssed
    subscribe s /
    grep -qi '^: ssed stream' "$BATS_TEST_TMPDIR/s"
    run curl -s -o /dev/null -w '%{http_code} %{content_type}' --max-time 5 -H 'Accept: text/html,*/*' "$URL/"
    [ "$output" = "200 text/html; charset=utf-8" ]
    run curl -s -o /dev/null -w '%{content_type}' --max-time 5 "$URL/_ssed/ui.js"
    [ "$output" = "text/javascript; charset=utf-8" ]
    run curl -s -o /dev/null -w '%{content_type}' --max-time 5 "$URL/_ssed/ui.css"
    [ "$output" = "text/css; charset=utf-8" ]
    # A client that accepts both prefers the stream.
    curl -sN --max-time 2 -H 'Accept: text/html, text/event-stream' "$URL/" >"$BATS_TEST_TMPDIR/both" || true
    grep -q '^: ssed stream' "$BATS_TEST_TMPDIR/both"
    exec 8>&-
    stop_pid "$SSED_PID"
    start_ssed --no-ui
    curl -sN --max-time 2 -H 'Accept: text/html' "$URL/" >"$BATS_TEST_TMPDIR/noui" || true
    grep -q '^: ssed stream' "$BATS_TEST_TMPDIR/noui"
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/_ssed/ui.js"
    [ "$output" = 404 ]
}

@test "viewer: ?envelope=1 carries every event as a message holding its real type" {
    start_ssed --format sse
    subscribe s "/?envelope=1"
    printf 'event: deploy\nid: d1\nretry: 700\ndata: v2\n\ndata: plain\n\n' >&8
    wait_for_data "$BATS_TEST_TMPDIR/s" 2
    run cat "$BATS_TEST_TMPDIR/s"
    [[ "$output" == *$'id: d1\nretry: 700\ndata: {"type":"deploy","data":"v2","channel":"/"}'* ]]
    [[ "$output" == *'data: {"type":"message","data":"plain","channel":"/"}'* ]]
    [[ "$output" != *"event: deploy"* ]]
}

@test "viewer: in a multi-channel envelope stream each event names its channel, replayed or live" {
    start_ssed --history 10
    curl -s --max-time 5 -d a1 "$URL/a" >/dev/null
    subscribe s "/?channels=a,b&envelope=1" -H 'Last-Event-ID: 0'
    curl -s --max-time 5 -d b1 "$URL/b" >/dev/null
    wait_for_data "$BATS_TEST_TMPDIR/s" 2
    run cat "$BATS_TEST_TMPDIR/s"
    [[ "$output" == *'data: {"type":"message","data":"a1","channel":"/a"}'* ]]
    [[ "$output" == *'data: {"type":"message","data":"b1","channel":"/b"}'* ]]
}
