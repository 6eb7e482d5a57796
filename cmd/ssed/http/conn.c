#include "conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "clock.h"
#include "h2.h"
#include "http_reply.h"
#include "log.h"
#include "tls.h"

/* Pieces per writev: IOV_MAX on Linux. */
#define WRITEV_MAX 1024
/* Body bytes are read in chunks of this size. */
#define BODY_READ_SIZE 65536


static void after_io(conn *c);

/* Ask epoll for events, and for the direction TLS waits for besides. A
 * write waiting for input must not ask for EPOLLOUT (the socket is
 * writable, so epoll would wake the loop at once, again and again), and a
 * read's wait matters only while the state reads. */
static void watch_events(conn *c, uint32_t events) {
    if (c->io.h2) { /* a stream: its session tells it when it may write */
        c->watching = c->registered = events;
        return;
    }
    /* Held by the intake gate: no input asked until it opens. */
    uint32_t asked = intake_waiting(&c->gated) ? events & ~(uint32_t)(EPOLLIN | EPOLLRDHUP) : events;
    int read_waits = c->io.read_wants_writable && (asked & EPOLLIN);
    uint32_t registered = asked;
    if (c->io.write_wants_readable && !read_waits)
        registered = (registered & ~(uint32_t)EPOLLOUT) | EPOLLIN;
    if (read_waits)
        registered |= EPOLLOUT;
    c->watching = events;
    if (c->registered == registered)
        return;
    if (loop_modify(&c->srv->loop, c->io.fd, registered, &c->watch) < 0) {
        log_error("epoll_ctl %s: %s", c->peer, strerror(errno));
        conn_close(c, "epoll_ctl failed");
        return;
    }
    c->registered = registered;
}

/* The events as conn's states see them: TLS's waits for the other
 * direction become the operation they were for. */
static uint32_t events_wanted(const conn *c, uint32_t events) {
    uint32_t wanted = events & (c->watching | EPOLLERR | EPOLLHUP);
    if ((events & EPOLLOUT) && c->io.read_wants_writable)
        wanted |= EPOLLIN;
    if ((events & EPOLLIN) && c->io.write_wants_readable)
        wanted |= EPOLLOUT;
    return wanted;
}

int conn_may_read(conn *c, uint32_t events) {
    if ((events & (EPOLLHUP | EPOLLERR)) || intake_gate_pass(&c->srv->intake, &c->gated))
        return 1; /* a peer gone is read to its end: epoll would repeat the hang-up */
    conn_watch(c, c->watching); /* nothing asked of epoll until the gate opens (conn_gate_opened) */
    return 0;
}

void conn_close(conn *c, const char *why) {
    if (c->closed)
        return;
    server *srv = c->srv;
    c->closed = 1;
    if (c->state == CONN_STREAMING) {
        char name[256];
        conn_stream_name(c, name, sizeof name);
        srv->subscriber_count--;
        log_event(LOG_SEV_DEBUG, "disconnect", LOG_STR("peer", c->peer), LOG_STR("channel", name),
                  LOG_NUM("duration_ms", clock_now_ms() - c->started_ms), LOG_NUM("events", c->sub.events_queued),
                  LOG_NUM("bytes", c->bytes_sent), LOG_STR("reason", why));
        subscriber_detach(&srv->hub.subs, &c->sub);
    }
    if (c->route_state)
        srv->routes->on_close(c);
    if (c->state == CONN_H2)
        h2_session_free(c);
    list_remove(&c->timer_link);
    list_remove(&c->input_link);
    intake_gate_leave(&c->gated);
    list_remove(&c->sub.dirty_link); /* a session waiting for its flush */
    list_remove(&c->expiry_link);
    if (c->io.fd >= 0 && loop_remove(&srv->loop, c->io.fd) < 0 && errno != EBADF && errno != ENOENT)
        log_error("epoll_ctl del %s: %s", c->peer, strerror(errno));
    transport_close(&c->io);
    srv->conn_count--;
    if (c->is_h2_stream)
        srv->h2_stream_count--;
    free(c->head);
    c->head = NULL;
    buf_free(&c->out);
    /* Freed after this loop iteration: epoll may still hand us its pointer. */
    list_push_back(&srv->graveyard, &c->grave_link);
}

static void drop_subscriber(conn *c) {
    char name[256];
    conn_stream_name(c, name, sizeof name);
    log_event(LOG_SEV_WARN, "dropping slow subscriber", LOG_STR("peer", c->peer), LOG_STR("channel", name),
              LOG_STR("reason", "more bytes owed than --max-pending, or out of memory"),
              LOG_NUM("bytes", c->sub.pending_bytes));
    conn_close(c, "too slow");
}

