/* A stream's life and its writing (stream.h): what it owes (a reply, a
 * subscriber's headers and queue of shared events) goes to its transport
 * in as few writes as the transport takes, and the carrier is told when
 * the transport is full and when everything is written. */
#include "stream.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/uio.h>

#include "clock.h"
#include "log.h"

/* Pieces per writev: IOV_MAX on Linux. */
#define WRITEV_MAX 1024

stream *stream_new(server *srv, const stream_carrier *carrier, void *carrier_data, transport *io, int is_h2) {
    stream *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->srv = srv;
    st->carrier = carrier;
    st->carrier_data = carrier_data;
    st->io = io;
    st->is_h2 = is_h2;
    st->started_ms = st->since_ms = clock_now_ms();
    /* A route that has not answered yet (or a reply the client does not
     * take) holds the stream --header-timeout at most. */
    list_push_back(&srv->ending, &st->timer_link);
    if (is_h2) {
        srv->conn_count++;
        srv->h2_stream_count++;
        srv->stats.h2_streams_total++;
    }
    return st;
}

void stream_close(stream *st, const char *why) {
    if (st->closed)
        return;
    server *srv = st->srv;
    st->closed = 1;
    if (st->state == STREAM_SUBSCRIBED) {
        char name[256];
        stream_name(st, name, sizeof name);
        srv->subscriber_count--;
        log_event(LOG_SEV_DEBUG, "disconnect", LOG_STR("peer", st->peer), LOG_STR("channel", name),
                  LOG_NUM("duration_ms", clock_now_ms() - st->started_ms), LOG_NUM("events", st->sub.events_queued),
                  LOG_NUM("bytes", st->bytes_sent), LOG_STR("reason", why));
        subscriber_detach(&srv->hub.subs, &st->sub);
    }
    if (st->route_state)
        srv->routes->on_close(st);
    list_remove(&st->timer_link);
    list_remove(&st->expiry_link);
    list_remove(&st->sub.dirty_link);
    buf_free(&st->out);
    if (st->is_h2) {
        srv->conn_count--;
        srv->h2_stream_count--;
    }
    if (st->carrier_data)
        st->carrier->release(st, why);
    st->carrier_data = NULL;
    st->io = NULL;
    /* Freed after this loop iteration: callers up the stack may hold it. */
    list_push_back(&srv->stream_graveyard, &st->timer_link);
}

static void drop_subscriber(stream *st) {
    char name[256];
    stream_name(st, name, sizeof name);
    log_event(LOG_SEV_WARN, "dropping slow subscriber", LOG_STR("peer", st->peer), LOG_STR("channel", name),
              LOG_STR("reason", "more bytes owed than --max-pending, or out of memory"),
              LOG_NUM("bytes", st->sub.pending_bytes));
    stream_close(st, "too slow");
}

/* The bytes owed, in order: st->out (a reply, or a stream's headers and
 * preamble), then the queued events. Returns the iovec count. */
static int owed_iovec(const stream *st, struct iovec *iov, size_t *total) {
    int n = 0;
    *total = 0;
    if (st->out_off < st->out.len) {
        iov[n].iov_base = st->out.data + st->out_off;
        iov[n].iov_len = st->out.len - st->out_off;
        *total += iov[n++].iov_len;
    }
    const subscriber *s = &st->sub;
    for (size_t i = 0; i < s->q_len && n < WRITEV_MAX; i++) {
        shared_event *e = s->queue[(s->q_head + i) & (s->q_cap - 1)];
        size_t skip = i == 0 ? s->head_offset : 0;
        iov[n].iov_base = e->bytes + skip;
        iov[n].iov_len = e->len - skip;
        *total += iov[n++].iov_len;
    }
    return n;
}

/* Account for `wrote` bytes written: from st->out first, then the queue. */
static void note_written(stream *st, size_t wrote) {
    server *srv = st->srv;
    st->bytes_sent += wrote;
    srv->stats.bytes_out += wrote;
    if (st->out_off < st->out.len) {
        size_t from_out = st->out.len - st->out_off < wrote ? st->out.len - st->out_off : wrote;
        st->out_off += from_out;
        wrote -= from_out;
        if (st->out_off == st->out.len && st->state == STREAM_SUBSCRIBED) {
            buf_free(&st->out); /* a subscriber keeps no buffer of its own */
            st->out_off = 0;
        }
    }
    if (wrote)
        srv->stats.events_delivered +=
            subscriber_consume(&st->sub, wrote, &srv->stats.delivery_latency, clock_now_us());
    if (st->state == STREAM_SUBSCRIBED && !st->draining) { /* an ending one keeps its deadline (stream_end) */
        st->since_ms = clock_now_ms();
        list_remove(&st->timer_link);
        list_push_back(&srv->streaming, &st->timer_link);
    }
}

enum { WRITE_DONE, WRITE_BLOCKED, WRITE_CLOSED };

/* Write what is owed until it is all written (the transport keeping
 * nothing back), the transport is full, or the stream is closed (dropped
 * as too slow, or a write error). */
static int stream_write(stream *st) {
    for (;;) {
        if (st->sub.replaying)
            subscriber_replay_more(&st->srv->hub.subs, &st->sub); /* the next window of history, as it drains */
        if (st->sub.overflowed) {
            drop_subscriber(st);
            return WRITE_CLOSED;
        }
        struct iovec iov[WRITEV_MAX];
        size_t total;
        int n = owed_iovec(st, iov, &total);
        if (n == 0 && !transport_owes(st->io))
            return WRITE_DONE; /* else a writev of nothing sends what it owes */
        ssize_t wrote = transport_writev(st->io, iov, n);
        if (st->state == STREAM_SUBSCRIBED)
            st->srv->stats.subscriber_writes++;
        if (wrote < 0 && errno == EINTR)
            continue;
        if (wrote < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return WRITE_BLOCKED;
        if (wrote < 0) {
            stream_close(st, errno == EPIPE || errno == ECONNRESET ? "peer closed" : transport_why(st->io, errno));
            return WRITE_CLOSED;
        }
        note_written(st, (size_t)wrote);
        if ((size_t)wrote < total)
            return WRITE_BLOCKED;
    }
}

/* Everything owed is written: a reply, or an ending stream's last words,
 * is complete; a live subscriber waits for more. */
static void owes_nothing(stream *st) {
    if (st->state == STREAM_REPLYING || (st->state == STREAM_SUBSCRIBED && st->draining)) {
        if (st->state == STREAM_REPLYING)
            st->state = STREAM_REPLIED;
        st->carrier->answered(st);
    }
}

void stream_flush(stream *st) {
    if (st->closed || !st->carrier_data)
        return;
    int rc = stream_write(st);
    if (rc == WRITE_BLOCKED) {
        st->waits_writable = 1;
        st->carrier->wait_writable(st);
    } else if (rc == WRITE_DONE) {
        st->waits_writable = 0;
        owes_nothing(st);
    }
}

/* A subscriber is written only by the flush after each loop iteration,
 * after the store's commit (store_loop.h): it never sees an event a crash
 * could take back. */
void stream_writable(stream *st) {
    st->waits_writable = 0;
    if (st->closed)
        return;
    if (st->state == STREAM_SUBSCRIBED)
        subscriber_mark_dirty(&st->srv->hub.subs, &st->sub);
    else
        stream_flush(st);
}
