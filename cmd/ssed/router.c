/* What each request gets: a subscription, an endpoint under /_ssed/, a CORS
 * preflight answer, or an error naming the problem. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "access.h"
#include "conn.h"
#include "json.h"
#include "listener.h"
#include "log.h"
#include "publish.h"
#include "token.h"
#include "viewer.h"

#define RESERVED_PREFIX "/_ssed/"
#define ALLOW_METHODS "GET, HEAD, OPTIONS, POST"
#define ALLOW_NO_PUBLISH "GET, HEAD, OPTIONS"
#define MAX_STREAM_CHANNELS 64
/* Channels one stream may create by waiting on them: the rest of the budget
 * is left to other clients. */
#define MAX_NEW_CHANNELS_PER_STREAM 16

static const char *allowed_methods(const conn *c) {
    return c->srv->opt->no_publish ? ALLOW_NO_PUBLISH : ALLOW_METHODS;
}

/* Strip the leading and trailing slashes: /news/ and news are one channel. */
static void trim_slashes(const char **name, size_t *len) {
    while (*len > 0 && (*name)[0] == '/')
        (*name)++, (*len)--;
    while (*len > 0 && (*name)[*len - 1] == '/')
        (*len)--;
}

static void cors_headers(conn *c, buf *b) {
    const char *origin = c->srv->opt->cors_origin;
    if (!origin)
        return;
    buf_printf(b, "Access-Control-Allow-Origin: %s\r\n", origin);
    if (strcmp(origin, "*") != 0)
        buf_append_str(b, "Vary: Origin\r\n");
}

/* Request framing that must be refused whatever the route: a body framed two
 * ways (request smuggling), conflicting or invalid lengths, no Host. */
static int check_framing(conn *c, const http_request *req, long long *content_length, int *chunked) {
    *content_length = -1;
    *chunked = 0;
    for (size_t i = 0; i < req->num_headers; i++) {
        const http_header *h = &req->headers[i];
        if (h->name_len == 14 && strncasecmp(h->name, "content-length", 14) == 0) {
            long long v = 0;
            if (h->value_len == 0 || h->value_len > 15) {
                reply_status(c, 400, "invalid Content-Length", NULL);
                return -1;
            }
            for (size_t k = 0; k < h->value_len; k++) {
                if (h->value[k] < '0' || h->value[k] > '9') {
                    reply_status(c, 400, "invalid Content-Length", NULL);
                    return -1;
                }
                v = v * 10 + (h->value[k] - '0');
            }
            if (*content_length >= 0 && *content_length != v) {
                reply_status(c, 400, "conflicting Content-Length headers", NULL);
                return -1;
            }
            *content_length = v;
        } else if (h->name_len == 17 && strncasecmp(h->name, "transfer-encoding", 17) == 0) {
            if (!(h->value_len == 7 && strncasecmp(h->value, "chunked", 7) == 0) || *chunked) {
                reply_status(c, req->minor_version == 0 ? 400 : 501, "unsupported Transfer-Encoding", NULL);
                return -1;
            }
            *chunked = 1;
        }
    }
    if (*chunked && *content_length >= 0) {
        reply_status(c, 400, "both Content-Length and Transfer-Encoding", NULL);
        return -1;
    }
    if (req->minor_version == 1 && !http_request_header(req, "host")) {
        reply_status(c, 400, "missing Host header", NULL);
        return -1;
    }
    return 0;
}

static void handle_reserved(conn *c, const http_request *req) {
    const char *name = req->path + strlen(RESERVED_PREFIX);
    size_t len = req->path_len - strlen(RESERVED_PREFIX);
    int head_only = http_request_method_is(req, "HEAD");
    if (!head_only && !http_request_method_is(req, "GET")) {
        reply_status(c, 405, "the /_ssed/ endpoints answer GET and HEAD", "Allow: GET, HEAD\r\n");
        return;
    }
    buf extra = BUF_INIT;
    cors_headers(c, &extra);
    buf_append_char(&extra, '\0');
    if (len == 6 && memcmp(name, "health", 6) == 0) {
        reply_body(c, 200, "text/plain; charset=utf-8", extra.data, "ok\n", 3, head_only);
    } else if (len == 5 && memcmp(name, "stats", 5) == 0) {
        buf body = BUF_INIT;
        stats_render(c->srv, &body, access_is_publisher(c, req));
        reply_body(c, 200, "application/json", extra.data, body.data, body.len, head_only);
        buf_free(&body);
    } else if (!viewer_serve_asset(c, name, len, head_only)) {
        reply_status(c, 404, "no such ssed endpoint (there are /_ssed/stats and /_ssed/health)", NULL);
    }
    buf_free(&extra);
}

