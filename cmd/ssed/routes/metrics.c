/* /_ssed/metrics: the figures of /_ssed/stats, and a delivery-latency
 * histogram, for Prometheus to scrape. Built into one buffer with no other
 * allocation: the channels to label are picked into a bounded array on
 * the stack. */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"

void metrics_append_label_value(buf *out, const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\')
            buf_append(out, "\\\\", 2);
        else if (s[i] == '"')
            buf_append(out, "\\\"", 2);
        else if (s[i] == '\n')
            buf_append(out, "\\n", 2);
        else
            buf_append_char(out, s[i]);
    }
}

static void family(buf *out, const char *name, const char *type, const char *help) {
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void scalar(buf *out, const char *name, const char *type, const char *help, uint64_t value) {
    family(out, name, type, help);
    buf_printf(out, "%s %llu\n", name, (unsigned long long)value);
}

/* The channels to label: the busiest by events published (ties: by name),
 * kept in a min-heap whose root is the first to give way; and what the
 * others add up to. */
typedef struct channel_pick {
    const channel *top[METRICS_MAX_CHANNELS];
    size_t count, cap;
    uint64_t other_in, other_out, other_subscribers;
    size_t other_count;
    uint64_t history_events; /* of every channel */
} channel_pick;

static int busier(const channel *a, const channel *b) {
    if (a->events_in != b->events_in)
        return a->events_in > b->events_in;
    return strcmp(a->name, b->name) < 0;
}

static void add_to_other(channel_pick *p, const channel *c) {
    p->other_in += c->events_in;
    p->other_out += c->events_out;
    p->other_subscribers += c->subscriber_count;
    p->other_count++;
}

static void heap_swap(channel_pick *p, size_t i, size_t j) {
    const channel *t = p->top[i];
    p->top[i] = p->top[j];
    p->top[j] = t;
}

static void heap_sift_down(channel_pick *p, size_t i) {
    for (;;) {
        size_t least = i, l = 2 * i + 1, r = l + 1;
        if (l < p->count && busier(p->top[least], p->top[l]))
            least = l;
        if (r < p->count && busier(p->top[least], p->top[r]))
            least = r;
        if (least == i)
            return;
        heap_swap(p, i, least);
        i = least;
    }
}

static void pick_channel(void *ctx, const channel *c) {
    channel_pick *p = ctx;
    p->history_events += c->ring_len;
    if (p->count < p->cap) {
        size_t i = p->count++;
        p->top[i] = c;
        while (i > 0 && busier(p->top[(i - 1) / 2], p->top[i])) {
            heap_swap(p, i, (i - 1) / 2);
            i = (i - 1) / 2;
        }
    } else if (p->count > 0 && busier(c, p->top[0])) {
        add_to_other(p, p->top[0]);
        p->top[0] = c;
        heap_sift_down(p, 0);
    } else {
        add_to_other(p, c);
    }
}

static int by_name(const void *a, const void *b) {
    return strcmp((*(const channel *const *)a)->name, (*(const channel *const *)b)->name);
}

enum channel_figure { FIGURE_EVENTS_IN, FIGURE_EVENTS_OUT, FIGURE_SUBSCRIBERS };

static uint64_t figure_of(const channel *c, enum channel_figure f) {
    return f == FIGURE_EVENTS_IN ? c->events_in : f == FIGURE_EVENTS_OUT ? c->events_out : c->subscriber_count;
}

static void channel_family(buf *out, const channel_pick *p, enum channel_figure f, const char *name,
                           const char *type, const char *help) {
    family(out, name, type, help);
    for (size_t i = 0; i < p->count; i++) {
        const channel *c = p->top[i];
        buf_printf(out, "%s{channel=\"/", name);
        metrics_append_label_value(out, c->name, c->name_len);
        buf_printf(out, "\"} %llu\n", (unsigned long long)figure_of(c, f));
    }
    /* Only the gauge: a counter summed over a changing set of channels
     * would go down when a channel joins the labelled ones or is freed, and
     * Prometheus would read that as a reset. ssed_publish_events_total and
     * ssed_events_delivered_total count every channel. */
    if (p->other_count && f == FIGURE_SUBSCRIBERS) {
        uint64_t rest = f == FIGURE_EVENTS_IN ? p->other_in : f == FIGURE_EVENTS_OUT ? p->other_out
                                                                                     : p->other_subscribers;
        buf_printf(out, "%s{channel=\"" METRICS_OTHER_CHANNELS "\"} %llu\n", name, (unsigned long long)rest);
    }
}

static void render_channels(buf *out, const channel_pick *p) {
    channel_family(out, p, FIGURE_EVENTS_IN, "ssed_channel_events_in_total", "counter",
                   "Events published to the channel (HTTP, inputs, cluster).");
    channel_family(out, p, FIGURE_EVENTS_OUT, "ssed_channel_events_out_total", "counter",
                   "Events of the channel queued to subscribers, history replays included.");
    channel_family(out, p, FIGURE_SUBSCRIBERS, "ssed_channel_subscribers", "gauge",
                   "Subscribers following the channel now.");
}

static const char *const refusal_names[REFUSAL_KINDS] = {"bad_request", "forbidden", "not_found", "method",
                                                         "unavailable"};

static void render_refusals(buf *out, const server_stats *s) {
    family(out, "ssed_refusals_total", "counter",
           "Requests refused, by reason: an error reply, or closed as busy (--max-clients) or on --header-timeout.");
    for (size_t i = 0; i < REFUSAL_KINDS; i++)
        buf_printf(out, "ssed_refusals_total{reason=\"%s\"} %llu\n", refusal_names[i],
                   (unsigned long long)s->refusals[i]);
    buf_printf(out, "ssed_refusals_total{reason=\"busy\"} %llu\n", (unsigned long long)s->rejected_busy);
    buf_printf(out, "ssed_refusals_total{reason=\"header_timeout\"} %llu\n", (unsigned long long)s->header_timeouts);
}

static void render_intake(buf *out, const intake_gate *g) {
    family(out, "ssed_intake_paused", "gauge",
           "1 while input (stdin, FIFO, publishers' bodies, Redis) waits for this reason: a flush round owes bytes, "
           "the store cannot write, the cluster's link is down.");
    for (int r = 0; r < INTAKE_REASONS; r++)
        buf_printf(out, "ssed_intake_paused{reason=\"%s\"} %d\n", intake_reason_name((enum intake_reason)r),
                   intake_gate_holds(g, INTAKE_BIT(r)));
    scalar(out, "ssed_intake_waits_total", "counter", "Times an input began to wait for the intake gate to open.",
           g->waits);
}

static void render_latency(buf *out, const latency_histogram *h) {
    family(out, "ssed_delivery_latency_seconds", "histogram",
           "Time from an event's publish to the write that completed it on a live subscriber's socket.");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < LATENCY_BOUNDS; i++) {
        cumulative += h->buckets[i];
        buf_printf(out, "ssed_delivery_latency_seconds_bucket{le=\"%g\"} %llu\n", (double)latency_bound_us[i] / 1e6,
                   (unsigned long long)cumulative);
    }
    buf_printf(out,
               "ssed_delivery_latency_seconds_bucket{le=\"+Inf\"} %llu\n"
               "ssed_delivery_latency_seconds_sum %.6f\n"
               "ssed_delivery_latency_seconds_count %llu\n",
               (unsigned long long)h->count, (double)h->sum_us / 1e6, (unsigned long long)h->count);
}

