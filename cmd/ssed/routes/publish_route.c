/* Publishing over HTTP: who may, how the body splits into events, resend
 * numbering, and the answer that says how many events were taken. The body
 * itself is decoded by publish.c as the stream hands it over. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "access.h"
#include "clock.h"
#include "cluster_node.h"
#include <stdlib.h>
#include "stream.h"
#include "digits.h"
#include "json.h"
#include "json_body.h"
#include "log.h"
#include "publish.h"
#include "route_common.h"
#include "router.h"
#include "store_loop.h"

/* Publishing turned off, or not allowed for this request (access.c). */
static int publish_allowed(stream *st, const http_request *req) {
    channel_name target = {req->path, req->path_len};
    route_trim_slashes(&target.name, &target.len);
    server *srv = st->srv;
    if (srv->opt->no_publish) {
        buf allow = BUF_INIT;
        buf_printf(&allow, "Allow: %s\r\n", ALLOW_NO_PUBLISH);
        buf_append_char(&allow, '\0');
        if (allow.failed)
            stream_refuse_no_memory(st);
        else
            stream_reply_status(st, 405, "publishing is turned off (--no-publish)", allow.data);
        buf_free(&allow);
        return 0;
    }
    access_denial why;
    int status = access_check_publish(st, req, target, &why);
    if (status == 0)
        return 1;
    if (status == 403)
        log_event(LOG_SEV_WARN, "refused a publisher", LOG_STR("peer", st->peer), LOG_STR("reason", why.reason));
    stream_reply_status(st, status, why.reason, why.extra_headers);
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

/* The body's kind by its Content-Type; *json when it must be one JSON
 * document. */
static int body_kind_of(const http_request *req, enum body_kind *kind, int *json) {
    const http_header *ct = http_request_header(req, "content-type");
    *kind = BODY_LINES;
    *json = 0;
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
            *json = strcmp(types[i].type, "application/json") == 0;
            return 0;
        }
    return -1;
}

/* SSE-Publisher (16 hex digits, a random session id) and SSE-Sequence (the
 * number of the body's first event) let a publisher resend safely. */
static int publisher_numbering(stream *st, const http_request *req, publish_request *p) {
    const http_header *session = http_request_header(req, "sse-publisher");
    const http_header *sequence = http_request_header(req, "sse-sequence");
    if (!session && !sequence)
        return 0;
    uint64_t s = 0, q = 0;
    int ok = session && sequence && digits_parse_lower_hex(session->value, session->value_len, &s) == 0 &&
             digits_parse_decimal(sequence->value, sequence->value_len, 19, &q) == 0;
    if (!ok || s == 0) {
        stream_reply_status(st, 400, "SSE-Publisher needs 1 to 16 lower-case hex digits (not all zero) and SSE-Sequence a number",
                     NULL);
        return -1;
    }
    if (st->srv->cluster && q >= CLUSTER_MAX_SEQUENCE) {
        /* The cluster's script counts in Lua numbers (doubles): past 2^53
         * two sequences would compare equal and an event be skipped. */
        stream_reply_status(st, 400, "SSE-Sequence must be below 2^53 (9007199254740992) with --redis", NULL);
        return -1;
    }
    p->dedup = st->srv->cluster ? NULL : st->srv->dedup;
    p->numbered = 1;
    p->session = s;
    p->seq = q;
    if (p->batch) {
        p->batch->session = s;
        p->batch->first_seq = q;
    }
    return 0;
}

/* Whether a POST may go on to its body: the publisher is allowed, Redis
 * and the store can take events, and the body's length is known. If not,
 * it is answered here and 0 is returned. */
static int publish_may_start(stream *st, const http_request *req, long long content_length, int chunked) {
    server *srv = st->srv;
    if (!publish_allowed(st, req)) {
        srv->stats.publish_refused++;
        return 0;
    }
    if (!server_cluster_ready(srv)) {
        stream_reply_status(st, 503, "Redis cannot be reached (see ssed's log); nothing was published; try again",
                          "Retry-After: 1\r\n");
        return 0;
    }
    if (server_store_failing(srv)) {
        char why[400];
        snprintf(why, sizeof why, "%.300s; nothing was published", server_store_error(srv));
        stream_reply_status(st, 503, why, "Retry-After: 1\r\n");
        return 0;
    }
    if (content_length < 0 && !chunked) {
        stream_reply_status(st, 411, "a POST needs Content-Length or Transfer-Encoding: chunked", NULL);
        return 0;
    }
    return 1;
}

/* The event type and id a publish gives every event (?event=, SSE-Event;
 * ?id=, SSE-Id): lengths in *type_len and *id_len (-1: not given), or an
 * answer here and -1. */
