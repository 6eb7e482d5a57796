/* A stream's life as a subscriber's event stream: it starts once a
 * subscription is accepted, and ends by one path (stream_end) whatever
 * ends it, so that what the transport owes is written before the stream's
 * last words and the carrier's end (TLS close_notify, END_STREAM). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "stream.h"

void stream_subscribe(stream *st) {
    server *srv = st->srv;
    if (st->closed)
        return; /* its timer_link is on the graveyard */
    st->state = STREAM_SUBSCRIBED;
    srv->subscriber_count++;
    srv->stats.subscribers_total++;
    list_remove(&st->timer_link);
    st->since_ms = clock_now_ms();
    list_push_back(&srv->streaming, &st->timer_link);
    if (log_enabled(LOG_SEV_DEBUG)) {
        char name[256];
        stream_name(st, name, sizeof name);
        log_event(LOG_SEV_DEBUG, "connect", LOG_STR("peer", st->peer), LOG_STR("channel", name));
    }
    subscriber_mark_dirty(&srv->hub.subs, &st->sub); /* headers and history go out with the next flush */
}

const char *stream_body_framing(const stream *st) {
    return st->chunks_body ? "Transfer-Encoding: chunked\r\n" : "";
}

void stream_body_begins(stream *st) { st->body_start = st->out.len; }

/* Queued bytes the open chunk's size line promised (stream.c): those the
 * rest of st->out does not hold. */
static size_t promised_queue_bytes(const stream *st) {
    if (!st->chunks_body || !st->chunk.open)
        return 0;
    size_t from = st->out_off > st->body_start ? st->out_off : st->body_start;
    size_t in_out = st->out.len > from ? st->out.len - from : 0;
    return st->chunk.body_left > in_out ? st->chunk.body_left - in_out : 0;
}

/* The stream is cut short only above the transport: what a write handed
 * over is the transport's (transport.h) and goes out first, whatever is
 * dropped here, nor what an open chunk's size line promised; a chunked
 * body then ends with its last chunk (stream.c). It leaves srv->streaming (no more keep-alives) for
 * srv->ending, under --header-timeout from now: a client that stopped
 * reading, or reads a byte at a time, cannot hold its stream past it. */
void stream_end(stream *st, shared_event *last, const char *reason) {
    server *srv = st->srv;
    if (st->closed || st->draining || st->state != STREAM_SUBSCRIBED)
        return;
    if (log_enabled(LOG_SEV_DEBUG)) {
        char name[256];
        stream_name(st, name, sizeof name);
        log_event(LOG_SEV_DEBUG, "stream ending", LOG_STR("peer", st->peer), LOG_STR("channel", name),
                  LOG_STR("reason", reason ? reason : "server shutting down"));
    }
    if (last)
        subscriber_finish(&srv->hub.subs, &st->sub, promised_queue_bytes(st), last);
    st->draining = 1;
    st->drain_reason = reason;
    st->since_ms = clock_now_ms();
    list_remove(&st->timer_link);
    list_push_back(&srv->ending, &st->timer_link);
    subscriber_mark_dirty(&srv->hub.subs, &st->sub);
}

void stream_end_at(stream *st, int64_t exp_s) {
    server *srv = st->srv;
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    int64_t left_ms = (exp_s * 1000 + (int64_t)srv->opt->jwt_leeway_ms) -
                      ((int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000);
    st->ends_ms = clock_now_ms() + (uint64_t)(left_ms > 0 ? left_ms : 0);
    /* Tokens are mostly issued for one lifetime, so a new one usually
     * expires last: look for its place from the end. */
    list_node *at = srv->expiring.prev;
    while (at != &srv->expiring && list_entry(at, stream, expiry_link)->ends_ms > st->ends_ms)
        at = at->prev;
    list_push_back(at->next, &st->expiry_link);
}
