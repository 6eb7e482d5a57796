#include "connection.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "clock.h"
#include "h2.h"
#include "http_reply.h"
#include "log.h"

/* Body bytes are read in chunks of this size. */
#define BODY_READ_SIZE 65536

static void after_io(connection *c);
static void process_buffered(connection *c);

/* Ask epoll for events, and for the direction TLS waits for besides. A
 * write waiting for input must not ask for LOOP_OUT (the socket is
 * writable, so epoll would wake the loop at once, again and again), and a
 * read's wait matters only while the state reads. */
static void watch_events(connection *c, uint32_t events) {
    /* Held by the intake gate: no input asked until it opens. */
    uint32_t asked = intake_waiting(&c->gated) ? events & ~(uint32_t)(LOOP_IN | LOOP_RDHUP) : events;
    int read_waits = c->io.read_wants_writable && (asked & LOOP_IN);
    uint32_t registered = asked;
    if (c->io.write_wants_readable && !read_waits)
        registered = (registered & ~(uint32_t)LOOP_OUT) | LOOP_IN;
    if (read_waits)
        registered |= LOOP_OUT;
    c->watching = events;
    if (c->registered == registered)
        return;
    if (loop_modify(&c->srv->loop, c->io.fd, registered, &c->watch) < 0) {
        log_error("%s %s: %s", loop_backend, c->peer, strerror(errno));
        connection_close(c, "event loop failed");
        return;
    }
    c->registered = registered;
}

void connection_watch(connection *c, uint32_t events) { watch_events(c, events); }

/* The events as the connection's states see them: TLS's waits for the
 * other direction become the operation they were for. */
static uint32_t events_wanted(const connection *c, uint32_t events) {
    uint32_t wanted = events & (c->watching | LOOP_ERR | LOOP_HUP);
    if ((events & LOOP_OUT) && c->io.read_wants_writable)
        wanted |= LOOP_IN;
    if ((events & LOOP_IN) && c->io.write_wants_readable)
        wanted |= LOOP_OUT;
    return wanted;
}

int connection_may_read(connection *c, uint32_t events) {
    if ((events & (LOOP_HUP | LOOP_ERR)) || intake_gate_pass(&c->srv->intake, &c->gated))
        return 1; /* a peer gone is read to its end: epoll would repeat the hang-up */
    watch_events(c, c->watching); /* nothing asked of epoll until the gate opens */
    return 0;
}

static void drop_read_buffer(connection *c) {
    free(c->head);
    c->head = NULL;
    c->head_len = c->head_cap = 0;
}

void connection_close(connection *c, const char *why) {
    if (c->closed)
        return;
    server *srv = c->srv;
    c->closed = 1;
    if (c->current) {
        stream *st = c->current;
        c->current = NULL; /* its release finds the connection closing already */
        stream_close(st, why);
    }
    if (c->state == CONNECTION_H2)
        h2_session_free(c);
    list_remove(&c->timer_link);
    list_remove(&c->input_link);
    intake_gate_leave(&c->gated);
    if (c->io.fd >= 0 && loop_remove(&srv->loop, c->io.fd) < 0 && errno != EBADF && errno != ENOENT)
        log_error("%s del %s: %s", loop_backend, c->peer, strerror(errno));
    transport_close(&c->io);
    srv->conn_count--;
    drop_read_buffer(c);
    /* Freed after this loop iteration: epoll may still hand us its pointer. */
    list_push_back(&srv->graveyard, &c->timer_link);
}

/* Memory ran out before a request could be read or given a stream: the
 * fixed 503 goes to the peer as it is (best effort: a fresh request's
 * socket has room for it), and the connection closes. */
static void refuse_no_memory(connection *c) {
    if (!transport_handshaking(&c->io) && !transport_owes(&c->io)) {
        struct iovec iov = {(void *)http_reply_no_memory, http_reply_no_memory_len};
        if (transport_writev(&c->io, &iov, 1) == (ssize_t)http_reply_no_memory_len)
            c->srv->stats.refusals[REFUSAL_UNAVAILABLE]++;
    }
    connection_close(c, "out of memory");
}

/* ---- the HTTP/1.1 stream's carrier ---------------------------------------- */

static void deadline_from_now(connection *c) {
    if (c->closed)
        return; /* its timer_link is on the graveyard */
    c->since_ms = clock_now_ms();
    list_remove(&c->timer_link);
    list_push_back(&c->srv->reading, &c->timer_link);
}

/* The stream is let go; the connection lives on without it. */
static void let_go(connection *c, stream *st) {
    c->current = NULL;
    st->carrier_data = NULL;
    stream_close(st, "done");
}

static void h1_wait_writable(stream *st) {
    connection *c = st->carrier_data;
    /* A keep-alive reply must not read the next request early. */
    watch_events(c, st->state == STREAM_REPLYING && st->keep_alive ? LOOP_OUT : c->watching | LOOP_OUT);
}

