#!/usr/bin/env bats
# /_ssed/metrics: Prometheus' text format, checked by Prometheus' own parser
# (promtool), figures that follow what happens, a bounded number of
# labelled channels, and the access rule of /_ssed/stats.

load lib/helpers

teardown() {
    exec 8>&- 2>/dev/null || true
    stop_all
}

# scrape [CURL OPTIONS...]: the metrics body, also left in $BATS_TEST_TMPDIR/metrics.
scrape() {
    curl -s --max-time 5 "$@" "$URL/_ssed/metrics" | tee "$BATS_TEST_TMPDIR/metrics"
}

# metric SERIES: the value of one series (name with its labels, as written).
metric() {
    awk -v want="$1" '$1 == want { print $2; found = 1 } END { exit !found }' "$BATS_TEST_TMPDIR/metrics"
}

# promtool_check: promtool's verdict on the last scrape: no error, no lint warning.
promtool_check() {
    run promtool check metrics <"$BATS_TEST_TMPDIR/metrics"
    echo "$output"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
}

# wait_for_metric SERIES VALUE [CURL OPTIONS...]: scrape until SERIES is VALUE.
wait_for_metric() {
    local series=$1 want=$2 i
    shift 2
    for i in $(seq 1 $((100 * SSETOOLS_WAIT_SCALE))); do
        scrape "$@" >/dev/null
        [ "$(metric "$series")" = "$want" ] && return 0
        sleep 0.05
    done
    echo "timed out: $series is $(metric "$series"), not $want" >&2
    return 1
}

@test "metrics: the text format 0.0.4, accepted by promtool with no lint warning" {
    command -v promtool >/dev/null || skip "promtool (Debian package prometheus) is not installed"
    start_ssed
    headers=$(curl -s -D - -o "$BATS_TEST_TMPDIR/metrics" --max-time 5 "$URL/_ssed/metrics")
    [[ "$headers" == "HTTP/1.1 200"* ]]
    grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' <<<"$headers"
    promtool_check
    # every family has HELP and TYPE, and the ones the manual lists are there
    for name in ssed_connections ssed_connections_accepted_total ssed_subscribers ssed_subscribers_total \
        ssed_channels ssed_bytes_out_total ssed_slow_subscriber_drops_total ssed_refusals_total \
        ssed_publish_requests_total ssed_publish_events_total ssed_history_events ssed_history_bytes \
        ssed_subscriber_writes_total ssed_events_delivered_total ssed_delivery_latency_seconds \
        ssed_intake_paused ssed_intake_waits_total \
        ssed_channel_events_in_total ssed_channel_events_out_total ssed_channel_subscribers; do
        grep -q "^# HELP $name " "$BATS_TEST_TMPDIR/metrics"
        grep -q "^# TYPE $name " "$BATS_TEST_TMPDIR/metrics"
        grep -q "$name" "$TOP/man/ssed.1"
    done
    [ "$(grep -c '^ssed_delivery_latency_seconds_bucket' "$BATS_TEST_TMPDIR/metrics")" -eq 17 ]
    grep -q '^ssed_delivery_latency_seconds_bucket{le="0.0001"} ' "$BATS_TEST_TMPDIR/metrics"
    grep -q '^ssed_delivery_latency_seconds_bucket{le="10"} ' "$BATS_TEST_TMPDIR/metrics"
}

@test "metrics: GET and HEAD only; HEAD sends the headers without the body" {
    start_ssed
    run curl -s -I --max-time 5 "$URL/_ssed/metrics"
    [[ "$output" == "HTTP/1.1 200"* ]]
    [[ "$output" == *"version=0.0.4"* ]]
    [[ "$output" != *"ssed_connections"* ]]
    for method in POST PUT DELETE; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X "$method" "$URL/_ssed/metrics")" = 405 ]
    done
    # refused requests are counted by reason
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/_ssed/nothing")" = 404 ]
    scrape >/dev/null
    [ "$(metric 'ssed_refusals_total{reason="method"}')" -eq 3 ]
    [ "$(metric 'ssed_refusals_total{reason="not_found"}')" -eq 1 ]
    [ "$(metric 'ssed_refusals_total{reason="forbidden"}')" -eq 0 ]
}

