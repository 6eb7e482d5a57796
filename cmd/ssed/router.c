/* What each request gets: a subscription, an endpoint under /_ssed/, a CORS
 * preflight answer, or an error naming the problem. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conn.h"
#include "json.h"
#include "log.h"

#define RESERVED_PREFIX "/_ssed/"
#define MAX_CHANNEL_NAME 200
#define ALLOW_METHODS "GET, HEAD, OPTIONS"

static int valid_channel_path(const char *path, size_t len) {
    if (len - 1 > MAX_CHANNEL_NAME)
        return 0;
    for (size_t i = 1; i < len; i++) {
        char ch = path[i];
        if (!(ch == '-' || ch == '_' || ch == '.' || ch == '~' || ch == '/' || (ch >= '0' && ch <= '9') ||
              (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
            return 0;
        if (ch == '.' && i + 1 < len && path[i + 1] == '.')
            return 0;
    }
    return 1;
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
        stats_render(c->srv, &body);
        reply_body(c, 200, "application/json", extra.data, body.data, body.len, head_only);
        buf_free(&body);
    } else {
        reply_status(c, 404, "no such ssed endpoint (there are /_ssed/stats and /_ssed/health)", NULL);
    }
    buf_free(&extra);
}

static void handle_preflight(conn *c) {
    buf extra = BUF_INIT;
    buf_printf(&extra, "Allow: %s\r\n", ALLOW_METHODS);
    cors_headers(c, &extra);
    if (c->srv->opt->cors_origin)
        buf_printf(&extra,
                   "Access-Control-Allow-Methods: %s\r\n"
                   "Access-Control-Allow-Headers: Last-Event-ID, Cache-Control, Content-Type, Authorization\r\n"
                   "Access-Control-Max-Age: 86400\r\n",
                   ALLOW_METHODS);
    buf_append_char(&extra, '\0');
    reply_body(c, 204, "text/plain; charset=utf-8", extra.data, "", 0, 1);
    buf_free(&extra);
}

/* A notice that events the subscriber asked for are no longer retained. */
static void queue_gap_notice(conn *c, const char *last_id, size_t last_id_len) {
    channel *ch = c->sub.ch;
    buf data = BUF_INIT;
    buf_append_str(&data, "{\"last_event_id\":");
    json_append_string(&data, last_id, last_id_len);
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
        subscriber_enqueue(&c->srv->hub, &c->sub, e);
        shared_event_unref(e);
    }
    buf_free(&data);
    log_warn("subscriber %s on /%s resumed after id '%.*s': events after it are no longer in history", c->peer,
             ch->name, (int)(last_id_len > 64 ? 64 : last_id_len), last_id);
}

static void handle_subscribe(conn *c, const http_request *req) {
    server *srv = c->srv;
    const char *name = req->path + 1;
    size_t name_len = req->path_len - 1;
    while (name_len > 0 && name[name_len - 1] == '/')
        name_len--; /* /news/ and /news are one channel */
    channel *ch = hub_channel(&srv->hub, name, name_len, 1);
    if (!ch) {
        reply_status(c, 503, "too many channels (--max-channels)", "Retry-After: 5\r\n");
        return;
    }
    buf_clear(&c->out);
    buf_append_str(&c->out, "HTTP/1.1 200 OK\r\n"
                            "Content-Type: text/event-stream; charset=utf-8\r\n"
                            "Cache-Control: no-store\r\n"
                            "X-Accel-Buffering: no\r\n"
                            "Connection: close\r\n");
    cors_headers(c, &c->out);
    buf_append_str(&c->out, "\r\n");
    if (http_request_method_is(req, "HEAD")) {
        hub_release_channel(&srv->hub, ch);
        conn_start_reply(c);
        return;
    }
    /* The first bytes open the stream at once for clients and proxies. */
    if (srv->opt->retry_ms >= 0)
        sse_encode_retry(&c->out, (unsigned long long)srv->opt->retry_ms);
    buf_append_str(&c->out, ": ssed stream /");
    buf_append(&c->out, ch->name, ch->name_len);
    buf_append_str(&c->out, "\n\n");

    subscriber_attach(&srv->hub, &c->sub, ch);
    char last_id[1024];
    long last_len = -1;
    const http_header *h = http_request_header(req, "last-event-id");
    if (h && h->value_len < sizeof last_id) {
        memcpy(last_id, h->value, h->value_len);
        last_len = (long)h->value_len;
    } else if (!h) {
        last_len = http_query_param(req, "lastEventId", last_id, sizeof last_id);
    }
    size_t from = ch->ring_len;
    if (last_len >= 0) {
        int gap;
        from = hub_resume_point(&srv->hub, ch, last_id, (size_t)last_len, &gap);
        if (gap)
            queue_gap_notice(c, last_id, (size_t)last_len);
    } else if (srv->opt->replay > 0) {
        from = ch->ring_len > srv->opt->replay ? ch->ring_len - srv->opt->replay : 0;
    }
    for (size_t i = from; i < ch->ring_len; i++)
        subscriber_enqueue(&srv->hub, &c->sub, channel_history_at(ch, i));
    conn_start_stream(c);
}

void router_handle(conn *c, const http_request *req) {
    long long content_length;
    int chunked;
    if (check_framing(c, req, &content_length, &chunked) < 0)
        return;
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
    if (!valid_channel_path(req->path, req->path_len)) {
        reply_status(c, 400, "invalid channel name (letters, digits, '-', '_', '.', '~' and '/')", NULL);
        return;
    }
    if (http_request_method_is(req, "OPTIONS")) {
        handle_preflight(c);
        return;
    }
    if (!http_request_method_is(req, "GET") && !http_request_method_is(req, "HEAD")) {
        reply_status(c, 405, "channels answer GET, HEAD and OPTIONS", "Allow: " ALLOW_METHODS "\r\n");
        return;
    }
    if (content_length > 0 || chunked) {
        reply_status(c, 400, "a subscription request has no body", NULL);
        return;
    }
    handle_subscribe(c, req);
}
