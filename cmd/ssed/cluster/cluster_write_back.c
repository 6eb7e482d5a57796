/* Writing a node's history back to a Redis that lost its data (see
 * cluster_write_back.h). */
#include "cluster_write_back.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sse_parser.h"

typedef struct reread {
    long long retry_ms; /* -1: none */
    uint64_t n;
    buf *out;
    int done, failed;
} reread;

static void on_retry(void *ctx, unsigned long long ms) { ((reread *)ctx)->retry_ms = sse_retry_clamp(ms); }

/* The event parsed back from its wire bytes, encoded as its publisher's
 * node encoded it (cluster_batch_add). An id that is its own number was
 * the script's, so it goes back as "none given" (IDLEN -1); the default
 * type "message" goes back as none, which means the same. */
static void on_event(void *ctx, const sse_event *ev) {
    reread *r = ctx;
    if (r->done++)
        return;
    char number[24];
    int number_len = snprintf(number, sizeof number, "%llu", (unsigned long long)r->n);
    int own_id = ev->id_len == (size_t)number_len && memcmp(ev->id, number, ev->id_len) == 0;
    size_t type_len = ev->type_len == 7 && memcmp(ev->type, "message", 7) == 0 ? 0 : ev->type_len;
    char head[80];
    int head_len = snprintf(head, sizeof head, "%lld %zu %lld\n", r->retry_ms, type_len,
                            own_id ? -1LL : (long long)ev->id_len);
    size_t enc_len = (size_t)head_len + type_len + (own_id ? 0 : ev->id_len) + ev->data_len;
    if (buf_printf(r->out, "%zu\n%s", enc_len, head) < 0 || buf_append(r->out, ev->type, type_len) < 0 ||
        buf_append(r->out, ev->id, own_id ? 0 : ev->id_len) < 0 || buf_append(r->out, ev->data, ev->data_len) < 0)
        r->failed = 1;
}

int cluster_write_back_message(const shared_event *e, uint64_t prev, buf *out) {
    size_t start = out->len;
    reread r = {-1, e->cluster_number, out, 0, 0};
    if (buf_printf(out, "#%llu %llu 1\n", (unsigned long long)e->cluster_number, (unsigned long long)prev) < 0)
        return -1;
    sse_parser_handlers handlers = {.on_event = on_event, .on_retry = on_retry, .ctx = &r};
    sse_parser p;
    sse_parser_init(&p, e->len + 1, &handlers);
    int rc = sse_parser_feed(&p, e->bytes, e->len);
    sse_parser_free(&p);
    if (rc < 0 || r.failed || r.done != 1) {
        out->len = start;
        return -1;
    }
    return 0;
}

static void tally_done(write_back_tally *t) {
    if (--t->pending)
        return;
    log_warn("redis: Redis lost its data (its epoch changed since this node joined; not taken for a gap): "
             "%llu event%s of this node's history written back (%llu held, on %zu channel%s)%s",
             (unsigned long long)t->written, t->written == 1 ? "" : "s", (unsigned long long)t->held, t->channels,
             t->channels == 1 ? "" : "s", t->failed ? "; some channels could not be written back" : "");
}

static void on_written_back(void *ctx, long long written) {
    write_back_tally *t = ctx;
    if (written < 0)
        t->failed++;
    else
        t->written += (uint64_t)written;
    tally_done(t);
}

typedef struct channel_back {
    buf msgs;
    uint64_t *numbers;
    size_t *ends;
    size_t count;
} channel_back;

/* ch's history as one-event messages, oldest first, numbers increasing;
 * the first follows 0 (nothing known before it) or its hole. */
static int collect(const channel *ch, channel_back *cb) {
    cb->numbers = malloc((ch->ring_len ? ch->ring_len : 1) * sizeof *cb->numbers);
    cb->ends = malloc((ch->ring_len ? ch->ring_len : 1) * sizeof *cb->ends);
    if (!cb->numbers || !cb->ends)
        return -1;
    uint64_t prev = 0;
    for (size_t i = 0; i < ch->ring_len; i++) {
        const shared_event *e = channel_history_at(ch, i);
        if (!e->cluster_number || e->withdrawn || e->cluster_number <= prev)
            continue;
        uint64_t follows = e->hole_last_lost ? e->hole_last_lost : prev;
        if (cluster_write_back_message(e, follows, &cb->msgs) < 0)
            continue; /* not read back: the stream goes without it */
        cb->numbers[cb->count] = prev = e->cluster_number;
        cb->ends[cb->count++] = cb->msgs.len;
    }
    return 0;
}

static void write_back_channel(hub *h, cluster_link *k, const char *name, size_t len, write_back_tally *t) {
    channel *ch = hub_channel_find(h, name, len);
    if (!ch || !ch->ring_len)
        return;
    channel_back cb = {BUF_INIT, NULL, NULL, 0};
    const char **msgs = NULL;
    size_t *lens = NULL;
    if (collect(ch, &cb) < 0 || cb.count == 0)
        goto out;
    msgs = malloc(cb.count * sizeof *msgs);
    lens = malloc(cb.count * sizeof *lens);
    if (!msgs || !lens)
        goto out;
    for (size_t i = 0; i < cb.count; i++) {
        size_t start = i ? cb.ends[i - 1] : 0;
        msgs[i] = cb.msgs.data + start;
        lens[i] = cb.ends[i] - start;
    }
    if (cluster_link_write_back(k, name, len, cb.numbers, msgs, lens, cb.count, on_written_back, t) == 0) {
        t->pending++;
        t->channels++;
        t->held += cb.count;
    }
out:
    if (cb.count == 0 || !msgs || !lens)
        log_verbose("redis: /%.*s: nothing of its history to write back", (int)len, name);
    free(msgs);
    free(lens);
    free(cb.numbers);
    free(cb.ends);
    buf_free(&cb.msgs);
}

typedef struct each_ctx {
    hub *h;
    cluster_link *k;
    write_back_tally *t;
} each_ctx;

static void each_channel(void *ctx, const char *name, size_t len) {
    each_ctx *c = ctx;
    write_back_channel(c->h, c->k, name, len, c->t);
}

void cluster_write_back(hub *h, const delivery *d, cluster_link *k, write_back_tally *t) {
    if (t->pending)
        return; /* one loss at a time: its calls are still on their way */
    *t = (write_back_tally){0};
    t->pending = 1; /* held until every channel's call is sent */
    each_ctx c = {h, k, t};
    delivery_each_channel(d, each_channel, &c);
    tally_done(t);
}