/* The bytes owed, in order: c->out (a reply, or a stream's headers and
 * preamble), then the queued events. Returns the iovec count. */
static int owed_iovec(const conn *c, struct iovec *iov, size_t *total) {
    int n = 0;
    *total = 0;
    if (c->out_off < c->out.len) {
        iov[n].iov_base = c->out.data + c->out_off;
        iov[n].iov_len = c->out.len - c->out_off;
        *total += iov[n++].iov_len;
    }
    const subscriber *s = &c->sub;
    for (size_t i = 0; i < s->q_len && n < WRITEV_MAX; i++) {
        shared_event *e = s->queue[(s->q_head + i) & (s->q_cap - 1)];
        size_t skip = i == 0 ? s->head_offset : 0;
        iov[n].iov_base = e->bytes + skip;
        iov[n].iov_len = e->len - skip;
        *total += iov[n++].iov_len;
    }
    return n;
}

/* Account for `wrote` bytes written: from c->out first, then the queue. */
static void note_written(conn *c, size_t wrote) {
    server *srv = c->srv;
    c->bytes_sent += wrote;
    srv->stats.bytes_out += wrote;
    if (c->out_off < c->out.len) {
        size_t from_out = c->out.len - c->out_off < wrote ? c->out.len - c->out_off : wrote;
        c->out_off += from_out;
        wrote -= from_out;
        if (c->out_off == c->out.len && c->state == CONN_STREAMING) {
            buf_free(&c->out); /* a subscriber keeps no buffer of its own */
            c->out_off = 0;
        }
    }
    if (wrote)
        srv->stats.events_delivered +=
            subscriber_consume(&c->sub, wrote, &srv->stats.delivery_latency, clock_now_us());
    if (c->state == CONN_STREAMING && !c->draining) { /* an ending one keeps its deadline (conn_end_stream) */
        c->since_ms = clock_now_ms();
        list_remove(&c->timer_link);
        list_push_back(&srv->streaming, &c->timer_link);
    }
}

/* The socket is full: write again when epoll says it drained. A keep-alive
 * reply must not read the next request early. */
static void wait_writable(conn *c) {
    watch_events(c, c->state == CONN_REPLYING && c->keep_alive ? EPOLLOUT : c->watching | EPOLLOUT);
}

enum { WRITE_DONE, WRITE_BLOCKED, WRITE_CLOSED };

/* Write what is owed until it is all written (the transport keeping
 * nothing back), the socket is full, or the connection is closed (dropped
 * as too slow, or a write error). */
