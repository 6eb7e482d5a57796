/* Subscribing: the channels a request follows, its response head, the
 * history it is owed (with a gap notice when some is lost), and the
 * stream. */
#include <stdio.h>
#include <string.h>

#include "cluster_node.h"
#include "json.h"
#include "log.h"
#include "conn.h"
#include "route_common.h"
#include "router.h"

#define MAX_STREAM_CHANNELS 64
/* Channels one stream may create by waiting on them: the rest of the budget
 * is left to other clients. */
#define MAX_NEW_CHANNELS_PER_STREAM 16

typedef struct gap_context {
    conn *c;
    const char *last_id;
    size_t last_id_len;
} gap_context;

/* A notice that events the subscriber asked for are no longer retained. */
static void queue_gap_notice(void *ctx) {
    gap_context *gap = ctx;
    conn *c = gap->c;
    const char *last_id = gap->last_id;
    size_t last_id_len = gap->last_id_len;
    channel *ch = subscriber_channel(&c->sub);
    buf data = BUF_INIT;
    buf_append_str(&data, "{\"last_event_id\":");
    json_append_string(&data, last_id, last_id_len > HUB_MAX_ID_LEN ? HUB_MAX_ID_LEN : last_id_len);
    buf_append_str(&data, ",\"oldest_retained_id\":");
    if (ch->ring_len) {
        shared_event *oldest = channel_history_at(ch, 0);
        json_append_string(&data, oldest->id, oldest->id_len);
    } else {
        buf_append_str(&data, "null");
    }
    buf_append_char(&data, '}');
    sse_out_event ev = {"ssed-gap", 8, NULL, 0, 0, data.data, data.len, -1};
    int rc;
    shared_event *e = shared_event_new(&ev, &rc);
    if (e) {
        subscriber_enqueue_owed(&c->srv->hub, &c->sub, e);
        shared_event_unref(e);
    }
    buf_free(&data);
    char name[256];
    conn_stream_name(c, name, sizeof name);
    char id[65];
    snprintf(id, sizeof id, "%.*s", (int)(last_id_len > 64 ? 64 : last_id_len), last_id);
    log_event(LOG_SEV_WARN, "subscriber resumed after an id whose successors are no longer in history", LOG_STR("peer", c->peer),
              LOG_STR("channel", name), LOG_STR("last_event_id", id));
}

/* Let go of the channels a refused subscription had acquired. */
static void release_channels(hub *h, channel **chans, size_t count) {
    for (size_t k = 0; k < count; k++)
        hub_channel_release(h, chans[k]);
}

/* Acquire one channel of a subscription, counting those it creates. */
static int acquire_for_stream(conn *c, const char *name, size_t len, channel **out, size_t *count,
                              size_t *created) {
    hub *h = &c->srv->hub;
    channel *existing = hub_channel_find(h, name, len);
    for (size_t k = 0; existing && k < *count; k++)
        if (out[k] == existing)
            return 0; /* listed twice: followed once */
    if (!existing && ++*created > MAX_NEW_CHANNELS_PER_STREAM) {
        conn_reply_status(c, 503, "a stream may wait on at most 16 channels that nothing has published to yet",
                     "Retry-After: 5\r\n");
        return -1;
    }
    channel *ch = hub_channel_acquire(h, name, len, HUB_FOR_SUBSCRIBING);
    if (!ch) {
        conn_reply_status(c, 503, "too many channels that nothing has published to yet (--max-channels)",
                     "Retry-After: 5\r\n");
        return -1;
    }
    out[(*count)++] = ch;
    return 0;
}

/* The channels a subscription follows, each acquired: the path's, or the
 * comma-separated `channels` query parameter's (where "/" or "" is the root
 * channel). */