@test "metrics: figures follow subscribers, publishes, history and deliveries" {
    command -v promtool >/dev/null || skip "promtool (Debian package prometheus) is not installed"
    start_ssed
    scrape >/dev/null
    [ "$(metric ssed_subscribers)" -eq 0 ]
    [ "$(metric ssed_publish_requests_total)" -eq 0 ]
    [ "$(metric ssed_delivery_latency_seconds_count)" -eq 0 ]
    subscribe s1 /news
    subscribe s2 /news
    wait_for_metric 'ssed_channel_subscribers{channel="/news"}' 2
    [ "$(metric ssed_subscribers)" -eq 2 ]
    [ "$(metric ssed_subscribers_total)" -eq 2 ]
    for i in 1 2 3; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -d "event $i" "$URL/news")" = 200 ]
    done
    wait_for_data "$BATS_TEST_TMPDIR/s1" 3
    wait_for_data "$BATS_TEST_TMPDIR/s2" 3
    # three requests of one event each, to two subscribers
    wait_for_metric ssed_delivery_latency_seconds_count 6
    [ "$(metric ssed_publish_requests_total)" -eq 3 ]
    [ "$(metric ssed_publish_events_total)" -eq 3 ]
    [ "$(metric 'ssed_channel_events_in_total{channel="/news"}')" -eq 3 ]
    [ "$(metric 'ssed_channel_events_out_total{channel="/news"}')" -eq 6 ]
    [ "$(metric ssed_history_events)" -eq 3 ]
    [ "$(metric ssed_history_bytes)" -gt 0 ]
    [ "$(metric ssed_events_delivered_total)" -ge 6 ]
    [ "$(metric ssed_subscriber_writes_total)" -ge 2 ]
    [ "$(metric ssed_bytes_out_total)" -gt 0 ]
    [ "$(metric 'ssed_delivery_latency_seconds_bucket{le="+Inf"}')" -eq 6 ]
    # a local delivery takes well under 10 s: every observation is in a finite bucket
    [ "$(metric 'ssed_delivery_latency_seconds_bucket{le="10"}')" -eq 6 ]
    promtool_check
    # a late subscriber replays history: counted out, but not timed
    subscribe s3 /news -H 'Last-Event-ID: nope'
    wait_for_data "$BATS_TEST_TMPDIR/s3" 3
    wait_for_metric 'ssed_channel_events_out_total{channel="/news"}' 9
    [ "$(metric ssed_delivery_latency_seconds_count)" -eq 6 ]
    stop_pid "$SUB_PID"
    wait_for_metric ssed_subscribers 2
    [ "$(metric ssed_subscribers_total)" -eq 3 ]
}

@test "metrics: at most --metrics-channels channels are labelled, the busiest; the rest's subscribers are summed under _other" {
    command -v promtool >/dev/null || skip "promtool (Debian package prometheus) is not installed"
    start_ssed --metrics-channels 5
    # channel cN gets N events: c16..c20 are the busiest
    for n in $(seq 1 20); do
        seq 1 "$n" | curl -s -o /dev/null --max-time 5 --data-binary @- "$URL/c$n"
    done
    wait_for_metric 'ssed_channel_events_in_total{channel="/c20"}' 20
    labelled=$(grep -oE '^ssed_channel_events_in_total\{channel="/[^"]*"\}' "$BATS_TEST_TMPDIR/metrics" |
        sed 's/.*channel="//; s/"}//' | tr '\n' ' ')
    [ "$labelled" = "/c16 /c17 /c18 /c19 /c20 " ]
    # the other 15 channels (1+...+15 events) and the root channel
    # counters have no _other series (it could go down); the totals hold all
    [ "$(grep -c '_total{channel="_other"}' "$BATS_TEST_TMPDIR/metrics")" -eq 0 ]
    [ "$(metric ssed_publish_events_total)" -eq 210 ]
    [ "$(metric 'ssed_channel_subscribers{channel="_other"}')" -eq 0 ]
    [ "$(grep -c '^ssed_channel_subscribers' "$BATS_TEST_TMPDIR/metrics")" -eq 6 ]
    [ "$(metric ssed_channels)" -eq 21 ]
    promtool_check
    # 0: every channel summed
    stop_all
    start_ssed --metrics-channels 0
    curl -s -o /dev/null --max-time 5 -d x "$URL/one"
    scrape >/dev/null
    [ "$(grep -c '^ssed_channel_events_in_total' "$BATS_TEST_TMPDIR/metrics")" -eq 0 ]
    [ "$(grep -c '^ssed_channel_subscribers' "$BATS_TEST_TMPDIR/metrics")" -eq 1 ]
}