static void handle_preflight(conn *c) {
    buf extra = BUF_INIT;
    buf_printf(&extra, "Allow: %s\r\n", allowed_methods(c));
    cors_headers(c, &extra);
    if (c->srv->opt->cors_origin)
        buf_printf(&extra,
                   "Access-Control-Allow-Methods: %s\r\n"
                   "Access-Control-Allow-Headers: Last-Event-ID, Cache-Control, Content-Type, Authorization, "
                   "SSE-Event, SSE-Id, SSE-Publisher, SSE-Sequence\r\n"
                   "Access-Control-Max-Age: 86400\r\n",
                   allowed_methods(c));
    buf_append_char(&extra, '\0');
    reply_body(c, 204, "text/plain; charset=utf-8", extra.data, "", 0, 1);
    buf_free(&extra);
}

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
    log_warn("subscriber %s on %s resumed after id '%.*s': events after it are no longer in history", c->peer, name,
             (int)(last_id_len > 64 ? 64 : last_id_len), last_id);
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
        reply_status(c, 503, "a stream may wait on at most 16 channels that nothing has published to yet",
                     "Retry-After: 5\r\n");
        return -1;
    }
    channel *ch = hub_channel_acquire(h, name, len, HUB_FOR_SUBSCRIBING);
    if (!ch) {
        reply_status(c, 503, "too many channels that nothing has published to yet (--max-channels)",
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
        reply_status(c, 414, "the channels list is longer than 4095 bytes", NULL);
        return -1;
    }
    if (list_len < 0) {
        const char *name = req->path;
        size_t len = req->path_len;
        trim_slashes(&name, &len);
        return acquire_for_stream(c, name, len, out, count, &created);
    }
    if (req->path_len != 1) {
        reply_status(c, 400, "use the channels parameter on / only (/?channels=a,b)", NULL);
        return -1;
    }
    if (memchr(list, '\0', (size_t)list_len)) {
        reply_status(c, 400, "invalid channel name in channels", NULL);
        return -1;
    }
    for (char *item = list, *next; item; item = next) {
        next = strchr(item, ',');
        if (next)
            *next++ = '\0';
        const char *name = item;
        size_t len = strlen(item);
        trim_slashes(&name, &len);
        if (!hub_channel_name_valid(name, len) || *count == MAX_STREAM_CHANNELS) {
            release_channels(&c->srv->hub, out, *count);
            reply_status(c, 400, *count == MAX_STREAM_CHANNELS ? "at most 64 channels in one stream"
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

static void handle_subscribe(conn *c, const http_request *req) {
    server *srv = c->srv;
    channel *chans[MAX_STREAM_CHANNELS];
    size_t count;
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
    cors_headers(c, &c->out);
    buf_append_str(&c->out, "\r\n");
    char flag[8];
    c->sub.envelope = http_query_param(req, "envelope", flag, sizeof flag) == 1 && flag[0] == '1';
    if (http_request_method_is(req, "HEAD") || subscriber_attach(&srv->hub, &c->sub, chans, count) < 0) {
        release_channels(&srv->hub, chans, count);
        if (!http_request_method_is(req, "HEAD")) {
            reply_status(c, 500, "out of memory", NULL);
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

/* Publishing turned off, or not allowed for this request (access.c). */
static int publish_allowed(conn *c, const http_request *req) {
    server *srv = c->srv;
    if (srv->opt->no_publish) {
        buf allow = BUF_INIT;
        buf_printf(&allow, "Allow: %s\r\n", ALLOW_NO_PUBLISH);
        buf_append_char(&allow, '\0');
        reply_status(c, 405, "publishing is turned off (--no-publish)", allow.data);
        buf_free(&allow);
        return 0;
    }
    access_denial why;
    int status = access_check_publish(c, req, &why);
    if (status == 0)
        return 1;
    if (status == 403)
        log_warn("refused a publisher at %s: %s", c->peer, why.reason);
    reply_status(c, status, why.reason, why.extra_headers);
    return 0;
}

/* A request parameter, from the query or else a header; -1 if absent, -2
 * if longer than size - 1. */
static long request_param(const http_request *req, const char *query_name, const char *header_name, char *out,
                          size_t size) {
    long n = http_query_param(req, query_name, out, size);
    if (n != -1)
        return n;
    const http_header *h = http_request_header(req, header_name);
    if (!h)
        return -1;
    if (h->value_len >= size)
        return -2;
    memcpy(out, h->value, h->value_len);
    out[h->value_len] = '\0';
    return (long)h->value_len;
}

static int body_kind_of(const http_request *req, enum body_kind *kind) {
    const http_header *ct = http_request_header(req, "content-type");
    *kind = BODY_LINES;
    if (!ct)
        return 0;
    const char *semicolon = memchr(ct->value, ';', ct->value_len); /* the value is not NUL-terminated */
    size_t n = semicolon ? (size_t)(semicolon - ct->value) : ct->value_len;
    while (n > 0 && (ct->value[n - 1] == ' ' || ct->value[n - 1] == '\t'))
        n--;
    static const struct {
        const char *type;
        enum body_kind kind;
    } types[] = {{"text/plain", BODY_LINES},
                 {"application/x-www-form-urlencoded", BODY_LINES},
                 {"text/event-stream", BODY_SSE},
                 {"application/json", BODY_WHOLE},
                 {"application/octet-stream", BODY_WHOLE}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i].type) == n && strncasecmp(ct->value, types[i].type, n) == 0) {
            *kind = types[i].kind;
            return 0;
        }
    return -1;
}

/* SSE-Publisher (16 hex digits, a random session id) and SSE-Sequence (the
 * number of the body's first event) let a publisher resend safely. */
static int publisher_numbering(conn *c, const http_request *req, publish_request *p) {
    const http_header *session = http_request_header(req, "sse-publisher");
    const http_header *sequence = http_request_header(req, "sse-sequence");
    if (!session && !sequence)
        return 0;
    uint64_t s = 0, q = 0;
    int ok = session && sequence && session->value_len >= 1 && session->value_len <= 16 &&
             sequence->value_len >= 1 && sequence->value_len <= 19;
    for (size_t i = 0; ok && i < session->value_len; i++) {
        char ch = session->value[i];
        int v = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        ok = v >= 0;
        s = s * 16 + (uint64_t)v;
    }
    for (size_t i = 0; ok && i < sequence->value_len; i++) {
        char ch = sequence->value[i];
        ok = ch >= '0' && ch <= '9';
        q = q * 10 + (uint64_t)(ch - '0');
    }
    if (!ok || s == 0) {
        reply_status(c, 400, "SSE-Publisher needs 1 to 16 lower-case hex digits (not all zero) and SSE-Sequence a number",
                     NULL);
        return -1;
    }
    p->dedup = c->srv->dedup;
    p->session = s;
    p->seq = q;
    return 0;
}

static void handle_publish(conn *c, const http_request *req, long long content_length, int chunked) {
    server *srv = c->srv;
    if (!publish_allowed(c, req)) {
        srv->stats.publish_refused++;
        return;
    }
    if (content_length < 0 && !chunked) {
        reply_status(c, 411, "a POST needs Content-Length or Transfer-Encoding: chunked", NULL);
        return;
    }
    enum body_kind kind;
    if (body_kind_of(req, &kind) < 0) {
        reply_status(c, 415,
                     "use Content-Type text/plain (one event per line), text/event-stream or application/json "
                     "(one event)",
                     NULL);
        return;
    }
    char type[256], id[HUB_MAX_ID_LEN + 1];
    long type_len = request_param(req, "event", "sse-event", type, sizeof type);
    long id_len = request_param(req, "id", "sse-id", id, sizeof id);
    if (type_len == -2 || id_len == -2) {
        reply_status(c, 400, type_len == -2 ? "the event type is longer than 255 bytes" : "the id is longer than 1024 bytes",
                     NULL);
        return;
    }
    if ((type_len > 0 && (strpbrk(type, "\r\n") || memchr(type, '\0', (size_t)type_len))) ||
        (id_len >= 0 && (strpbrk(id, "\r\n") || memchr(id, '\0', (size_t)id_len)))) {
        reply_status(c, 400, "an event type or id cannot contain a line break or NUL", NULL);
        return;
    }
    const char *name = req->path;
    size_t len = req->path_len;
    trim_slashes(&name, &len);
    channel *ch = hub_channel_acquire(&srv->hub, name, len, HUB_FOR_PUBLISHING);
    if (!ch) {
        reply_status(c, 503, "too many channels (--max-channels)", "Retry-After: 5\r\n");
        return;
    }
    publish_request *p = publish_start(&srv->hub, ch, srv->opt->max_event_size, kind, chunked,
                                       content_length < 0 ? 0 : (uint64_t)content_length);
    if (!p) {
        hub_channel_release(&srv->hub, ch);
        reply_status(c, 503, "out of memory", NULL);
        return;
    }
    if (type_len > 0) {
        memcpy(p->type, type, (size_t)type_len);
        p->type_len = (size_t)type_len;
    }
    if (id_len >= 0) {
        memcpy(p->id, id, (size_t)id_len);
        p->id_len = (size_t)id_len;
        p->has_id = 1;
    }
    if (publisher_numbering(c, req, p) < 0) {
        publish_free(p);
        return;
    }
    const http_header *connection = http_request_header(req, "connection");
    c->keep_alive = req->minor_version == 1 && !(connection && http_header_has_token(connection, "close"));
    conn_start_body(c, p);
    /* curl waits a second for this before sending a large body. */
    const http_header *expect = http_request_header(req, "expect");
    if (req->minor_version == 1 && expect && http_header_has_token(expect, "100-continue"))
        conn_send_interim(c, "HTTP/1.1 100 Continue\r\n\r\n");
}

void conn_finish_publish(conn *c, int ok) {
    server *srv = c->srv;
    publish_request *p = c->pub;
    c->pub = NULL;
    srv->stats.events_published += p->accepted;
    /* The answer says how many events were taken, even on failure, so a
     * publisher can resend exactly the rest. */
    buf body = BUF_INIT;
    buf_printf(&body, "{\"accepted\":%llu,\"channel\":\"/%s\"", (unsigned long long)p->accepted, p->ch->name);
    if (p->dedup)
        buf_printf(&body, ",\"duplicates\":%llu", (unsigned long long)p->duplicates);
    int status = ok ? 200 : p->status ? p->status : 400;
    if (!ok) {
        buf_append_str(&body, ",\"error\":");
        json_append_string(&body, p->error, strlen(p->error));
        c->keep_alive = 0;
        log_verbose("publish from %s to /%s failed after %llu events: %d %s", c->peer, p->ch->name,
                    (unsigned long long)p->accepted, status, p->error);
    }
    buf_append_str(&body, "}\n");
    publish_free(p);
    list_remove(&c->timer_link);
    list_push_back(&srv->reading, &c->timer_link);
    c->since_ms = loop_now_ms();
    reply_body(c, status, "application/json", NULL, body.data, body.len, 0);
    buf_free(&body);
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
 * a channel open. They get a stream only of a channel that exists. */
static int wants_no_stream(conn *c, const http_request *req) {
    const char *name = req->path;
    size_t len = req->path_len;
    trim_slashes(&name, &len);
    int automatic = (len == 11 && memcmp(name, "favicon.ico", 11) == 0) || (len == 10 && memcmp(name, "robots.txt", 10) == 0);
    if (!automatic && !accepts_only_images(req))
        return 0;
    return req->query != NULL || !hub_channel_find(&c->srv->hub, name, len);
}

void router_handle(conn *c, const http_request *req) {
    long long content_length;
    int chunked;
    if (check_framing(c, req, &content_length, &chunked) < 0)
        return;
    access_denial why;
    int refused = access_check_host(c, req, &why);
    if (refused) {
        reply_status(c, refused, why.reason, NULL);
        return;
    }
    size_t prefix = strlen(RESERVED_PREFIX);
    if (req->path_len >= prefix - 1 && memcmp(req->path, RESERVED_PREFIX, prefix - 1) == 0 &&
        (req->path_len == prefix - 1 || req->path[prefix - 1] == '/')) {
        if (req->path_len < prefix) {
            reply_status(c, 404, "no such ssed endpoint (there are /_ssed/stats and /_ssed/health)", NULL);
            return;
        }
        handle_reserved(c, req);
        return;
    }
    if (!hub_channel_name_valid(req->path + 1, req->path_len - 1)) {
        reply_status(c, 400, "invalid channel name (letters, digits, '-', '_', '.', '~' and '/')", NULL);
        return;
    }
    if (http_request_method_is(req, "OPTIONS")) {
        handle_preflight(c);
        return;
    }
    if (http_request_method_is(req, "POST")) {
        handle_publish(c, req, content_length, chunked);
        return;
    }
    if (!http_request_method_is(req, "GET") && !http_request_method_is(req, "HEAD")) {
        buf allow = BUF_INIT;
        buf_printf(&allow, "Allow: %s\r\n", allowed_methods(c));
        buf_append_char(&allow, '\0');
        reply_status(c, 405, "channels answer GET, HEAD, OPTIONS and POST", allow.data);
        buf_free(&allow);
        return;
    }
    if (content_length > 0 || chunked) {
        reply_status(c, 400, "a subscription request has no body", NULL);
        return;
    }
    if (viewer_serve_page(c, req))
        return;
    if (wants_no_stream(c, req)) {
        reply_status(c, 404, "not an event stream: no channel of that name", NULL);
        return;
    }
    handle_subscribe(c, req);
}
