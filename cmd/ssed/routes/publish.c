#include "publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(publish_request *p, int status, const char *why) {
    if (p->status == 0) {
        p->status = status;
        snprintf(p->error, sizeof p->error, "%s", why);
    }
    return -1;
}

static int too_large(publish_request *p) {
    char why[160];
    snprintf(why, sizeof why, "an event is larger than --max-event-size (%zu byte%s)", p->max_event_size,
             p->max_event_size == 1 ? "" : "s");
    return fail(p, 413, why);
}

/* In a cluster: checked as the hub would, then kept for the script call. */
static int batch_event(publish_request *p, const sse_out_event *ev) {
    int rc = hub_event_check(p->hub, ev);
    if (rc != SSE_ENCODE_OK)
        return rc;
    if (p->batch->bytes.len + ev->data_len > PUBLISH_CLUSTER_MAX_BYTES)
        return HUB_EVENT_TOO_LARGE;
    return cluster_batch_add(p->batch, ev) < 0 ? SSE_ENCODE_NOMEM : SSE_ENCODE_OK;
}

/* An event was taken (published, or skipped as a resend): it is committed
 * when the newest held event is, the one it was published as, or the one
 * whose dedup record made it a resend. */
static void follow_held(publish_request *p) {
    shared_event *newest = hub_newest_held(p->hub);
    if (newest == p->held)
        return;
    if (p->held)
        shared_event_unref(p->held);
    p->held = newest ? shared_event_ref(newest) : NULL;
    if (!newest)
        p->committed = p->accepted;
}

int publish_store_outcome(publish_request *p) {
    if (!p->held) {
        p->committed = p->accepted;
        return 0;
    }
    if (hub_still_held(p->hub, p->held))
        return 0;
    int withdrawn = p->held->withdrawn;
    shared_event_unref(p->held);
    p->held = NULL;
    if (withdrawn) {
        p->accepted = p->committed;
        p->status = 503;
        snprintf(p->error, sizeof p->error, "the store could not write (see ssed's log); nothing after the %llu "
                 "accepted event%s was published; try again", (unsigned long long)p->committed,
                 p->committed == 1 ? "" : "s");
        return -1;
    }
    p->committed = p->accepted;
    return 0;
}

static int publish_one(publish_request *p, const char *type, size_t type_len, const char *id, size_t id_len,
                       const char *data, size_t data_len) {
    uint64_t seq = p->seq++;
    if (p->dedup && seq < dedup_next(p->dedup, p->session)) {
        /* Resent after a lost answer: it was published the first time. */
        p->duplicates++;
        p->accepted++;
        p->has_id = 0;
        p->next_retry = -1;
        follow_held(p);
        return 0;
    }
    if (!id && p->has_id) {
        id = p->id;
        id_len = p->id_len;
    }
    p->has_id = 0; /* a request's id names its first event only */
    sse_out_event ev = {type, type_len, id, id_len, id != NULL, data, data_len, p->next_retry};
    int rc = p->batch ? batch_event(p, &ev) : hub_publish_event(p->hub, p->ch, &ev);
    if (rc == HUB_EVENT_TOO_LARGE)
        return fail(p, 413, hub_strerror(rc));
    if (rc != SSE_ENCODE_OK)
        return fail(p, rc == SSE_ENCODE_NOMEM ? 503 : 400, hub_strerror(rc));
    p->next_retry = -1;
    p->accepted++;
    if (p->dedup)
        dedup_published(p->dedup, p->session, seq);
    if (!p->batch)
        follow_held(p);
    return 0;
}

static void on_sse_event(void *ctx, const sse_event *ev) {
    publish_request *p = ctx;
    if (p->status)
        return;
    /* ?event= or SSE-Event names the type of events that name none. */
    int unnamed = ev->type_len == 7 && memcmp(ev->type, "message", 7) == 0;
    const char *type = unnamed && p->type_len ? p->type : ev->type;
    size_t type_len = unnamed && p->type_len ? p->type_len : ev->type_len;
    publish_one(p, type, type_len, ev->id_in_event ? ev->id : NULL,
                ev->id_in_event ? ev->id_len : 0, ev->data, ev->data_len);
}

static void on_sse_retry(void *ctx, unsigned long long ms) {
    publish_request *p = ctx;
    p->next_retry = sse_retry_clamp(ms);
}

