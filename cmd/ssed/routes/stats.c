/* The JSON answer of /_ssed/stats. It names no token, path or environment:
 * totals only, and channel names and figures only to those who may
 * publish. */
#include "stats.h"

#include "clock.h"
#include "cluster_node.h"

typedef struct channel_list {
    buf *out;
    int first;
} channel_list;

static void append_channel(void *ctx, const channel *c) {
    channel_list *list = ctx;
    if (!list->first)
        buf_append_char(list->out, ',');
    list->first = 0;
    /* Channel names are checked to hold no character JSON escapes. */
    buf_printf(list->out, "{\"name\":\"/%s\",\"subscribers\":%zu,\"events_in\":%llu,\"events_out\":%llu,\"history\":%zu}",
               c->name, c->subscriber_count, (unsigned long long)c->events_in, (unsigned long long)c->events_out,
               c->ring_len);
}

/* "intake_paused": the reasons the intake gate is closed for now, [] when
 * open; "intake_waits": how often an input has had to wait on it. */
static void append_intake(const intake_gate *g, buf *out) {
    buf_append_str(out, ",\"intake_paused\":[");
    for (int r = 0, first = 1; r < INTAKE_REASONS; r++)
        if (intake_gate_holds(g, INTAKE_BIT(r))) {
            buf_printf(out, "%s\"%s\"", first ? "" : ",", intake_reason_name((enum intake_reason)r));
            first = 0;
        }
    buf_printf(out, "],\"intake_waits\":%llu", (unsigned long long)g->waits);
}

void stats_render(server *srv, buf *out, int per_channel) {
    const server_stats *s = &srv->stats;
    buf_printf(out,
               "{\"uptime_seconds\":%llu,\"subscribers\":%zu,\"subscribers_total\":%llu,\"connections\":%zu,"
               "\"connections_total\":%llu,\"h2_streams\":%zu,\"h2_streams_total\":%llu,\"publish_duplicates\":%llu,\"bytes_out\":%llu,\"slow_subscriber_drops\":%llu,"
               "\"oversized_records\":%llu,\"rejected_busy\":%llu,\"header_timeouts\":%llu,\"events_published\":%llu,"
               "\"publish_refused\":%llu,\"subscriber_writes\":%llu,\"events_delivered\":%llu,"
               "\"writes_per_delivery\":%.3f,\"channel_count\":%zu,\"h2_buffered_bytes\":%zu,"
               "\"h2_over_budget_goaways\":%llu",
               (unsigned long long)((clock_now_ms() - s->started_ms) / 1000), srv->subscriber_count,
               (unsigned long long)s->subscribers_total, srv->conn_count - srv->h2_stream_count, (unsigned long long)s->connections_total,
               srv->h2_stream_count, (unsigned long long)s->h2_streams_total, (unsigned long long)s->publish_duplicates,
               (unsigned long long)s->bytes_out, (unsigned long long)srv->hub.subs.slow_drops,
               (unsigned long long)s->oversized_records, (unsigned long long)s->rejected_busy,
               (unsigned long long)s->header_timeouts, (unsigned long long)s->events_published,
               (unsigned long long)s->publish_refused, (unsigned long long)s->subscriber_writes,
               (unsigned long long)s->events_delivered,
               s->events_delivered ? (double)s->subscriber_writes / (double)s->events_delivered : 0.0,
               srv->hub.channel_count, srv->h2_held, (unsigned long long)s->h2_over_budget_goaways);
    append_intake(&srv->intake, out);
    server_cluster_stats(srv, out);
    if (!per_channel) {
        buf_append_str(out, "}\n");
        return;
    }
    buf_append_str(out, ",\"channels\":[");
    channel_list list = {out, 1};
    hub_for_each_channel(&srv->hub, append_channel, &list);
    buf_append_str(out, "]}\n");
}
