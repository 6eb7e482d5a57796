/* An HTTP/2 connection: nghttp2 fed from the socket (through TLS or not),
 * its frames written back, the limits nghttp2 1.52 does not keep itself
 * (h2.h), and the peers dropped past --h2-total-buffer. Requests are
 * h2_stream.c's; the session calls them, and they reach it only through
 * h2_session_state.c (idle timer, flush, GOAWAY) and h2_budget.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "h2_internal.h"
#include "log.h"

/* Bytes read from the socket per turn, and frames gathered per write. */
#define READ_CHUNK 16384
#define READS_PER_TURN 4
#define SEND_BATCH 65536

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

const int h2_available = 1;

int h2_preface_check(const char *bytes, size_t len) {
    size_t want = sizeof preface - 1, first_line = sizeof "PRI * HTTP/2.0\r\n" - 1;
    size_t n = len < want ? len : want;
    if (memcmp(bytes, preface, n) == 0)
        return len >= want ? 1 : -1;
    /* Its first line, then something else: an HTTP/2 client's bad preface,
     * for HTTP/2 to refuse. */
    return len > first_line && memcmp(bytes, preface, first_line) == 0;
}

int h2_session_reads(const connection *c) { return c->h2 && !c->h2->failing; }

int h2_session_say_goodbye(connection *c) {
    if (c->h2->failing)
        return -1;
    h2_session_calm(c->h2, NGHTTP2_NO_ERROR);
    return 0;
}

/* The "rapid reset" attack opens and resets streams as fast as it can,
 * itself or by making ssed reset them ("MadeYouReset"). */
int h2_session_count_reset(h2_session *s) {
    if (s->failing)
        return 0;
    uint64_t second = clock_now_ms() / 1000;
    if (second != s->reset_second) {
        s->reset_second = second;
        s->resets = 0;
    }
    if (++s->resets <= H2_MAX_RESETS_PER_SECOND)
        return 0;
    log_warn("HTTP/2 client %s resets more than %d streams a second: GOAWAY", s->c->peer, H2_MAX_RESETS_PER_SECOND);
    h2_session_calm(s, NGHTTP2_ENHANCE_YOUR_CALM);
    return NGHTTP2_ERR_CALLBACK_FAILURE;
}

/* RFC 9113 5.1.1: a client's new stream id is above every id it used
 * before, and the ids it skips are closed: HEADERS on one of them is a
 * connection error. nghttp2 1.52 ignores such a frame, since it cannot tell
 * an id never used from a stream it has forgotten (whose trailers may still
 * come), so the session remembers the last few ranges skipped. */
static int reopens_skipped_id(h2_session *s, int32_t id) {
    if (id % 2 == 0)
        return 0; /* not a client's: nghttp2 refuses it */
    if (id > s->last_stream_id) {
        if (id > s->last_stream_id + 2) {
            s->skipped[s->skipped_next][0] = s->last_stream_id + 2;
            s->skipped[s->skipped_next][1] = id - 2;
            s->skipped_next = (s->skipped_next + 1) % H2_SKIPPED_RANGES;
        }
        s->last_stream_id = id;
        return 0;
    }
    for (int i = 0; i < H2_SKIPPED_RANGES; i++)
        if (id >= s->skipped[i][0] && id <= s->skipped[i][1])
            return 1;
    return 0;
}