static void on_sse_oversize(void *ctx, size_t bytes) {
    (void)bytes;
    too_large(ctx);
}

/* text/plain: each line (its LF or CRLF removed by the record reader). */
static void on_line(void *ctx, const char *line, size_t len) {
    publish_request *p = ctx;
    if (!p->status)
        publish_one(p, p->type_len ? p->type : NULL, p->type_len, NULL, 0, line, len);
}

static void on_line_oversize(void *ctx, size_t bytes) {
    (void)bytes;
    too_large(ctx);
}

publish_request *publish_start(hub *h, channel *ch, size_t max_event_size, enum body_kind kind, int chunked,
                               uint64_t content_length) {
    publish_request *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->hub = h;
    p->ch = ch;
    p->max_event_size = max_event_size;
    p->kind = kind;
    p->chunked = chunked;
    chunked_init(&p->chunks);
    p->remaining = content_length;
    p->next_retry = -1;
    sse_parser_handlers handlers = {on_sse_event, on_sse_retry, NULL, on_sse_oversize, p};
    sse_parser_init(&p->parser, max_event_size, &handlers);
    record_reader_init(&p->lines, '\n', max_event_size, on_line, on_line_oversize, p);
    return p;
}


/* Body bytes, after framing: split into events by the body's type. */
static int take_body_bytes(void *ctx, const char *bytes, size_t len) {
    publish_request *p = ctx;
    switch (p->kind) {
    case BODY_SSE:
        if (sse_parser_feed(&p->parser, bytes, len) < 0)
            return fail(p, 503, "out of memory");
        return p->status ? -1 : 0;
    case BODY_WHOLE:
        if (p->record.len + len > p->max_event_size)
            return too_large(p);
        return buf_append(&p->record, bytes, len) < 0 ? fail(p, 503, "out of memory") : 0;
    case BODY_LINES:
        if (record_reader_feed(&p->lines, bytes, len) < 0)
            return fail(p, 503, "out of memory");
        return p->status ? -1 : 0;
    }
    return 0;
}

/* The body is complete: what is left in the buffers is a last event. */
static int finish_body(publish_request *p) {
    switch (p->kind) {
    case BODY_SSE:
        if (sse_parser_in_event(&p->parser))
            return fail(p, 400, "the body ends inside an event (an event ends with a blank line)");
        return 0;
    case BODY_WHOLE:
        if (p->check_whole) {
            char why[sizeof p->error];
            int rc = p->check_whole(p->record.data ? p->record.data : "", p->record.len, why, sizeof why);
            if (rc < 0)
                return fail(p, rc == PUBLISH_CHECK_NO_MEMORY ? 503 : 400, why);
        }
        return publish_one(p, p->type_len ? p->type : NULL, p->type_len, NULL, 0,
                           p->record.data ? p->record.data : "", p->record.len);
    case BODY_LINES:
        record_reader_finish(&p->lines); /* a last line without newline counts */
        return p->status ? -1 : 0;
    }
    return 0;
}

int publish_feed(publish_request *p, const char *bytes, size_t len, size_t *consumed) {
    *consumed = 0;
    if (p->chunked) {
        const char *why;
        int rc = chunked_feed(&p->chunks, bytes, len, consumed, take_body_bytes, p, &why);
        if (rc == CHUNKED_ERROR) {
            if (!p->status)
                fail(p, 400, why ? why : "bad chunked framing");
            return PUBLISH_FAILED;
        }
        if (rc == CHUNKED_MORE)
            return PUBLISH_MORE;
    } else {
        size_t take = len < p->remaining ? len : (size_t)p->remaining;
        *consumed = take;
        p->remaining -= take;
        if (take_body_bytes(p, bytes, take) < 0)
            return PUBLISH_FAILED;
        if (p->remaining > 0)
            return PUBLISH_MORE;
    }
    return finish_body(p) < 0 ? PUBLISH_FAILED : PUBLISH_DONE;
}

void publish_free(publish_request *p) {
    if (!p)
        return;
    hub_channel_release(p->hub, p->ch);
    if (p->held)
        shared_event_unref(p->held);
    if (p->batch) {
        cluster_batch_free(p->batch);
        free(p->batch);
    }
    buf_free(&p->record);
    record_reader_free(&p->lines);
    sse_parser_free(&p->parser);
    free(p);
}