/* A keep-alive reply: read the next request, maybe already buffered (a
 * pipelined GET behind a POST the cluster answered: no epoll event will
 * announce it). Otherwise shut our side and read until the peer closes,
 * so unread request bytes do not turn our close into a reset that eats
 * the reply. An ending subscriber's stream closes with its connection. */
static void h1_answered(stream *st) {
    connection *c = st->carrier_data;
    if (st->state == STREAM_SUBSCRIBED) {
        connection_close(c, st->drain_reason ? st->drain_reason : "server shutting down");
        return;
    }
    int keep_alive = st->keep_alive && !c->srv->stopping;
    let_go(c, st);
    deadline_from_now(c);
    if (keep_alive) {
        c->state = CONNECTION_READING;
        watch_events(c, LOOP_IN | LOOP_RDHUP);
        if (c->head_len && !list_linked(&c->input_link))
            list_push_back(&c->srv->buffered_input, &c->input_link);
        return;
    }
    drop_read_buffer(c);
    transport_shutdown_write(&c->io);
    c->state = CONNECTION_LINGERING;
    watch_events(c, LOOP_IN | LOOP_RDHUP);
}

/* Only the peer's FIN (or reset): a reset publisher is let go now, not
 * when Redis answers (take_input). */
static void h1_hold_input(stream *st) { watch_events(st->carrier_data, LOOP_RDHUP); }

static void h1_release(stream *st, const char *why) {
    connection *c = st->carrier_data;
    if (c->current == st) {
        c->current = NULL;
        connection_close(c, why);
    }
}

static const stream_carrier h1_carrier = {h1_wait_writable, h1_answered, h1_hold_input, h1_release};

/* ---- reading ------------------------------------------------------------ */

static int reading_body(const connection *c) { return c->current && c->current->state == STREAM_BODY; }

/* Read what the client sent into c->head; 0 at end of input or error.
 * What TLS has decrypted is taken while there is room, since epoll will
 * not say it is there. */
static int read_more(connection *c) {
    size_t want = reading_body(c) ? BODY_READ_SIZE : c->srv->opt->max_header_size + 1;
    if (c->head_cap < want) {
        char *grown = realloc(c->head, want);
        if (!grown) {
            if (c->current) /* the request cannot even be read */
                stream_refuse_no_memory(c->current);
            else
                refuse_no_memory(c);
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
            connection_close(c, reading_body(c) ? "body ended early" : "closed before a request");
            return 0;
        }
        if (n < 0) {
            int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)
                return 1;
            if (handshaking)
                log_verbose("TLS handshake with %s failed: %s", c->peer, transport_why(&c->io, err));
            connection_close(c, err == ECONNRESET ? "peer closed" : transport_why(&c->io, err));
            return 0;
        }
        c->head_len += (size_t)n;
    } while (transport_has_buffered_input(&c->io));
    return 1;
}

/* HTTP/2 takes the connection, with what was read so far; 0 (and the bytes
 * left for HTTP/1.1) if it cannot. */
static int hand_to_h2(connection *c) {
    if (h2_session_start(c, c->head, c->head_len) < 0)
        return 0;
    drop_read_buffer(c);
    return 1;
}

/* An HTTP/2 client starts with its preface instead of a request line; over
 * TLS it agreed on h2 by ALPN and sends it too. One that agreed on h2 speaks
 * nothing else: whatever it sent instead, HTTP/2 refuses it (GOAWAY with
 * PROTOCOL_ERROR, RFC 9113 3.4), where an HTTP/1.1 reply would be noise. */