static int on_begin_frame(nghttp2_session *ng, const nghttp2_frame_hd *hd, void *user) {
    (void)ng;
    h2_session *s = user;
    if (hd->type == NGHTTP2_HEADERS) {
        s->continuations = 0;
        if (reopens_skipped_id(s, hd->stream_id)) {
            log_verbose("HTTP/2 client %s opens stream %d below stream %d: GOAWAY", s->c->peer, (int)hd->stream_id,
                        (int)s->last_stream_id);
            h2_session_calm(s, NGHTTP2_PROTOCOL_ERROR);
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
    } else if (hd->type == NGHTTP2_CONTINUATION && ++s->continuations > H2_MAX_CONTINUATIONS) {
        log_warn("HTTP/2 client %s sends more than %d CONTINUATION frames for one header block: GOAWAY", s->c->peer,
                 H2_MAX_CONTINUATIONS);
        h2_session_calm(s, NGHTTP2_ENHANCE_YOUR_CALM);
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *user) {
    (void)ng;
    h2_session *s = user;
    if (frame->hd.type == NGHTTP2_RST_STREAM)
        return h2_session_count_reset(s);
    if (frame->hd.type == NGHTTP2_SETTINGS && !(frame->hd.flags & NGHTTP2_FLAG_ACK) && !s->settings_seen) {
        s->settings_seen = 1; /* the preface is complete: now the idle timer */
        if (!s->request_streams)
            h2_session_count_request(s, 0);
    }
    return h2_stream_frame_recv(s, frame);
}

/* The resets a client can provoke count, whoever sent them: ssed refusing
 * a malformed request, or nghttp2 refusing a stream beyond
 * --h2-max-streams (which never reaches on_stream_close). CANCEL does not:
 * it is ssed dropping a slow stream, and a proxy carrying hundreds of
 * stalled readers must not lose its healthy streams to a burst of them. */
static int on_frame_send(nghttp2_session *ng, const nghttp2_frame *frame, void *user) {
    (void)ng;
    if (frame->hd.type == NGHTTP2_RST_STREAM && frame->rst_stream.error_code != NGHTTP2_CANCEL)
        h2_session_count_reset(user); /* past the budget it queues GOAWAY, still to be sent */
    return 0;
}

/* A DATA frame whose payload a stream owes by reference (read_body in
 * h2_stream.c said NO_COPY): its 9-byte header, then the payload copied
 * straight from the shared events into the session's out, so frames of
 * many streams are gathered into one write (and, over TLS, full records).
 * ssed asks for no padding (no select_padding_callback), so the frame is
 * header and payload only. A full batch pauses nghttp2 until it is
 * written, as gather's loop would. */
static int send_data(nghttp2_session *ng, nghttp2_frame *frame, const uint8_t *framehd, size_t length,
                     nghttp2_data_source *source, void *user) {
    (void)ng;
    h2_session *s = user;
    if (frame->data.padlen != 0 || buf_append(&s->out, framehd, 9) < 0 || h2_owed_emit(source->ptr, &s->out, length) < 0)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    return s->out.len >= SEND_BATCH ? NGHTTP2_ERR_PAUSE : 0;
}

static nghttp2_session *new_nghttp2(h2_session *s) {
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb) != 0)
        return NULL;
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_begin_frame_callback(cb, on_begin_frame);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    nghttp2_session_callbacks_set_send_data_callback(cb, send_data);
    h2_stream_callbacks(cb);
    nghttp2_option *opt;
    if (nghttp2_option_new(&opt) != 0) {
        nghttp2_session_callbacks_del(cb);
        return NULL;
    }
    /* Windows are given back as ssed takes the bytes (h2_stream.c). */
    nghttp2_option_set_no_auto_window_update(opt, 1);
    nghttp2_session *ng = NULL;
    if (nghttp2_session_server_new2(&ng, cb, s, opt) != 0)
        ng = NULL;
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    return ng;
}

static int feed(connection *c, const char *bytes, size_t len) {
    h2_session *s = c->h2;
    ssize_t rc = nghttp2_session_mem_recv(s->ng, (const uint8_t *)bytes, len);
    if (c->closed)
        return -1;
    if (rc < 0) {
        log_verbose("HTTP/2 from %s: %s", c->peer, nghttp2_strerror((int)rc));
        /* A bad preface too is a connection error (RFC 9113 3.4): GOAWAY
         * tells the client why before the close. */
        h2_session_calm(s, NGHTTP2_PROTOCOL_ERROR);
        return -1;
    }
    return 0;
}