static int stream_channels(conn *c, const http_request *req, channel **out, size_t *count) {
    char list[4096];
    long list_len = http_query_param(req, "channels", list, sizeof list);
    size_t created = 0;
    *count = 0;
    if (list_len == -2) {
        conn_reply_status(c, 414, "the channels list is longer than 4095 bytes", NULL);
        return -1;
    }
    if (list_len < 0) {
        const char *name = req->path;
        size_t len = req->path_len;
        route_trim_slashes(&name, &len);
        return acquire_for_stream(c, name, len, out, count, &created);
    }
    if (req->path_len != 1) {
        conn_reply_status(c, 400, "use the channels parameter on / only (/?channels=a,b)", NULL);
        return -1;
    }
    if (memchr(list, '\0', (size_t)list_len)) {
        conn_reply_status(c, 400, "invalid channel name in channels", NULL);
        return -1;
    }
    for (char *item = list, *next; item; item = next) {
        next = strchr(item, ',');
        if (next)
            *next++ = '\0';
        const char *name = item;
        size_t len = strlen(item);
        route_trim_slashes(&name, &len);
        if (!hub_channel_name_valid(name, len) || *count == MAX_STREAM_CHANNELS) {
            release_channels(&c->srv->hub, out, *count);
            conn_reply_status(c, 400, *count == MAX_STREAM_CHANNELS ? "at most 64 channels in one stream"
                                                                : "invalid channel name in channels",
                         NULL);
            return -1;
        }
        if (acquire_for_stream(c, name, len, out, count, &created) < 0) {
            release_channels(&c->srv->hub, out, *count);
            return -1;
        }
    }
    return 0;
}

void subscribe_route_handle(conn *c, const http_request *req) {
    server *srv = c->srv;
    channel *chans[MAX_STREAM_CHANNELS];
    size_t count;
    if (!server_cluster_synced(srv)) {
        /* History is not read from Redis yet: a Last-Event-ID would not be
         * found (a false gap), and old events would come as new ones. */
        conn_reply_status(c, 503, "this node is still reading the cluster's history from Redis; try again",
                          "Retry-After: 1\r\n");
        return;
    }
    if (stream_channels(c, req, chans, &count) < 0)
        return;
    buf_clear(&c->out);
    buf_append_str(&c->out, "HTTP/1.1 200 OK\r\n"
                            "Content-Type: text/event-stream; charset=utf-8\r\n"
                            "Cache-Control: no-store\r\n"
                            "X-Accel-Buffering: no\r\n"
                            "Connection: close\r\n");
    if (!srv->opt->no_ui)
        buf_append_str(&c->out, "Vary: Accept\r\n"); /* browsers asking for HTML get the viewer here */
    route_cors_headers(c, &c->out);
    buf_append_str(&c->out, "\r\n");
    char flag[8];
    c->sub.envelope = http_query_param(req, "envelope", flag, sizeof flag) == 1 && flag[0] == '1';
    if (http_request_method_is(req, "HEAD") || subscriber_attach(&srv->hub, &c->sub, chans, count) < 0) {
        release_channels(&srv->hub, chans, count);
        if (!http_request_method_is(req, "HEAD")) {
            conn_reply_status(c, 500, "out of memory", NULL);
            return;
        }
        conn_start_reply(c);
        return;
    }
    /* The first bytes open the stream at once for clients and proxies. */
    if (srv->opt->retry_ms >= 0)
        sse_encode_retry(&c->out, (unsigned long long)srv->opt->retry_ms);
    char name[256];
    conn_stream_name(c, name, sizeof name);
    buf_printf(&c->out, ": ssed stream %s\n\n", name);

    /* Any Last-Event-ID is passed on, even one longer than ssed's ids: the
     * hub answers that with a gap notice rather than ignoring it. */
    char query_id[HUB_MAX_ID_LEN + 1];
    const char *last_id = NULL;
    size_t last_len = 0;
    const http_header *h = http_request_header(req, "last-event-id");
    long query_len = h ? -1 : http_query_param(req, "lastEventId", query_id, sizeof query_id);
    if (h) {
        last_id = h->value;
        last_len = h->value_len;
    } else if (query_len >= 0) {
        last_id = query_id;
        last_len = (size_t)query_len;
    }
    gap_context gap = {c, last_id ? last_id : "", last_id ? last_len : 0};
    if (query_len == -2) {
        last_id = query_id; /* too long: the hub reads none of it, and answers with a gap */
        last_len = HUB_MAX_ID_LEN + 1;
    }
    hub_queue_history(&srv->hub, &c->sub, last_id, last_len, srv->opt->replay, queue_gap_notice, &gap);
    conn_start_stream(c);
}