@test "metrics: many channels stay within the cap and the answer stays small" {
    start_ssed --max-channels 3000
    for n in $(seq 1 2000); do echo "url = \"$URL/ch$n\""; echo "data = \"x\""; done >"$BATS_TEST_TMPDIR/curl.cfg"
    curl -s -o /dev/null --max-time 60 --parallel --parallel-max 20 -K "$BATS_TEST_TMPDIR/curl.cfg"
    wait_for_metric ssed_channels 2001
    [ "$(grep -c '^ssed_channel_events_in_total' "$BATS_TEST_TMPDIR/metrics")" -eq 100 ]
    [ "$(grep -c '^ssed_channel_subscribers' "$BATS_TEST_TMPDIR/metrics")" -eq 101 ]
    [ "$(wc -c <"$BATS_TEST_TMPDIR/metrics")" -lt 40000 ]
}

@test "metrics: every character a channel name may hold reaches the label as it is; others are refused" {
    command -v promtool >/dev/null || skip "promtool (Debian package prometheus) is not installed"
    start_ssed
    name='a-b_c.d~e/F9/x.y'
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -d x "$URL/$name")" = 200 ]
    # a quote, a backslash or a line break cannot name a channel, so cannot reach a label
    for bad in 'q%22uote' 'back%5Cslash' 'new%0Aline' 'sp%20ace'; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -d x "$URL/$bad")" = 400 ]
    done
    wait_for_metric "ssed_channel_events_in_total{channel=\"/$name\"}" 1
    [ "$(metric 'ssed_refusals_total{reason="bad_request"}')" -eq 4 ]
    # a publish refused while its body is read (413: an event over
    # --max-event-size) is answered in JSON, and counted all the same
    head -c 2000000 /dev/zero | tr '\0' x | curl -s -o /dev/null --max-time 10 --data-binary @- "$URL/$name"
    scrape >/dev/null
    [ "$(metric 'ssed_refusals_total{reason="bad_request"}')" -eq 5 ]
    [ "$(metric ssed_channels)" -eq 2 ]
    promtool_check
}

@test "metrics: per-channel series only for whoever may publish, as in /_ssed/stats" {
    start_ssed --token s3cret-metrics
    auth=(-H 'Authorization: Bearer s3cret-metrics')
    curl -s -o /dev/null --max-time 5 "${auth[@]}" -d x "$URL/private-name"
    scrape "${auth[@]}" >/dev/null
    grep -q '^ssed_channel_events_in_total{channel="/private-name"} 1$' "$BATS_TEST_TMPDIR/metrics"
    scrape >/dev/null
    ! grep -q 'ssed_channel_' "$BATS_TEST_TMPDIR/metrics" || false
    ! grep -q 'private-name' "$BATS_TEST_TMPDIR/metrics" || false
    [ "$(metric ssed_publish_events_total)" -eq 1 ]
    scrape -H 'Authorization: Bearer wrong' >/dev/null
    ! grep -q 'private-name' "$BATS_TEST_TMPDIR/metrics" || false
    # stats agrees
    ! curl -s --max-time 5 "$URL/_ssed/stats" | grep -q '"channels"' || false
    # without a token: local peers see them, a request relayed by a proxy does not
    stop_all
    start_ssed
    curl -s -o /dev/null --max-time 5 -d x "$URL/private-name"
    scrape >/dev/null
    grep -q 'channel="/private-name"' "$BATS_TEST_TMPDIR/metrics"
    scrape -H 'X-Forwarded-For: 203.0.113.9' >/dev/null
    ! grep -q 'private-name' "$BATS_TEST_TMPDIR/metrics" || false
    grep -q '^ssed_channels 2$' "$BATS_TEST_TMPDIR/metrics"
}

@test "metrics: --metrics-channels takes 0 to 1000; other values are usage errors" {
    run "$SSED" --metrics-channels 1001 --no-stdin
    [ "$status" -eq 2 ]
    [[ "$output" == *"--metrics-channels"* ]]
    run "$SSED" --metrics-channels x --no-stdin
    [ "$status" -eq 2 ]
    [[ "$output" == *"--metrics-channels"*"'x'"* ]]
}
