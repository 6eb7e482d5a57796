/* Subscribing: the channels a request follows, its response head, the
 * history it is owed (with a gap notice when some is lost), and the
 * stream. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "access.h"
#include "cluster_node.h"
#include "log.h"
#include "stream.h"
#include "route_common.h"
#include "router.h"

#define MAX_STREAM_CHANNELS 64
/* Channels one stream may create by waiting on them: the rest of the budget
 * is left to other clients. */
#define MAX_NEW_CHANNELS_PER_STREAM 16

typedef struct gap_context {
    stream *st;
    const char *last_id;
    size_t last_id_len;
} gap_context;

/* The subscriber was told (ssed-gap) that ch no longer holds what followed
 * its id: ssed's operator is told too. */
static void log_gap(void *ctx, const channel *ch) {
    gap_context *gap = ctx;
    char name[256];
    snprintf(name, sizeof name, "/%.*s", (int)ch->name_len, ch->name);
    char id[65];
    snprintf(id, sizeof id, "%.*s", (int)(gap->last_id_len > 64 ? 64 : gap->last_id_len), gap->last_id);
    log_event(LOG_SEV_WARN, "subscriber resumed after an id whose successors are no longer in history",
              LOG_STR("peer", gap->st->peer), LOG_STR("channel", name), LOG_STR("last_event_id", id));
}

/* Let go of the channels a refused subscription had acquired. */
static void release_channels(hub *h, channel **chans, size_t count) {
    for (size_t k = 0; k < count; k++)
        hub_channel_release(h, chans[k]);
}

/* Acquire one channel of a subscription, counting those it creates. */
static int acquire_for_stream(stream *st, const char *name, size_t len, channel **out, size_t *count,
                              size_t *created) {
    hub *h = &st->srv->hub;
    channel *existing = hub_channel_find(h, name, len);
    for (size_t k = 0; existing && k < *count; k++)
        if (out[k] == existing)
            return 0; /* listed twice: followed once */
    if (!existing && ++*created > MAX_NEW_CHANNELS_PER_STREAM) {
        stream_reply_status(st, 503, "a stream may wait on at most 16 channels that nothing has published to yet",
                     "Retry-After: 5\r\n");
        return -1;
    }
    channel *ch = hub_channel_acquire(h, name, len, HUB_FOR_SUBSCRIBING);
    if (!ch) {
        stream_reply_status(st, 503, "too many channels that nothing has published to yet (--max-channels)",
                     "Retry-After: 5\r\n");
        return -1;
    }
    out[(*count)++] = ch;
    return 0;
}

/* The channels a request names: the path's, or the comma-separated
 * `channels` query parameter's (where "/" or "" is the root channel). */
typedef struct stream_request {
    char list[4096]; /* the decoded parameter the names point into */
    channel_name names[MAX_STREAM_CHANNELS];
    size_t count;
} stream_request;

static int already_named(const stream_request *s, channel_name n) {
    for (size_t k = 0; k < s->count; k++)
        if (s->names[k].len == n.len && memcmp(s->names[k].name, n.name, n.len) == 0)
            return 1;
    return 0;
}

/* Read the names (one listed twice is followed once); -1 after answering
 * when they are not acceptable. */
static int stream_names(stream *st, const http_request *req, stream_request *s) {
    long list_len = http_query_param(req, "channels", s->list, sizeof s->list);
    s->count = 0;
    if (list_len == -2) {
        stream_reply_status(st, 414, "the channels list is longer than 4095 bytes", NULL);
        return -1;
    }
    if (list_len < 0) {
        s->names[0] = (channel_name){req->path, req->path_len};
        route_trim_slashes(&s->names[0].name, &s->names[0].len);
        s->count = 1;
        return 0;
    }
    if (req->path_len != 1) {
        stream_reply_status(st, 400, "use the channels parameter on / only (/?channels=a,b)", NULL);
        return -1;
    }
    if (memchr(s->list, '\0', (size_t)list_len)) {
        stream_reply_status(st, 400, "invalid channel name in channels", NULL);
        return -1;
    }
    for (char *item = s->list, *next; item; item = next) {
        next = strchr(item, ',');
        if (next)
            *next++ = '\0';
        channel_name n = {item, strlen(item)};
        route_trim_slashes(&n.name, &n.len);
        if (!hub_channel_name_valid(n.name, n.len)) {
            stream_reply_status(st, 400, "invalid channel name in channels", NULL);
            return -1;
        }
        if (already_named(s, n))
            continue;
        if (s->count == MAX_STREAM_CHANNELS) {
            stream_reply_status(st, 400, "at most 64 channels in one stream", NULL);
            return -1;
        }
        s->names[s->count++] = n;
    }
    return 0;
}

/* May the request read them all (access.c)? -1 after refusing. */
static int may_read(stream *st, const http_request *req, const stream_request *s, int64_t *expires_s) {
    access_denial why;
    int status = access_check_subscribe(st, req, s->names, s->count, &why, expires_s);
    if (status == 0)
        return 0;
    log_verbose("refused a subscriber at %s: %s", st->peer, why.reason);
    buf extra = BUF_INIT;
    buf_append_str(&extra, why.extra_headers ? why.extra_headers : "");
    route_cors_headers(st, &extra); /* so a page of an allowed origin can read why */
    buf_append_char(&extra, '\0');
    if (extra.failed)
        stream_refuse_no_memory(st);
    else
        stream_reply_status(st, status, why.reason, extra.data);
    buf_free(&extra);
    return -1;
}

