/* A stream's life and its writing (stream.h): what it owes (a reply, a
 * subscriber's headers and queue of shared events) goes to its transport
 * in as few writes as the transport takes, and the carrier is told when
 * the transport is full and when everything is written. */
#include "stream.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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

/* What one write hands over, piece by piece, so that the prefix the
 * transport takes can be told apart: the response head (when the body is
 * chunked), the open chunk's size line, body bytes, the chunk's closing
 * CRLF, the last chunk. Unchunked, everything is body. */
typedef struct write_plan {
    size_t head, size_line, body, crlf, last;
    char size_text[20]; /* the open chunk's size line, for the writev */
} write_plan;

static const char last_chunk[] = "0\r\n\r\n";
#define LAST_CHUNK_LEN (sizeof last_chunk - 1)

/* Body bytes owed, in order: st->out from `from`, then the queued events;
 * at most `room` pieces and `limit` bytes. Returns the piece count. */
static int body_iovec(const stream *st, size_t from, struct iovec *iov, int room, size_t limit, size_t *len) {
    int n = 0;
    *len = 0;
    if (from < st->out.len && limit > 0 && room > 0) {
        size_t take = st->out.len - from < limit ? st->out.len - from : limit;
        iov[n].iov_base = st->out.data + from;
        iov[n++].iov_len = take;
        *len += take;
    }
    const subscriber *s = &st->sub;
    for (size_t i = 0; i < s->q_len && n < room && *len < limit; i++) {
        shared_event *e = s->queue[(s->q_head + i) & (s->q_cap - 1)];
        size_t skip = i == 0 ? s->head_offset : 0;
        size_t take = e->len - skip < limit - *len ? e->len - skip : limit - *len;
        iov[n].iov_base = e->bytes + skip;
        iov[n++].iov_len = take;
        *len += take;
    }
    return n;
}

/* "<hex>\r\n" for a chunk of len bytes, in line; its length. By hand:
 * one per write to every subscriber, without snprintf parsing a format. */
static uint8_t format_size_line(char *line, size_t len) {
    static const char hex[] = "0123456789abcdef";
    char digits[16];
    int n = 0;
    do {
        digits[n++] = hex[len & 15];
        len >>= 4;
    } while (len);
    for (int i = 0; i < n; i++)
        line[i] = digits[n - 1 - i];
    line[n] = '\r';
    line[n + 1] = '\n';
    return (uint8_t)(n + 2);
}

static int add_piece(struct iovec *iov, int n, const char *bytes, size_t len, size_t *planned) {
    *planned = len;
    if (len == 0)
        return n;
    iov[n].iov_base = (void *)bytes;
    iov[n].iov_len = len;
    return n + 1;
}

/* Chunked: the head's rest, then one chunk around the body bytes owed
 * (the open chunk's rest when one is open: nothing new starts before it
 * is complete), then the last chunk once an ending stream owes no more
 * body. A chunk covers whole pieces (whole events after the one being
 * written), which subscriber_finish relies on. */
static int chunked_iovec(stream *st, struct iovec *iov, write_plan *plan) {
    stream_chunk *ck = &st->chunk;
    size_t from = st->out_off > st->body_start ? st->out_off : st->body_start;
    int n = from > st->out_off ? add_piece(iov, 0, st->out.data + st->out_off, from - st->out_off, &plan->head) : 0;
    size_t owed_body = st->out.len - from + st->sub.pending_bytes;
    if (ck->last_off == 0) {
        /* One place left before the body for the size line, two after. */
        int nb = body_iovec(st, from, iov + n + 1, WRITEV_MAX - n - 3, ck->open ? ck->body_left : UINT32_MAX,
                            &plan->body);
        if (!ck->open && plan->body > 0) {
            ck->size = ck->body_left = (uint32_t)plan->body;
            ck->size_off = ck->crlf_off = 0;
            ck->open = 1;
        }
        if (ck->open) {
            plan->size_line = (size_t)(format_size_line(plan->size_text, ck->size) - ck->size_off);
            if (plan->size_line) {
                iov[n].iov_base = plan->size_text + ck->size_off;
                iov[n++].iov_len = plan->size_line;
            } else {
                memmove(iov + n, iov + n + 1, (size_t)nb * sizeof *iov);
            }
            n += nb;
            if (plan->body == ck->body_left)
                n = add_piece(iov, n, &"\r\n"[ck->crlf_off], 2u - ck->crlf_off, &plan->crlf);
        }
    }
    int body_all_out = !ck->open || (plan->body == owed_body && plan->crlf > 0);
    if (st->draining && !st->sub.replaying && (ck->last_off > 0 || body_all_out))
        n = add_piece(iov, n, &last_chunk[ck->last_off], LAST_CHUNK_LEN - ck->last_off, &plan->last);
    return n;
}