static int conn_write(conn *c) {
    for (;;) {
        if (c->sub.replaying)
            subscriber_replay_more(&c->srv->hub.subs, &c->sub); /* the next window of history, as the socket drains */
        if (c->sub.overflowed) {
            drop_subscriber(c);
            return WRITE_CLOSED;
        }
        struct iovec iov[WRITEV_MAX];
        size_t total;
        int n = owed_iovec(c, iov, &total);
        if (n == 0 && !transport_owes(&c->io))
            return WRITE_DONE; /* else a writev of nothing sends what it owes */
        ssize_t wrote = transport_writev(&c->io, iov, n);
        if (c->state == CONN_STREAMING)
            c->srv->stats.subscriber_writes++;
        if (wrote < 0 && errno == EINTR)
            continue;
        if (wrote < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return WRITE_BLOCKED;
        if (wrote < 0) {
            conn_close(c, errno == EPIPE || errno == ECONNRESET ? "peer closed" : transport_why(&c->io, errno));
            return WRITE_CLOSED;
        }
        note_written(c, (size_t)wrote);
        if ((size_t)wrote < total)
            return WRITE_BLOCKED;
    }
}

/* Everything owed is written: a keep-alive publisher's connection reads
 * its next request; a reply lingers and closes; a draining stream closes. */
static void conn_owes_nothing(conn *c) {
    server *srv = c->srv;
    if (c->watching & EPOLLOUT)
        watch_events(c, c->watching & ~(uint32_t)EPOLLOUT);
    if (c->closed)
        return;
    if (c->state == CONN_REPLYING && c->keep_alive && !srv->stopping) {
        c->state = CONN_READING;
        c->keep_alive = 0;
        buf_clear(&c->out);
        c->out_off = 0;
        c->since_ms = clock_now_ms();
        list_remove(&c->timer_link);
        list_push_back(&srv->reading, &c->timer_link);
        watch_events(c, EPOLLIN | EPOLLRDHUP);
        /* Requests read while this one waited (a pipelined GET behind a
         * POST the cluster answered) are parsed on the next read of
         * buffered input: no epoll event will announce them. */
        if (c->head_len && !list_linked(&c->input_link))
            list_push_back(&srv->buffered_input, &c->input_link);
    } else if (c->state == CONN_STREAMING && c->draining && c->io.h2) {
        /* What the stream holds still has to go out in DATA frames: END_STREAM
         * after it, and the stream closes (h2_stream.c) when it is sent. */
        transport_shutdown_write(&c->io);
    } else if (c->state == CONN_STREAMING && c->draining) {
        conn_close(c, c->drain_reason ? c->drain_reason : "server shutting down");
    } else if (c->state == CONN_REPLYING) {
        /* Shut our side and read until the peer closes, so unread request
         * bytes do not turn our close into a reset that eats the reply. */
        transport_shutdown_write(&c->io);
        c->state = CONN_LINGERING;
        c->since_ms = clock_now_ms();
        list_remove(&c->timer_link);
        list_push_back(&srv->reading, &c->timer_link);
        watch_events(c, EPOLLIN | EPOLLRDHUP);
    }
}

void conn_flush(conn *c) {
    if (c->state == CONN_H2) {
        h2_session_flush(c);
        after_io(c);
        return;
    }
    int rc = conn_write(c);
    if (rc == WRITE_BLOCKED)
        wait_writable(c);
    else if (rc == WRITE_DONE)
        conn_owes_nothing(c);
    after_io(c);
}

/* Streams are written only by the flush after each loop iteration, after
 * the store's commit (store_loop.h): a subscriber never sees an event a
 * crash could take back. */
static void stream_writable(conn *c) {
    watch_events(c, c->watching & ~(uint32_t)EPOLLOUT); /* or epoll repeats it until the flush */
    if (!c->closed)
        subscriber_mark_dirty(&c->srv->hub.subs, &c->sub);
}

static void drop_read_buffer(conn *c) {
    free(c->head);
    c->head = NULL;
    c->head_len = c->head_cap = 0;
}

void conn_start_reply(conn *c) {
    c->state = CONN_REPLYING;
    if (!c->keep_alive)
        drop_read_buffer(c);
    conn_flush(c);
}

void conn_start_body(conn *c, void *route_state) {
    c->route_state = route_state;
    c->state = CONN_BODY;
    /* A body may stream for as long as the publisher likes: no deadline. */
    list_remove(&c->timer_link);
    list_push_back(&c->srv->publishing, &c->timer_link);
}

void conn_await_answer(conn *c) {
    c->state = CONN_ANSWERING;
    /* Only the peer's FIN (or reset): a reset publisher is let go now, not
     * when Redis answers (take_input). */
    watch_events(c, EPOLLRDHUP);
}

void conn_restart_output(conn *c) {
    size_t unsent = c->out_off < c->out.len ? c->out.len - c->out_off : 0;
    if (unsent)
        memmove(c->out.data, c->out.data + c->out_off, unsent);
    c->out.len = unsent;
    c->out_off = 0;
}

void conn_send_interim(conn *c, const char *head) {
    conn_restart_output(c);
    if (buf_append_str(&c->out, head) < 0) {
        conn_refuse_no_memory(c);
        return;
    }
    conn_flush(c);
}

void conn_reply_body(conn *c, int status, const char *content_type, const char *extra_headers, const char *body,
                     size_t body_len, int head_only) {
    conn_restart_output(c); /* keeps an interim response's unsent bytes */
    if (http_reply_format(&c->out, status, content_type, extra_headers, body, body_len, head_only, c->keep_alive) < 0) {
        conn_refuse_no_memory(c);
        return;
    }
    if (status >= 400) /* here, so the publish route's JSON refusals count too */
        c->srv->stats.refusals[http_reply_refusal(status)]++;
    conn_start_reply(c);
}

void conn_reply_status(conn *c, int status, const char *reason_text, const char *extra_headers) {
    char body[HTTP_REPLY_ERROR_BODY_MAX];
    size_t n = http_reply_error_body(body, sizeof body, status, reason_text);
    conn_reply_body(c, status, "text/plain; charset=utf-8", extra_headers, body, n, 0);
}

/* Written at once, without the output buffer (it could not grow): the
 * bytes fit in the socket's send buffer when nothing else waits there. */
void conn_refuse_no_memory(conn *c) {
    if (!c->io.h2 && c->out_off >= c->out.len && !transport_handshaking(&c->io)) {
        struct iovec iov = {(void *)http_reply_no_memory, http_reply_no_memory_len};
        if (transport_writev(&c->io, &iov, 1) == (ssize_t)http_reply_no_memory_len)
            c->srv->stats.refusals[REFUSAL_UNAVAILABLE]++;
    }
    conn_close(c, "out of memory");
}

/* Read what the client sent into c->head; 0 at end of input or error.
 * What TLS has decrypted is taken while there is room, since epoll will
 * not say it is there. */
static int read_more(conn *c) {
    size_t want = c->state == CONN_BODY ? BODY_READ_SIZE : c->srv->opt->max_header_size + 1;
    if (c->head_cap < want) {
        char *grown = realloc(c->head, want);
        if (!grown) {
            conn_refuse_no_memory(c); /* the request cannot even be read */
            return 0;
        }
        c->head = grown;
        c->head_cap = want;
    }
    do {
        if (c->head_len == c->head_cap)
            return 1; /* full: the parser will answer 431 */
        int handshaking = transport_handshaking(&c->io);
        ssize_t n = transport_read(&c->io, c->head + c->head_len, c->head_cap - c->head_len);
        if (n == 0) {
            conn_close(c, c->state == CONN_BODY ? "body ended early" : "closed before a request");
            return 0;
        }
        if (n < 0) {
            int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)
                return 1;
            if (handshaking)
                log_verbose("TLS handshake with %s failed: %s", c->peer, transport_why(&c->io, err));
            conn_close(c, err == ECONNRESET ? "peer closed" : transport_why(&c->io, err));
            return 0;
        }
        c->head_len += (size_t)n;
    } while (transport_has_buffered_input(&c->io));
    return 1;
}