static int starts_h2(connection *c) {
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
static int refused_as_h2(connection *c, const char *reason) {
    return reason == http_request_malformed_version && !c->io.ssl && c->requests == 0 &&
           !http_request_starts_with_http1_method(c->head, c->head_len) && h2_available && hand_to_h2(c);
}

static void consume_read_buffer(connection *c, size_t used) {
    if (!c->head)
        return;
    memmove(c->head, c->head + used, c->head_len - used);
    c->head_len -= used;
}

/* A connection that will read no more requests gives back its read buffer
 * (up to 64 KiB) now, not when the answer is written: a subscriber's, or
 * one whose reply ends it (a client that stops reading holds it until
 * --header-timeout). */
static void drop_if_done_reading(connection *c) {
    stream *st = c->current;
    if (st && (st->state == STREAM_SUBSCRIBED || (st->state == STREAM_REPLYING && !st->keep_alive)))
        drop_read_buffer(c);
}

/* A complete request head (or one that cannot be): a stream of its own
 * answers it. 0 when there is none yet. */
static int take_request(connection *c) {
    if (c->head_len == 0 || starts_h2(c))
        return 0;
    http_request req;
    int status;
    const char *reason;
    int rc = http_request_parse(c->head, c->head_len, c->srv->opt->max_header_size, &req, &status, &reason);
    if (rc == HTTP_INCOMPLETE || (rc == HTTP_ERROR && refused_as_h2(c, reason)))
        return 0;
    stream *st = stream_new(c->srv, &h1_carrier, c, &c->io, 0);
    if (!st) {
        refuse_no_memory(c);
        return 0;
    }
    st->peer = c->peer;
    st->peer_fd = c->io.fd;
    st->reached_on_loopback = c->reached_on_loopback;
    /* An HTTP/1.1 client reads a chunked event stream as each write comes;
     * an HTTP/1.0 one knows no chunks, and its body ends with the close. */
    st->chunks_body = rc > 0 && req.minor_version >= 1;
    c->current = st;
    c->state = CONNECTION_CARRYING;
    c->requests++;
    list_remove(&c->timer_link); /* its stream keeps the deadlines now */
    stream_take_request(st, rc, &req, status, reason);
    if (rc > 0)
        consume_read_buffer(c, (size_t)rc);
    drop_if_done_reading(c);
    return 1;
}

/* Act on whatever complete requests and body bytes are buffered: a
 * keep-alive publisher may have sent several. */
static void process_buffered(connection *c) {
    while (!c->closed) {
        if (c->state == CONNECTION_READING) {
            if (!take_request(c))
                return;
        } else if (reading_body(c)) {
            size_t used;
            stream_take_body(c->current, c->head ? c->head : "", c->head_len, &used);
            if (c->closed)
                return;
            consume_read_buffer(c, used);
            drop_if_done_reading(c);
            if (reading_body(c))
                return; /* the route wants more */
        } else {
            return;
        }
    }
}

static void drain_input(connection *c) {
    char sink[4096];
    stream *st = c->current;
    for (int i = 0; i < 16; i++) {
        ssize_t n = transport_read(&c->io, sink, sizeof sink);
        if (n == 0 && st && st->state == STREAM_REPLYING) {
            /* The client is done sending; it still gets the rest of the reply. */
            watch_events(c, LOOP_OUT);
            return;
        }
        if (n == 0) {
            connection_close(c, c->state == CONNECTION_LINGERING ? "done" : "peer closed");
            return;
        }
        if (n < 0) {
            int err = errno;
            if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR)
                connection_close(c, err == ECONNRESET ? "peer closed" : transport_why(&c->io, err));
            return;
        }
    }
}

/* A handshake step costs a private-key operation at most: a flood of new
 * TLS clients gets a bounded share of each loop turn, and the rest wait
 * (epoll reports them again) while established streams are written. */
static int may_step_handshake(connection *c) {
    if (!transport_handshaking(&c->io))
        return 1;
    if (c->srv->handshakes_left <= 0)
        return 0;
    c->srv->handshakes_left--;
    return 1;
}

static void take_input(connection *c, uint32_t events) {
    stream *st = c->current;
    if (st && st->state == STREAM_ANSWERING) {
        /* A FIN alone may be a half-close after a complete request, which
         * HTTP allows (a full close looks the same until written to): the
         * answer is still written, and the read after it sees the end and
         * closes. A reset or error ends it now. */
        if (events & (LOOP_HUP | LOOP_ERR))
            connection_close(c, "peer closed before its answer");
        else if (events & LOOP_RDHUP)
            watch_events(c, 0); /* or level-triggered epoll repeats the FIN */
        return;
    }
    int reads_requests = c->state == CONNECTION_READING || reading_body(c);
    if (reads_requests && !connection_may_read(c, events))
        return;
    if (events & (LOOP_IN | LOOP_RDHUP | LOOP_HUP | LOOP_ERR)) {
        if (reads_requests) {
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
static void after_io(connection *c) {
    if (c->closed)
        return;
    int reads = c->state == CONNECTION_READING || reading_body(c) ||
                (c->state == CONNECTION_H2 && h2_session_reads(c)); /* a failing session reads nothing more */
    if (c->io.ssl && reads && transport_has_buffered_input(&c->io) && !intake_waiting(&c->gated) &&
        !list_linked(&c->input_link))
        list_push_back(&c->srv->buffered_input, &c->input_link);
    watch_events(c, c->watching);
}

void connection_flush(connection *c) {
    h2_session_flush(c);
    after_io(c);
}

void connection_ready(loop_watch *w, uint32_t events) {
    connection *c = (connection *)w;
    if (c->closed)
        return;
    events = events_wanted(c, events);
    if (c->state == CONNECTION_H2) {
        h2_session_ready(c, events);
        after_io(c);
        return;
    }
    if ((events & LOOP_OUT) && c->current) {
        /* Asked again (h1_wait_writable) if the stream still owes more; the
         * registration follows in after_io, once. */
        c->watching &= ~(uint32_t)LOOP_OUT;
        stream_writable(c->current);
    }
    if (!c->closed)
        take_input(c, events);
    after_io(c);
}

void connection_read_buffered(connection *c) {
    list_remove(&c->input_link);
    /* What is buffered first: a peer that half-closed behind its requests
     * is answered before the read that finds the end closes it. */
    if (c->state == CONNECTION_READING && c->head_len) {
        if (!intake_gate_pass(&c->srv->intake, &c->gated)) {
            watch_events(c, c->watching); /* requests wait for the gate (connection_gate_opened) */
            return;
        }
        process_buffered(c);
    }
    if (!c->closed)
        connection_ready(&c->watch, LOOP_IN);
}