/* The bytes owed, in order: st->out (a reply, or a stream's headers and
 * preamble), then the queued events, with a subscriber's chunk framing
 * over HTTP/1.1; unchunked, no more than the transport's room (an HTTP/2
 * stream's, which takes a window's worth of a queue of thousands).
 * Returns the iovec count. */
static int owed_iovec(stream *st, struct iovec *iov, write_plan *plan, size_t *total, size_t room) {
    *plan = (write_plan){0};
    int n = st->chunks_body && st->state == STREAM_SUBSCRIBED
                ? chunked_iovec(st, iov, plan)
                : body_iovec(st, st->out_off, iov, WRITEV_MAX, room, &plan->body);
    *total = plan->head + plan->size_line + plan->body + plan->crlf + plan->last;
    return n;
}

/* Account for `payload` bytes written (of `wire`, with the framing): from
 * st->out first, then the queue. */
static void note_written(stream *st, size_t payload, size_t wire) {
    server *srv = st->srv;
    st->bytes_sent += wire;
    srv->stats.bytes_out += wire;
    size_t wrote = payload;
    if (st->out_off < st->out.len) {
        size_t from_out = st->out.len - st->out_off < wrote ? st->out.len - st->out_off : wrote;
        st->out_off += from_out;
        wrote -= from_out;
        if (st->out_off == st->out.len && st->state == STREAM_SUBSCRIBED) {
            buf_free(&st->out); /* a subscriber keeps no buffer of its own */
            st->out_off = st->body_start = 0;
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

static size_t take_part(size_t *wrote, size_t planned) {
    size_t n = *wrote < planned ? *wrote : planned;
    *wrote -= n;
    return n;
}

/* The transport took `wrote` bytes of a write planned as *plan: what of
 * the open chunk is still owed, then the payload's accounting. A chunk
 * none of whose size line was taken is not open: the next write may make
 * it larger. */
static void note_plan_written(stream *st, const write_plan *plan, size_t wrote) {
    stream_chunk *ck = &st->chunk;
    size_t wire = wrote;
    size_t payload = take_part(&wrote, plan->head);
    ck->size_off += (uint8_t)take_part(&wrote, plan->size_line);
    size_t body = take_part(&wrote, plan->body);
    payload += body;
    if (st->chunks_body && st->state == STREAM_SUBSCRIBED) {
        ck->body_left -= (uint32_t)body;
        ck->crlf_off += (uint8_t)take_part(&wrote, plan->crlf);
        ck->last_off += (uint8_t)take_part(&wrote, plan->last);
        if (ck->crlf_off == 2 || ck->size_off == 0)
            ck->open = 0, ck->size_off = ck->crlf_off = 0, ck->body_left = 0;
    }
    note_written(st, payload, wire);
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
        write_plan plan;
        size_t total;
        size_t room = transport_room(st->io);
        int n = owed_iovec(st, iov, &plan, &total, room);
        if (n == 0 && !transport_owes(st->io)) /* else a writev of nothing sends what it owes */
            return room == 0 && (st->out_off < st->out.len || st->sub.pending_bytes) ? WRITE_BLOCKED : WRITE_DONE;
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
        note_plan_written(st, &plan, (size_t)wrote);
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