/* HTTP/2 takes the connection, with what was read so far; 0 (and the bytes
 * left for HTTP/1.1) if it cannot. */
static int hand_to_h2(conn *c) {
    if (h2_session_start(c, c->head, c->head_len) < 0)
        return 0;
    drop_read_buffer(c);
    return 1;
}

/* An HTTP/2 client starts with its preface instead of a request line; over
 * TLS it agreed on h2 by ALPN and sends it too. One that agreed on h2 speaks
 * nothing else: whatever it sent instead, HTTP/2 refuses it (GOAWAY with
 * PROTOCOL_ERROR, RFC 9113 3.4), where an HTTP/1.1 reply would be noise. */
static int starts_h2(conn *c) {
    int preface = h2_preface_check(c->head, c->head_len);
    if (preface < 0)
        return 1; /* wait for the rest */
    if (preface == 0 && !transport_agreed_h2(&c->io))
        return 0; /* HTTP/1.1, which answers a preface with 505 */
    return hand_to_h2(c);
}

/* A plaintext connection's first request line whose version is not
 * HTTP/x.y, and whose method no HTTP/1.x client sends, is taken for an
 * HTTP/2 client with prior knowledge and a bad preface (the port also
 * speaks h2c), and gets GOAWAY. "GET / FOO" is an HTTP/1.x client's
 * mistake and gets 400, as before. (Over TLS, HTTP/2 is agreed by ALPN:
 * starts_h2.) */
static int refused_as_h2(conn *c, const char *reason) {
    return reason == http_request_malformed_version && !c->io.h2 && !c->io.ssl && c->bytes_sent == 0 &&
           !http_request_starts_with_http1_method(c->head, c->head_len) && h2_available && hand_to_h2(c);
}

static void consume_read_buffer(conn *c, size_t used) {
    if (!c->head)
        return;
    memmove(c->head, c->head + used, c->head_len - used);
    c->head_len -= used;
}

/* Act on whatever complete requests and body bytes are buffered: a
 * keep-alive publisher may have sent several. */
static void process_buffered(conn *c) {
    while (!c->closed) {
        if (c->state == CONN_READING) {
            if (c->head_len == 0)
                return;
            if (!c->io.h2 && starts_h2(c))
                return;
            http_request req;
            int status;
            const char *reason;
            int rc = http_request_parse(c->head, c->head_len, c->srv->opt->max_header_size, &req, &status, &reason);
            if (rc == HTTP_INCOMPLETE)
                return;
            if (rc == HTTP_ERROR && refused_as_h2(c, reason))
                return;
            if (rc == HTTP_ERROR) {
                log_event(LOG_SEV_DEBUG, "bad request", LOG_STR("peer", c->peer), LOG_NUM("status", status),
                          LOG_STR("reason", reason));
                c->keep_alive = 0;
                conn_reply_status(c, status, reason, NULL);
                return;
            }
            c->srv->routes->on_request(c, &req);
            consume_read_buffer(c, (size_t)rc);
        } else if (c->state == CONN_BODY) {
            /* Called with no bytes too: an empty body is complete at once. */
            size_t used;
            int rc = c->srv->routes->on_body(c, c->head ? c->head : "", c->head_len, &used);
            consume_read_buffer(c, used);
            if (rc == CONN_BODY_MORE)
                return;
            c->srv->routes->on_body_end(c, rc == CONN_BODY_DONE);
        } else {
            return;
        }
    }
}