void metrics_render(server *srv, buf *out, int per_channel) {
    const server_stats *s = &srv->stats;
    channel_pick pick;
    pick.count = pick.other_count = 0;
    pick.other_in = pick.other_out = pick.other_subscribers = pick.history_events = 0;
    pick.cap = per_channel ? (size_t)srv->opt->metrics_channels : 0;
    hub_for_each_channel(&srv->hub, pick_channel, &pick);
    qsort(pick.top, pick.count, sizeof pick.top[0], by_name);
    /* About 5 KiB of totals and 400 bytes a labelled channel: grown once. */
    buf_reserve(out, 6144 + (pick.count + 1) * 400);

    scalar(out, "ssed_uptime_seconds", "gauge", "Seconds since ssed started.",
           (clock_now_ms() - s->started_ms) / 1000);
    scalar(out, "ssed_connections", "gauge", "Client TCP (or unix socket) connections open now.",
           srv->conn_count - srv->h2_stream_count);
    scalar(out, "ssed_connections_accepted_total", "counter", "Client TCP (or unix socket) connections accepted.",
           s->connections_total);
    scalar(out, "ssed_h2_streams", "gauge", "HTTP/2 streams open now.", srv->h2_stream_count);
    scalar(out, "ssed_h2_streams_total", "counter", "HTTP/2 streams opened.", s->h2_streams_total);
    scalar(out, "ssed_subscribers", "gauge", "Event streams open now.", srv->subscriber_count);
    scalar(out, "ssed_subscribers_total", "counter", "Event streams started.", s->subscribers_total);
    scalar(out, "ssed_channels", "gauge", "Channels that exist now.", srv->hub.channel_count);
    scalar(out, "ssed_bytes_out_total", "counter", "Bytes written to clients.", s->bytes_out);
    scalar(out, "ssed_slow_subscriber_drops_total", "counter",
           "Subscribers dropped for owing more than --max-pending.", srv->hub.subs.slow_drops);
    render_refusals(out, s);
    scalar(out, "ssed_publish_requests_total", "counter", "POST requests to a channel, refused ones included.",
           s->publish_requests);
    scalar(out, "ssed_publish_events_total", "counter", "Events published over HTTP, duplicates not counted.",
           s->events_published);
    scalar(out, "ssed_publish_duplicates_total", "counter", "Events skipped as already published (id seen).",
           s->publish_duplicates);
    scalar(out, "ssed_oversized_records_total", "counter", "Input records skipped as larger than --max-event-size.",
           s->oversized_records);
    scalar(out, "ssed_history_events", "gauge", "Events retained in history, all channels together.",
           pick.history_events);
    scalar(out, "ssed_history_bytes", "gauge", "Bytes of history retained, all channels together.",
           srv->hub.history.bytes);
    scalar(out, "ssed_subscriber_writes_total", "counter",
           "Write calls to subscribers; divided by ssed_events_delivered_total, writes per delivered event.",
           s->subscriber_writes);
    scalar(out, "ssed_events_delivered_total", "counter",
           "Events written whole to subscribers, keep-alives and notices included.", s->events_delivered);
    if (srv->opt->redis_url)
        scalar(out, "ssed_redis_messages_refused_total", "counter",
               "Messages, stream entries, events and channel names read from Redis and refused as malformed.",
               s->redis_refused);
    render_intake(out, &srv->intake);
    render_latency(out, &s->delivery_latency);
    if (per_channel)
        render_channels(out, &pick);
}