static int publish_event_params(stream *st, const http_request *req, char *type, long *type_len, char *id,
                                long *id_len) {
    *type_len = request_param(req, "event", "sse-event", type, 256);
    *id_len = request_param(req, "id", "sse-id", id, HUB_MAX_ID_LEN + 1);
    if (*type_len == -2 || *id_len == -2) {
        stream_reply_status(st, 400,
                          *type_len == -2 ? "the event type is longer than 255 bytes" : "the id is longer than 1024 bytes",
                          NULL);
        return -1;
    }
    if ((*type_len > 0 && (strpbrk(type, "\r\n") || memchr(type, '\0', (size_t)*type_len))) ||
        (*id_len >= 0 && (strpbrk(id, "\r\n") || memchr(id, '\0', (size_t)*id_len)))) {
        stream_reply_status(st, 400, "an event type or id cannot contain a line break or NUL", NULL);
        return -1;
    }
    return 0;
}

void publish_route_handle(stream *st, const http_request *req, long long content_length, int chunked) {
    server *srv = st->srv;
    srv->stats.publish_requests++;
    if (!publish_may_start(st, req, content_length, chunked))
        return;
    enum body_kind kind;
    int json;
    if (body_kind_of(req, &kind, &json) < 0) {
        stream_reply_status(st, 415,
                     "use Content-Type text/plain (one event per line), text/event-stream or application/json "
                     "(one event)",
                     NULL);
        return;
    }
    char type[256], id[HUB_MAX_ID_LEN + 1];
    long type_len, id_len;
    if (publish_event_params(st, req, type, &type_len, id, &id_len) < 0)
        return;
    const char *name = req->path;
    size_t len = req->path_len;
    route_trim_slashes(&name, &len);
    channel *ch = hub_channel_acquire(&srv->hub, name, len, HUB_FOR_PUBLISHING);
    if (!ch) {
        stream_reply_status(st, 503, "too many channels (--max-channels)", "Retry-After: 5\r\n");
        return;
    }
    publish_request *p = publish_start(&srv->hub, ch, srv->opt->max_event_size, kind, chunked,
                                       content_length < 0 ? 0 : (uint64_t)content_length);
    if (!p) {
        hub_channel_release(&srv->hub, ch);
        stream_reply_status(st, 503, "out of memory", NULL);
        return;
    }
    _Static_assert(JSON_BODY_NO_MEMORY == PUBLISH_CHECK_NO_MEMORY, "json_body_check's out of memory is a 503");
    if (json)
        p->check_whole = json_body_check;
    if (srv->cluster && !(p->batch = calloc(1, sizeof *p->batch))) {
        publish_free(p);
        stream_reply_status(st, 503, "out of memory", NULL);
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
    if (publisher_numbering(st, req, p) < 0) {
        publish_free(p);
        return;
    }
    const http_header *connection = http_request_header(req, "connection");
    st->keep_alive = req->minor_version == 1 && !(connection && http_header_has_token(connection, "close"));
    stream_start_body(st, p);
    /* curl waits a second for this before sending a large body. */
    const http_header *expect = http_request_header(req, "expect");
    if (req->minor_version == 1 && expect && http_header_has_token(expect, "100-continue"))
        stream_send_interim(st, "HTTP/1.1 100 Continue\r\n\r\n");
}

/* A POST's answer awaited from the cluster: the connection may close
 * first, and then the answer finds no one (st NULL). */
struct publish_answer {
    stream *st;
    int ok;
    /* The batch the link reads until it answers: the request's, or kept
     * here once the request is gone (the link sends it in parts). */
    cluster_batch *orphan;
};

static void answer(stream *st, publish_request *p, int ok);

static void cluster_answered(void *ctx, const cluster_publish_result *r) {
    struct publish_answer *a = ctx;
    stream *st = a->st;
    int ok = a->ok;
    if (a->orphan) {
        cluster_batch_free(a->orphan);
        free(a->orphan);
    }
    free(a);
    if (!st)
        return;
    publish_request *p = st->route_state;
    p->answer = NULL;
    if (!r->ok) {
        /* Redis took the parts it confirmed and none of the rest, or
         * cannot say: 503 with what it took, so the publisher resends the
         * rest (a numbered resend is skipped where it did take it). */
        ok = 0;
        p->status = 503;
        p->accepted = r->accepted;
        snprintf(p->error, sizeof p->error, "%.190s", r->error);
    } else {
        p->duplicates = r->duplicates;
    }
    answer(st, p, ok);
}

void publish_route_end(stream *st, int ok) {
    server *srv = st->srv;
    publish_request *p = st->route_state;
    /* In a cluster, the events are published when Redis says so, and
     * answered then: one script call for the whole request. */
    if (p->batch && p->batch->count) {
        struct publish_answer *a = malloc(sizeof *a);
        if (a) {
            *a = (struct publish_answer){st, ok, NULL};
            if (server_cluster_publish(srv, p->ch, p->batch, cluster_answered, a) == 0) {
                p->answer = a;
                stream_await_answer(st);
                return;
            }
            free(a);
        }
        ok = 0;
        p->status = 503;
        p->accepted = 0;
        snprintf(p->error, sizeof p->error, "%s", a ? "Redis cannot be reached; nothing was published" : "out of memory");
    }
    answer(st, p, ok);
}

/* -v: one line per publish request, when it is answered. */
static void log_publish(const stream *st, const publish_request *p, int status) {
    if (!log_enabled(LOG_SEV_DEBUG))
        return;
    char channel_label[256];
    snprintf(channel_label, sizeof channel_label, "/%s", p->ch->name);
    if (status == 200)
        log_event(LOG_SEV_DEBUG, "publish", LOG_STR("peer", st->peer), LOG_STR("channel", channel_label),
                  LOG_NUM("events", p->accepted), LOG_NUM("duplicates", p->duplicates));
    else
        log_event(LOG_SEV_DEBUG, "publish failed", LOG_STR("peer", st->peer), LOG_STR("channel", channel_label),
                  LOG_NUM("events", p->accepted), LOG_NUM("status", status), LOG_STR("reason", p->error));
}

static void answer(stream *st, publish_request *p, int ok) {
    server *srv = st->srv;
    st->route_state = NULL;
    /* Nothing is acknowledged before it is in the store. When it cannot
     * be written, only what earlier commits wrote counts as taken (503):
     * the rest was taken back from history, subscribers and the dedup
     * table, so a resend (numbered or not) publishes it once. */
    char store_err[sizeof p->error];
    int stored = server_store_ack(srv, store_err, sizeof store_err);
    if (publish_store_outcome(p) < 0 || stored < 0) {
        ok = 0;
        p->status = 503;
        p->accepted = p->committed;
        if (stored < 0)
            snprintf(p->error, sizeof p->error, "%s", store_err);
    }
    /* A resend skipped as a duplicate was accepted (the publisher may
     * forget it) but not published again. */
    uint64_t skipped = p->duplicates < p->accepted ? p->duplicates : p->accepted;
    srv->stats.events_published += p->accepted - skipped;
    srv->stats.publish_duplicates += skipped;
    /* The answer says how many events were taken, even on failure, so a
     * publisher can resend exactly the rest. */
    buf body = BUF_INIT;
    int failed = buf_printf(&body, "{\"accepted\":%llu,\"channel\":\"/%s\"", (unsigned long long)p->accepted,
                            p->ch->name) < 0;
    if (p->numbered)
        failed |= buf_printf(&body, ",\"duplicates\":%llu", (unsigned long long)p->duplicates) < 0;
    int status = ok ? 200 : p->status ? p->status : 400;
    if (!ok) {
        failed |= buf_append_str(&body, ",\"error\":") < 0;
        failed |= json_append_string(&body, p->error, strlen(p->error)) < 0;
        st->keep_alive = 0;
    }
    log_publish(st, p, status);
    failed |= buf_append_str(&body, "}\n") < 0;
    publish_free(p);
    if (failed) /* not half an answer: the publisher could not tell what was taken */
        stream_refuse_no_memory(st);
    else
        stream_reply_body(st, status, "application/json", NULL, body.data, body.len, 0);
    buf_free(&body);
}


int publish_route_body(stream *st, const char *bytes, size_t len, size_t *used) {
    publish_request *p = st->route_state;
    if (publish_store_outcome(p) < 0) {
        *used = 0; /* what it published since the last bytes was withdrawn */
        return STREAM_BODY_FAILED;
    }
    if (server_store_failing(st->srv)) {
        /* Stop taking a body the store cannot keep: nothing more of it
         * could be acknowledged. */
        *used = 0;
        p->status = 503;
        snprintf(p->error, sizeof p->error, "%.150s; try again", server_store_error(st->srv));
        return STREAM_BODY_FAILED;
    }
    int rc = publish_feed(p, bytes, len, used);
    return rc == PUBLISH_MORE ? STREAM_BODY_MORE : rc == PUBLISH_DONE ? STREAM_BODY_DONE : STREAM_BODY_FAILED;
}

void publish_route_close(stream *st) {
    publish_request *p = st->route_state;
    if (p->answer) {
        p->answer->st = NULL; /* the cluster's answer comes to no one */
        p->answer->orphan = p->batch;
        p->batch = NULL;
    }
    publish_free(p);
    st->route_state = NULL;
}