int conn_take_input(conn *c, const char *bytes, size_t len) {
    if (c->head_cap - c->head_len < len) {
        size_t want = c->head_len + len;
        char *grown = realloc(c->head, want);
        if (!grown) {
            conn_close(c, "out of memory");
            return -1;
        }
        c->head = grown;
        c->head_cap = want;
    }
    memcpy(c->head + c->head_len, bytes, len);
    c->head_len += len;
    process_buffered(c);
    return 0;
}

void conn_watch(conn *c, uint32_t events) { watch_events(c, events); }

void conn_writable(conn *c) { conn_ready(&c->watch, EPOLLOUT); }

static void drain_input(conn *c) {
    char sink[4096];
    for (int i = 0; i < 16; i++) {
        ssize_t n = transport_read(&c->io, sink, sizeof sink);
        if (n == 0 && c->state == CONN_REPLYING) {
            /* The client is done sending; it still gets the rest of the reply. */
            watch_events(c, EPOLLOUT);
            return;
        }
        if (n == 0) {
            conn_close(c, c->state == CONN_LINGERING ? "done" : "peer closed");
            return;
        }
        if (n < 0) {
            int err = errno;
            if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR)
                conn_close(c, err == ECONNRESET ? "peer closed" : transport_why(&c->io, err));
            return;
        }
    }
}

/* A handshake step costs a private-key operation at most: a flood of new
 * TLS clients gets a bounded share of each loop turn, and the rest wait
 * (epoll reports them again) while established streams are written. */
static int may_step_handshake(conn *c) {
    if (!transport_handshaking(&c->io))
        return 1;
    if (c->srv->handshakes_left <= 0)
        return 0;
    c->srv->handshakes_left--;
    return 1;
}

static void take_input(conn *c, uint32_t events) {
    if (c->state == CONN_ANSWERING) {
        /* A FIN alone may be a half-close after a complete request, which
         * HTTP allows (a full close looks the same until written to): the
         * answer is still written, and the read after it sees the end and
         * closes. A reset or error ends it now. */
        if (events & (EPOLLHUP | EPOLLERR))
            conn_close(c, "peer closed before its answer");
        else if (events & EPOLLRDHUP)
            watch_events(c, 0); /* or level-triggered epoll repeats the FIN */
        return;
    }
    if ((c->state == CONN_READING || c->state == CONN_BODY) && !conn_may_read(c, events))
        return;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        if (c->state == CONN_READING || c->state == CONN_BODY) {
            if (!may_step_handshake(c) || !read_more(c))
                return;
        } else {
            drain_input(c); /* subscribers send nothing; EOF means gone */
        }
    }
    process_buffered(c);
}

/* After any I/O: epoll watches what TLS now waits for, and input TLS holds
 * is read on the next loop turn (not while the intake gate holds it). */
static void after_io(conn *c) {
    if (c->closed || !c->io.ssl)
        return;
    if ((c->state == CONN_READING || c->state == CONN_BODY || c->state == CONN_H2) &&
        transport_has_buffered_input(&c->io) && !intake_waiting(&c->gated) &&
        !list_linked(&c->input_link))
        list_push_back(&c->srv->buffered_input, &c->input_link);
    watch_events(c, c->watching);
}

void conn_ready(loop_watch *w, uint32_t events) {
    conn *c = (conn *)w;
    if (c->closed)
        return;
    events = events_wanted(c, events);
    if (c->state == CONN_H2) {
        h2_session_ready(c, events);
        after_io(c);
        return;
    }
    if (events & EPOLLOUT) {
        if (c->state == CONN_STREAMING)
            stream_writable(c);
        else
            conn_flush(c);
    }
    if (!c->closed)
        take_input(c, events);
    after_io(c);
}

void conn_read_buffered(conn *c) {
    list_remove(&c->input_link);
    /* What is buffered first: a peer that half-closed behind its requests
     * is answered before the read that finds the end closes it. */
    if (c->state == CONN_READING && c->head_len) {
        if (!intake_gate_pass(&c->srv->intake, &c->gated)) {
            conn_watch(c, c->watching); /* requests wait for the gate (conn_gate_opened) */
            return;
        }
        process_buffered(c);
    }
    if (!c->closed)
        conn_ready(&c->watch, EPOLLIN);
}
