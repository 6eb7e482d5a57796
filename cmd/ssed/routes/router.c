/* What each request gets: a subscription, a publish, an endpoint under
 * /_ssed/, a CORS preflight answer, or an error naming the problem. */
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "log.h"
#include "stream.h"
#include "route_common.h"
#include "router.h"
#include "metrics.h"
#include "stats.h"
#include "viewer.h"

#define RESERVED_PREFIX "/_ssed/"
#define NO_SUCH_ENDPOINT "no such ssed endpoint (there are /_ssed/stats, /_ssed/metrics and /_ssed/health)"

/* A refusal, said with -v as stream_answer.c says a request it cannot parse, so a
 * 421 (Host) or 405 (method) is seen as a 400 is. */
static void refuse(stream *st, int status, const char *reason, const char *extra_headers) {
    log_event(LOG_SEV_DEBUG, "bad request", LOG_STR("peer", st->peer), LOG_NUM("status", status),
              LOG_STR("reason", reason));
    stream_reply_status(st, status, reason, extra_headers);
}

/* A rendered page of figures, unless memory ran out while rendering it or
 * its headers: a page missing some figures would read as true. */
static void reply_rendered(stream *st, const buf *body, const char *type, const buf *extra, int head_only) {
    if (body->failed || extra->failed)
        stream_refuse_no_memory(st);
    else
        stream_reply_body(st, 200, type, extra->data, body->data, body->len, head_only);
}

static void handle_reserved(stream *st, const http_request *req) {
    const char *name = req->path + strlen(RESERVED_PREFIX);
    size_t len = req->path_len - strlen(RESERVED_PREFIX);
    int head_only = http_request_method_is(req, "HEAD");
    if (!head_only && !http_request_method_is(req, "GET")) {
        refuse(st, 405, "the /_ssed/ endpoints answer GET and HEAD", "Allow: GET, HEAD\r\n");
        return;
    }
    buf extra = BUF_INIT;
    route_cors_headers(st, &extra);
    buf_append_char(&extra, '\0');
    if (extra.failed) {
        stream_refuse_no_memory(st);
    } else if (len == 6 && memcmp(name, "health", 6) == 0) {
        stream_reply_body(st, 200, "text/plain; charset=utf-8", extra.data, "ok\n", 3, head_only);
    } else if (len == 5 && memcmp(name, "stats", 5) == 0) {
        buf body = BUF_INIT;
        stats_render(st->srv, &body, access_is_publisher(st, req));
        reply_rendered(st, &body, "application/json", &extra, head_only);
        buf_free(&body);
    } else if (len == 7 && memcmp(name, "metrics", 7) == 0) {
        buf body = BUF_INIT;
        metrics_render(st->srv, &body, access_is_publisher(st, req));
        reply_rendered(st, &body, METRICS_CONTENT_TYPE, &extra, head_only);
        buf_free(&body);
    } else if (!viewer_serve_asset(st, name, len, head_only)) {
        refuse(st, 404, NO_SUCH_ENDPOINT, NULL);
    }
    buf_free(&extra);
}

static void handle_preflight(stream *st) {
    buf extra = BUF_INIT;
    buf_printf(&extra, "Allow: %s\r\n", route_allowed_methods(st));
    route_cors_headers(st, &extra);
    if (st->srv->opt->cors_origin)
        buf_printf(&extra,
                   "Access-Control-Allow-Methods: %s\r\n"
                   "Access-Control-Allow-Headers: Last-Event-ID, Cache-Control, Content-Type, Authorization, "
                   "SSE-Event, SSE-Id, SSE-Publisher, SSE-Sequence\r\n"
                   "Access-Control-Max-Age: 86400\r\n",
                   route_allowed_methods(st));
    buf_append_char(&extra, '\0');
    if (extra.failed) /* half a header line, or none of its NUL */
        stream_refuse_no_memory(st);
    else
        stream_reply_body(st, 204, "text/plain; charset=utf-8", extra.data, "", 0, 1);
    buf_free(&extra);
}

void router_handle(stream *st, const http_request *req) {
    long long content_length;
    int chunked;
    const char *bad_framing;
    int status = http_request_framing(req, &content_length, &chunked, &bad_framing);
    if (status) {
        refuse(st, status, bad_framing, NULL);
        return;
    }
    access_denial why;
    int refused = access_check_host(st, req, &why);
    if (refused) {
        refuse(st, refused, why.reason, NULL);
        return;
    }
    size_t prefix = strlen(RESERVED_PREFIX);
    if (req->path_len >= prefix - 1 && memcmp(req->path, RESERVED_PREFIX, prefix - 1) == 0 &&
        (req->path_len == prefix - 1 || req->path[prefix - 1] == '/')) {
        if (req->path_len < prefix) {
            refuse(st, 404, NO_SUCH_ENDPOINT, NULL);
            return;
        }
        handle_reserved(st, req);
        return;
    }
    if (!hub_channel_name_valid(req->path + 1, req->path_len - 1)) {
        refuse(st, 400, "invalid channel name (letters, digits, '-', '_', '.', '~' and '/')", NULL);
        return;
    }
    if (http_request_method_is(req, "OPTIONS")) {
        handle_preflight(st);
        return;
    }
    if (http_request_method_is(req, "POST") && replay_route_wants_post(st, req)) {
        replay_route_post(st, req, content_length, chunked);
        return;
    }
    if (http_request_method_is(req, "POST")) {
        publish_route_handle(st, req, content_length, chunked);
        return;
    }
    if (!http_request_method_is(req, "GET") && !http_request_method_is(req, "HEAD")) {
        buf allow = BUF_INIT;
        buf_printf(&allow, "Allow: %s\r\n", route_allowed_methods(st));
        buf_append_char(&allow, '\0');
        if (allow.failed)
            stream_refuse_no_memory(st);
        else
            refuse(st, 405, "channels answer GET, HEAD, OPTIONS and POST", allow.data);
        buf_free(&allow);
        return;
    }
    if (content_length > 0 || chunked) {
        refuse(st, 400, "a subscription request has no body", NULL);
        return;
    }
    if (viewer_serve_page(st, req))
        return;
    subscribe_route_handle(st, req);
}