int h2_session_start(connection *c, const char *already, size_t len) {
    h2_session *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->c = c;
    s->last_stream_id = -1;
    s->ng = new_nghttp2(s);
    if (!s->ng) {
        free(s);
        return -1;
    }
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, (uint32_t)c->srv->opt->h2_max_streams},
    };
    if (nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, settings, 1) != 0) {
        nghttp2_session_del(s->ng);
        free(s);
        return -1;
    }
    c->h2 = s;
    c->state = CONNECTION_H2;
    if (feed(c, already, len) == 0 || !c->closed)
        h2_session_flush(c);
    return 0;
}

/* Write what is gathered in the session's out, and what the transport still owes of
 * it (a TLS record it kept, transport.h); 0 when all of it went, 1 when
 * the socket is full, -1 when the connection closed. */
static int write_out(connection *c) {
    while (c->h2->out_off < c->h2->out.len || transport_owes(&c->io)) {
        struct iovec iov = {c->h2->out.data + c->h2->out_off, c->h2->out.len - c->h2->out_off};
        ssize_t n = transport_writev(&c->io, &iov, c->h2->out_off < c->h2->out.len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 1;
        if (n < 0) {
            connection_close(c, errno == EPIPE || errno == ECONNRESET ? "peer closed" : transport_why(&c->io, errno));
            return -1;
        }
        c->h2->out_off += (size_t)n;
    }
    buf_clear(&c->h2->out);
    c->h2->out_off = 0;
    return 0;
}

/* Gather frames up to SEND_BATCH, so many streams' events go out in few
 * writes. */
static int gather(connection *c) {
    while (c->h2->out.len < SEND_BATCH) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(c->h2->ng, &data);
        if (n < 0) {
            connection_close(c, nghttp2_strerror((int)n));
            return -1;
        }
        if (n == 0)
            break;
        if (buf_append(&c->h2->out, data, (size_t)n) < 0) {
            connection_close(c, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* The frames gathered and not yet written are the session's memory too:
 * they count in its held bytes and against --h2-total-buffer (a peer
 * that reads nothing keeps a whole batch in c->h2->out). */
static void count_out(connection *c) {
    h2_session *s = c->h2;
    size_t unsent = c->h2->out.len - c->h2->out_off;
    s->held = s->held - s->out_held + unsent;
    c->srv->h2_held = c->srv->h2_held - s->out_held + unsent;
    s->out_held = unsent;
}

static void flush_rounds(connection *c);

void h2_session_flush(connection *c) {
    flush_rounds(c);
    if (!c->closed && c->h2)
        count_out(c);
}

static void flush_rounds(connection *c) {
    h2_session *s = c->h2;
    for (int round = 0; round < 8 && !c->closed; round++) {
        int rc = write_out(c);
        if (rc < 0)
            return;
        if (rc > 0) {
            /* Failing, it reads nothing more: watching input would wake
             * the loop every turn for bytes it leaves unread. */
            connection_watch(c, s->failing ? LOOP_OUT : LOOP_IN | LOOP_RDHUP | LOOP_OUT);
            return;
        }
        if (gather(c) < 0)
            return;
        if (c->h2->out.len == 0) {
            h2_stream_wake_writers(s); /* they may give more */
            if (c->closed || !nghttp2_session_want_write(s->ng))
                break;
        }
    }
    if (c->closed)
        return;
    if (c->watching & LOOP_OUT)
        connection_watch(c, s->failing ? 0 : LOOP_IN | LOOP_RDHUP);
    if (c->closed)
        return; /* epoll_ctl failed: the session is gone */
    if (c->h2->out.len == 0 && (s->failing || !nghttp2_session_want_read(s->ng)) && !nghttp2_session_want_write(s->ng))
        connection_close(c, s->failing ? "GOAWAY sent" : "done");
    else if (c->h2->out.len > 0 || nghttp2_session_want_write(s->ng))
        h2_session_wants_flush(s); /* the last round's frames are gathered, not yet written */
}

void h2_session_ready(connection *c, uint32_t events) {
    h2_session *s = c->h2;
    if (events & LOOP_OUT)
        h2_session_flush(c);
    if (c->closed || !(events & (LOOP_IN | LOOP_RDHUP | LOOP_HUP | LOOP_ERR)))
        return;
    if (s->failing && (events & (LOOP_HUP | LOOP_ERR))) {
        connection_close(c, "peer closed before taking its GOAWAY");
        return;
    }
    if (s->failing || !connection_may_read(c, events))
        return; /* requests wait on the intake gate (intake_gate.h) */
    char bytes[READ_CHUNK];
    for (int i = 0; i < READS_PER_TURN; i++) {
        ssize_t n = transport_read(&c->io, bytes, sizeof bytes);
        if (n == 0) {
            connection_close(c, "peer closed");
            return;
        }
        if (n < 0) {
            int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)
                break;
            connection_close(c, err == ECONNRESET ? "peer closed" : transport_why(&c->io, err));
            return;
        }
        if (feed(c, bytes, (size_t)n) < 0 || (size_t)n < sizeof bytes)
            break;
    }
    if (!c->closed)
        h2_session_flush(c);
}

/* The session over --h2-total-buffer that holds most while its socket is
 * full, or NULL. Sessions with request streams are on srv->sessions. */
static h2_session *stalled_most(server *srv) {
    h2_session *worst = NULL;
    for (list_node *n = srv->sessions.next; n != &srv->sessions; n = n->next) {
        connection *c = list_entry(n, connection, timer_link);
        if (c->state != CONNECTION_H2 || c->h2->failing || !(c->watching & LOOP_OUT))
            continue;
        if (c->h2->held && (!worst || c->h2->held > worst->held))
            worst = c->h2;
    }
    return worst;
}

/* Past --h2-total-buffer, peers that read nothing go, the one holding
 * most first, until the rest fit: each is sent GOAWAY if its socket takes
 * it, and closed, so all it held is freed now. Streams are not refused
 * room instead: a healthy connection would wait for the stalled ones to
 * go. */
void h2_session_enforce_budget(server *srv) {
    while (srv->h2_held > srv->opt->h2_total_buffer) {
        h2_session *s = stalled_most(srv);
        if (!s)
            return; /* everyone is writing: what they hold is on its way */
        log_warn("HTTP/2 client %s holds %zu byte%s it does not read while all connections hold %zu, past "
                 "--h2-total-buffer %llu: GOAWAY, and the connection closed",
                 s->c->peer, s->held, s->held == 1 ? "" : "s", srv->h2_held,
                 (unsigned long long)srv->opt->h2_total_buffer);
        srv->stats.h2_over_budget_goaways++;
        /* Its socket is full: the GOAWAY goes if the kernel takes it now,
         * and the connection with all it holds goes either way (kept
         * until --header-timeout, its gathered frames would go on
         * counting, and every other stalled peer would be dropped for
         * them). */
        h2_session_calm(s, NGHTTP2_ENHANCE_YOUR_CALM);
        connection *c = s->c;
        h2_session_flush(c);
        connection_close(c, "it held more than --h2-total-buffer allows and read nothing");
    }
}

void h2_session_free(connection *c) {
    h2_session *s = c->h2;
    s->failing = 1; /* streams closing now send nothing */
    while (s->streams) {
        h2_stream *st = s->streams;
        if (st->req) {
            stream *req = st->req;
            req->carrier_data = NULL; /* nothing to reset: the connection is gone */
            st->req = NULL;
            s->request_streams--;
            stream_close(req, c->srv->stopping ? "server shutting down" : "connection closed");
        }
        h2_stream_free(st);
    }
    c->srv->h2_held -= s->out_held;
    list_remove(&s->flush_link);
    buf_free(&s->out);
    nghttp2_session_del(s->ng);
    free(s);
    c->h2 = NULL;
}

void h2_flush_sessions(server *srv) {
    list_node ready;
    list_init(&ready);
    list_move_all(&ready, &srv->flushing); /* one that has more goes back for the next turn */
    while (!list_empty(&ready)) {
        h2_session *s = list_entry(ready.next, h2_session, flush_link);
        list_remove(&s->flush_link);
        if (!(s->c->watching & LOOP_OUT))
            connection_flush(s->c);
    }
}