/* Acquire every channel named; -1 after answering (none held then). */
static int acquire_all(stream *st, const stream_request *s, channel **out, size_t *count) {
    size_t created = 0;
    *count = 0;
    for (size_t k = 0; k < s->count; k++)
        if (acquire_for_stream(st, s->names[k].name, s->names[k].len, out, count, &created) < 0) {
            release_channels(&st->srv->hub, out, *count);
            return -1;
        }
    return 0;
}

/* Does the Accept header list an image type and no event stream? */
static int accepts_only_images(const http_request *req) {
    const http_header *accept = http_request_header(req, "accept");
    if (!accept || http_header_has_token(accept, "text/event-stream"))
        return 0;
    for (size_t i = 0; i + 6 <= accept->value_len; i++)
        if (strncasecmp(accept->value + i, "image/", 6) == 0 && (i == 0 || strchr(" ,\t", accept->value[i - 1])))
            return 1;
    return 0;
}

/* Browsers fetch /favicon.ico and /robots.txt on their own and images by
 * Accept: none of those wants a stream, and none may hold a connection and
 * a channel open. They get a stream only of a channel that exists, asked
 * once access is granted: a 404 before a 401 would tell anyone without a
 * token which private channels exist. */
static int wants_no_stream(stream *st, const http_request *req) {
    const char *name = req->path;
    size_t len = req->path_len;
    route_trim_slashes(&name, &len);
    int automatic = (len == 11 && memcmp(name, "favicon.ico", 11) == 0) || (len == 10 && memcmp(name, "robots.txt", 10) == 0);
    if (!automatic && !accepts_only_images(req))
        return 0;
    return req->query != NULL || !hub_channel_find(&st->srv->hub, name, len);
}

/* Is this node behind the cluster on a channel the request resumes on
 * (server_cluster_may_resume)? Then it answers 503: the client tries
 * again, or another node, once the node has caught up. */
static int cluster_behind(stream *st, const http_request *req, const stream_request *s) {
    char query_id[HUB_MAX_ID_LEN + 1];
    const http_header *h = http_request_header(req, "last-event-id");
    long query_len = h ? -1 : http_query_param(req, "lastEventId", query_id, sizeof query_id);
    const char *id = h ? h->value : query_len >= 0 ? query_id : NULL;
    size_t id_len = h ? h->value_len : query_len >= 0 ? (size_t)query_len : 0;
    for (size_t k = 0; k < s->count; k++)
        if (!server_cluster_may_resume(st->srv, s->names[k].name, s->names[k].len, id, id_len)) {
            stream_reply_status(st, 503, "this node is catching up with the cluster on a channel resumed; try again",
                                "Retry-After: 1\r\n");
            return 1;
        }
    return 0;
}

void subscribe_route_handle(stream *st, const http_request *req) {
    server *srv = st->srv;
    channel *chans[MAX_STREAM_CHANNELS];
    size_t count;
    stream_request names;
    int64_t expires_s;
    if (stream_names(st, req, &names) < 0 || may_read(st, req, &names, &expires_s) < 0)
        return;
    if (wants_no_stream(st, req)) {
        stream_reply_status(st, 404, "not an event stream: no channel of that name", NULL);
        return;
    }
    char mode[16];
    if (http_query_param(req, "replay", mode, sizeof mode) != -1) {
        replay_route_start(st, mode, names.count == 1 ? names.names[0] : (channel_name){"", 0}, names.count);
        return;
    }
    if (!server_cluster_synced(srv)) {
        /* History is not read from Redis yet: a Last-Event-ID would not be
         * found (a false gap), and old events would come as new ones. */
        stream_reply_status(st, 503, "this node is still reading the cluster's history from Redis; try again",
                          "Retry-After: 1\r\n");
        return;
    }
    if (cluster_behind(st, req, &names) || acquire_all(st, &names, chans, &count) < 0)
        return;
    stream_restart_output(st);
    size_t owed = st->out.len; /* an interim response's unsent bytes */
    int failed = route_stream_head(st) < 0;
    char flag[8];
    st->sub.envelope = http_query_param(req, "envelope", flag, sizeof flag) == 1 && flag[0] == '1';
    if (failed || http_request_method_is(req, "HEAD") || subscriber_attach(&srv->hub.subs, &st->sub, chans, count) < 0) {
        release_channels(&srv->hub, chans, count);
        if (failed || !http_request_method_is(req, "HEAD")) {
            st->out.len = owed; /* not the 200's head before the refusal */
            stream_reply_status(st, 503, "out of memory", "Retry-After: 1\r\n");
            return;
        }
        stream_start_reply(st);
        return;
    }
    /* The first bytes open the stream at once for clients and proxies. */
    if (srv->opt->retry_ms >= 0)
        sse_encode_retry(&st->out, (unsigned long long)srv->opt->retry_ms);
    char name[256];
    stream_name(st, name, sizeof name);
    buf_printf(&st->out, ": ssed stream %s\n\n", name);

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
    gap_context gap = {st, last_id ? last_id : "", last_id ? last_len : 0};
    if (query_len == -2) {
        /* Too long: history reads none of it, and answers with a gap; the
         * notice repeats it up to the NUL, so as "" (query_id is ""). */
        last_id = query_id;
        last_len = HUB_MAX_ID_LEN + 1;
    }
    subscriber_resume(&srv->hub.subs, &st->sub, last_id, last_len, srv->opt->replay, log_gap, &gap);
    stream_subscribe(st);
    if (expires_s)
        stream_end_at(st, expires_s);
}

