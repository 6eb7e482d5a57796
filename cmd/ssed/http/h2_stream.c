/* One HTTP/2 request stream: its headers become an HTTP/1.1 request head
 * for a stream of its own (stream.h), its DATA the body (chunked, so a
 * body of any length streams through the publish route as it arrives), and
 * what that stream writes back becomes HEADERS and DATA frames. It is the
 * stream's carrier: END_STREAM when the answer is complete, RST_STREAM
 * when the stream closes before. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2_internal.h"
#include "log.h"

static const transport_ops h2_stream_ops;
static const stream_carrier h2_carrier;

/* Body bytes a stream may hold unread before the stream's window stops. */
#define BODY_HELD_MAX 65536
/* Response header fields mapped into HEADERS. */
#define REPLY_FIELDS_MAX 64

static void free_request_fields(h2_stream *st) {
    buf_free(&st->method);
    buf_free(&st->path);
    buf_free(&st->authority);
    buf_free(&st->head);
}

void h2_stream_free(h2_stream *st) {
    h2_session *s = st->sess;
    if (st->prev)
        st->prev->next = st->next;
    else
        s->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    free_request_fields(st);
    buf_free(&st->reply_head);
    buf_free(&st->body);
    h2_owed_drop(st);
    free(st);
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame, void *user) {
    h2_session *s = user;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    h2_stream *st = calloc(1, sizeof *st);
    if (!st)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* nghttp2 resets the stream */
    st->sess = s;
    st->id = frame->hd.stream_id;
    st->next = s->streams;
    if (s->streams)
        s->streams->prev = st;
    s->streams = st;
    nghttp2_session_set_stream_user_data(ng, st->id, st);
    return 0;
}

static int is_name(const uint8_t *name, size_t len, const char *want) {
    return len == strlen(want) && memcmp(name, want, len) == 0;
}

/* What HTTP/1.1 answers a head this large (http_request.c): 414 when the
 * request line alone passes --max-header-size, 431 when the whole head
 * does, else 0. Nothing is cut to fit: a :method of any length is counted
 * whole, and once too large the rest of the head is not kept. */
static int oversized_status(const h2_stream *st) {
    size_t limit = st->sess->c->srv->opt->max_header_size;
    size_t line = st->method.len + 1 + st->path.len + sizeof " HTTP/1.1\r\n" - 1;
    if (line > limit)
        return 414;
    return line + st->authority.len + st->head.len > limit ? 431 : 0;
}

/* Pseudo-headers come first (nghttp2 checks), in any order among
 * themselves: the request line is written when the head is complete. */
static int on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user) {
    (void)flags, (void)user;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    h2_stream *st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
    if (!st || st->oversized)
        return 0;
    int rc = 0;
    if (is_name(name, namelen, ":method")) {
        buf_clear(&st->method);
        rc = buf_append(&st->method, value, valuelen);
    } else if (is_name(name, namelen, ":path")) {
        buf_clear(&st->path);
        rc = buf_append(&st->path, value, valuelen);
    } else if (is_name(name, namelen, ":authority")) {
        buf_clear(&st->authority);
        rc = buf_append(&st->authority, value, valuelen);
    } else if (name[0] == ':' || is_name(name, namelen, "content-length") ||
               (is_name(name, namelen, "host") && st->authority.len)) {
        return 0; /* :scheme says nothing ssed needs; the body is framed chunked; :authority wins */
    } else {
        rc = buf_printf(&st->head, "%.*s: %.*s\r\n", (int)namelen, (const char *)name, (int)valuelen,
                        (const char *)value);
    }
    if (rc < 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    st->oversized = oversized_status(st);
    return 0;
}

static int method_is(const buf *method, const char *want) {
    return method->len == strlen(want) && memcmp(method->data, want, method->len) == 0;
}

static int method_has_body(const buf *method) {
    return method_is(method, "POST") || method_is(method, "PUT") || method_is(method, "PATCH");
}

/* The request's HTTP/1.1 head: its request line, Host from :authority,
 * the other fields, and framing that says the body (if any) is chunked. */
static int make_head(h2_stream *st, buf *head) {
    int rc = buf_append(head, st->method.data, st->method.len);
    if (rc == 0)
        rc = buf_printf(head, " %.*s HTTP/1.1\r\n", (int)st->path.len, st->path.data ? st->path.data : "");
    if (rc == 0 && st->authority.len)
        rc = buf_printf(head, "Host: %.*s\r\n", (int)st->authority.len, st->authority.data);
    if (rc == 0 && st->head.len)
        rc = buf_append(head, st->head.data, st->head.len);
    if (rc == 0)
        rc = buf_printf(head, "Connection: close\r\n%s\r\n", st->has_body ? "Transfer-Encoding: chunked\r\n" : "");
    return rc;
}

/* Hand the route the body bytes held, and keep what it did not take. */
static void feed_body(h2_stream *st) {
    size_t used = 0;
    stream_take_body(st->req, st->body.data ? st->body.data : "", st->body.len, &used);
    if (!st->req || used == 0)
        return; /* closed meanwhile (release freed the bytes), or nothing taken */
    memmove(st->body.data, st->body.data + used, st->body.len - used);
    st->body.len -= used;
}

static void start_request(h2_stream *st, int body_follows) {
    h2_session *s = st->sess;
    server *srv = s->c->srv;
    /* Stopping, a new request would hold the shutdown (or be cut by it):
     * REFUSED_STREAM tells the client it was not processed. */
    if (srv->stopping || srv->conn_count >= srv->max_clients) {
        nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_REFUSED_STREAM);
        return;
    }
    stream *req = stream_new(srv, &h2_carrier, st, &st->io, 1);
    if (!req) {
        nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
        return;
    }
    st->io.fd = -1;
    st->io.h2 = st;
    st->io.ops = &h2_stream_ops;
    req->peer = s->c->peer;
    req->peer_fd = s->c->io.fd;
    req->reached_on_loopback = s->c->reached_on_loopback;
    st->req = req;
    h2_session_count_request(s, 1);
    if (st->oversized) {
        free_request_fields(st);
        stream_reply_status(req, st->oversized,
                            st->oversized == 414 ? "request line too long" : "request headers larger than --max-header-size",
                            NULL);
        return;
    }
    /* Each stream carries one request: its stream answers it and ends. */
    st->has_body = body_follows && method_has_body(&st->method);
    buf head = BUF_INIT;
    int rc = make_head(st, &head);
    free_request_fields(st);
    if (rc < 0) {
        buf_free(&head);
        stream_close(req, "out of memory");
        return;
    }
    http_request parsed;
    int status = 400;
    const char *reason = "malformed request";
    int parsed_rc = http_request_parse(head.data, head.len, srv->opt->max_header_size, &parsed, &status, &reason);
    if (parsed_rc == HTTP_INCOMPLETE)
        parsed_rc = HTTP_ERROR; /* the head is whole: something in it ended it early */
    stream_take_request(req, parsed_rc, &parsed, status, reason);
    buf_free(&head);
    if (st->req && st->req->state == STREAM_BODY)
        feed_body(st); /* an empty body is complete at once */
}

/* Give the stream's window back for the body bytes the route has taken, so
 * a publisher sends on while ssed keeps up and waits when it does not. */
static void give_back_window(h2_stream *st) {
    if (st->unconsumed && (!st->req || st->body.len < BODY_HELD_MAX)) {
        nghttp2_session_consume_stream(st->sess->ng, st->id, st->unconsumed);
        st->unconsumed = 0;
    }
}

int h2_stream_frame_recv(h2_session *s, const nghttp2_frame *frame) {
    h2_stream *st = nghttp2_session_get_stream_user_data(s->ng, frame->hd.stream_id);
    if (!st)
        return 0;
    int end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
        start_request(st, !end);
    else if (end && st->req && st->has_body && st->req->state == STREAM_BODY) {
        st->has_body = 0;
        if (buf_append(&st->body, "0\r\n\r\n", 5) < 0)
            stream_close(st->req, "out of memory");
        else
            feed_body(st);
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t stream_id, const uint8_t *data, size_t len,
                         void *user) {
    (void)flags, (void)user;
    /* The connection's window is given back at once: one publisher whose
     * body waits holds only its own stream. */
    nghttp2_session_consume_connection(ng, len);
    h2_stream *st = nghttp2_session_get_stream_user_data(ng, stream_id);
    if (!st || !st->req || !st->has_body || st->req->state != STREAM_BODY) {
        /* Nobody reads it (the request was answered before its body
         * ended): dropped, and the window given back so the client can
         * finish sending instead of waiting for it. */
        nghttp2_session_consume_stream(ng, stream_id, len);
        return 0;
    }
    char size[24];
    int n = snprintf(size, sizeof size, "%zx\r\n", len);
    st->unconsumed += len;
    if (buf_append(&st->body, size, (size_t)n) < 0 || buf_append(&st->body, data, len) < 0 ||
        buf_append(&st->body, "\r\n", 2) < 0) {
        stream_close(st->req, "out of memory");
        return 0;
    }
    feed_body(st);
    give_back_window(st);
    return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t stream_id, uint32_t error_code, void *user) {
    (void)user;
    h2_stream *st = nghttp2_session_get_stream_user_data(ng, stream_id);
    if (!st)
        return 0;
    st->closed = 1;
    if (st->req) {
        stream *req = st->req;
        st->req = NULL;
        req->carrier_data = NULL; /* nothing to reset: nghttp2 closed it */
        h2_session_count_request(st->sess, -1);
        stream_close(req, error_code == NGHTTP2_NO_ERROR ? "done" : "stream reset by peer");
    }
    nghttp2_session_set_stream_user_data(ng, stream_id, NULL);
    h2_stream_free(st);
    return 0;
}

void h2_stream_callbacks(nghttp2_session_callbacks *cb) {
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
}

/* DATA frames take the response body as the stream's window allows,
 * without a copy into nghttp2's buffer: the frame's payload is written
 * from the pieces owed, straight into the session's out, when nghttp2
 * sends it (h2_session.c's send_data_callback, h2_owed_emit). */
static ssize_t read_body(nghttp2_session *ng, int32_t stream_id, uint8_t *dest, size_t length, uint32_t *data_flags,
                         nghttp2_data_source *source, void *user) {
    (void)ng, (void)stream_id, (void)dest, (void)user;
    h2_stream *st = source->ptr;
    size_t owed = st->owed_bytes;
    if (owed == 0 && !st->ended) {
        st->deferred = 1;
        return NGHTTP2_ERR_DEFERRED;
    }
    size_t n = owed < length ? owed : length;
    if (n)
        *data_flags |= NGHTTP2_DATA_FLAG_NO_COPY;
    if (n == owed && st->ended)
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int hop_by_hop(const char *name) {
    return strcmp(name, "connection") == 0 || strcmp(name, "keep-alive") == 0 ||
           strcmp(name, "transfer-encoding") == 0 || strcmp(name, "proxy-connection") == 0 ||
           strcmp(name, "upgrade") == 0;
}

/* The stream's HTTP/1.1 status line and headers, in reply_head (NUL-terminated
 * at its blank line), become HEADERS; all of them or none (-1: a head
 * that does not parse or has more than REPLY_FIELDS_MAX fields is not sent
 * with some left out). */
static int submit_reply(h2_stream *st) {
    char *p = st->reply_head.data;
    char *line_end = strstr(p, "\r\n");
    if (strncmp(p, "HTTP/1.1 ", 9) != 0 || !line_end || line_end - p < 12)
        return -1;
    char status[4] = {p[9], p[10], p[11], 0};
    nghttp2_nv nv[REPLY_FIELDS_MAX + 1];
    size_t n = 0;
    nv[n++] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)status, 7, 3, NGHTTP2_NV_FLAG_NONE};
    for (p = line_end + 2; *p && n <= REPLY_FIELDS_MAX; p = line_end + 2) {
        line_end = strstr(p, "\r\n");
        char *colon = memchr(p, ':', line_end ? (size_t)(line_end - p) : 0);
        if (!line_end || !colon)
            break;
        *colon = *line_end = 0;
        for (char *q = p; *q; q++)
            *q = (char)tolower((unsigned char)*q);
        char *value = colon + 1;
        while (*value == ' ')
            value++;
        if (hop_by_hop(p))
            continue;
        nv[n++] = (nghttp2_nv){(uint8_t *)p, (uint8_t *)value, strlen(p), strlen(value), NGHTTP2_NV_FLAG_NONE};
    }
    if (*p)
        return -1;
    nghttp2_data_provider body = {.source.ptr = st, .read_callback = read_body};
    if (nghttp2_submit_response(st->sess->ng, st->id, nv, n, &body) != 0)
        return -1;
    st->replied = 1;
    return 0;
}

static void resume(h2_stream *st) {
    if (st->deferred && !st->closed) {
        st->deferred = 0;
        nghttp2_session_resume_data(st->sess->ng, st->id);
    }
    h2_session_wants_flush(st->sess);
}

/* The response head: collected until its blank line, then submitted;
 * interim responses (100 Continue) have no place in HTTP/2 and are
 * dropped. Returns bytes of iov taken as head, or -1. */
static ssize_t take_reply_head(h2_stream *st, const struct iovec *iov, int count) {
    size_t taken = 0;
    for (int i = 0; i < count && !st->replied; i++) {
        const char *bytes = iov[i].iov_base;
        for (size_t j = 0; j < iov[i].iov_len && !st->replied; j++) {
            if (buf_append_char(&st->reply_head, bytes[j]) < 0 || st->reply_head.len > 16384)
                return -1;
            taken++;
            size_t len = st->reply_head.len;
            if (len < 4 || memcmp(st->reply_head.data + len - 4, "\r\n\r\n", 4) != 0)
                continue;
            st->reply_head.data[len - 2] = 0;
            int interim = strncmp(st->reply_head.data, "HTTP/1.1 1", 10) == 0;
            if (!interim && submit_reply(st) < 0)
                return -1;
            buf_clear(&st->reply_head);
        }
    }
    return (ssize_t)taken;
}

/* The shared event whose bytes hold [bytes, bytes + len) when it is the
 * k-th event of the subscriber's queue: stream.c hands a subscriber's
 * bytes as its own first (st->out: headers, a preamble), then its queued
 * events in order, each piece within one event (body_iovec), so a cursor
 * k follows them and the stream takes a reference instead of a copy.
 * NULL: bytes of the stream's own, copied (also whatever does not match,
 * so a change there costs a copy, never a wrong byte). */
static shared_event *queued_event(const h2_stream *st, size_t *k, const char *bytes, size_t len) {
    const subscriber *sub = st->req ? &st->req->sub : NULL;
    if (!sub || *k >= sub->q_len)
        return NULL;
    shared_event *ev = sub->queue[(sub->q_head + *k) & (sub->q_cap - 1)];
    uintptr_t at = (uintptr_t)bytes, start = (uintptr_t)ev->bytes;
    if (at < start || len > ev->len || at - start > ev->len - len)
        return NULL;
    ++*k;
    return ev;
}

static ssize_t h2_stream_writev(transport *t, const struct iovec *iov, int count) {
    h2_stream *st = t->h2;
    ssize_t taken = 0;
    if (!st->replied) {
        taken = take_reply_head(st, iov, count);
        if (taken < 0) {
            errno = EPROTO;
            return -1;
        }
        if (!st->replied)
            return taken;
        buf_free(&st->reply_head);
    }
    size_t room = h2_budget_room(st), k = 0;
    size_t skip = (size_t)taken, moved = 0;
    for (int i = 0; i < count && room; i++) {
        size_t len = iov[i].iov_len;
        const char *bytes = iov[i].iov_base;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        bytes += skip, len -= skip, skip = 0;
        if (len > room)
            len = room;
        shared_event *ev = queued_event(st, &k, bytes, len);
        if ((ev ? h2_owed_push(st, ev, (size_t)(bytes - ev->bytes), len) : h2_owed_copy(st, bytes, len)) < 0) {
            errno = ENOMEM;
            return -1;
        }
        room -= len, moved += len;
    }
    if (taken + (ssize_t)moved == 0) {
        errno = EAGAIN;
        return -1;
    }
    if (moved || taken)
        resume(st); /* HEADERS go out even while the window is shut */
    return taken + (ssize_t)moved;
}

/* The response is complete: END_STREAM after the bytes owed. */
static void h2_stream_end(transport *t) {
    h2_stream *st = t->h2;
    st->ended = 1;
    resume(st);
}

/* ---- the carrier of its request's stream -------------------------------- */

/* The session says when there is room (h2_stream_wake_writers). */
static void h2_wait_writable(stream *req) { (void)req; }

/* The answer is complete: END_STREAM after the bytes held, and the stream
 * closes (on_stream_close) when it is sent. */
static void h2_answered(stream *req) { transport_shutdown_write(req->io); }

/* A body's answer waits: the session reads on for its other streams. */
static void h2_hold_input(stream *req) { (void)req; }

/* The request's stream is closing: reset the HTTP/2 stream if it is still
 * open. */
static void h2_release(stream *req, const char *why) {
    (void)why;
    h2_stream *st = req->carrier_data;
    st->req = NULL;
    st->io.h2 = NULL;
    /* What it held goes now, not when the client reads its RST_STREAM: a
     * client that reads nothing never would. */
    h2_owed_drop(st);
    buf_free(&st->body);
    st->ended = 0; /* nor is END_STREAM sent after the bytes dropped */
    h2_session_count_request(st->sess, -1);
    if (!st->closed && !st->sess->failing) {
        nghttp2_submit_rst_stream(st->sess->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
        h2_session_wants_flush(st->sess);
    }
}

static const stream_carrier h2_carrier = {h2_wait_writable, h2_answered, h2_hold_input, h2_release};

/* Streams whose request waits for room and now has it, as epoll would say
 * LOOP_OUT for a socket: half its cap free, or anything while it holds
 * nothing. A stream whose window is shut is left alone. */
void h2_stream_wake_writers(h2_session *s) {
    h2_stream *next;
    for (h2_stream *st = s->streams; st; st = next) {
        next = st->next;
        if (!st->req || !st->req->waits_writable)
            continue;
        size_t held = st->owed_bytes;
        if (held < h2_budget_stream_cap(st) / 2 && h2_budget_room(st) > 0)
            stream_writable(st->req);
    }
}

/* A stream's input comes from its session (stream_take_request and
 * stream_take_body), never from the transport; nor does it hold any, or
 * shake hands. */
static ssize_t h2_stream_read(transport *t, void *buf, size_t len) {
    (void)t, (void)buf, (void)len;
    errno = EAGAIN;
    return -1;
}

static int h2_stream_no(const transport *t) { return t == NULL; }

/* Its carrier lets go of it (h2_release), not the transport. */
static void h2_stream_close(transport *t) { (void)t; }

/* What a write may take: the stream's room once its HEADERS are out (the
 * response head is taken whatever the room), so stream.c gathers no more
 * events than the frames may hold. */
static size_t h2_stream_room(const transport *t) {
    const h2_stream *st = t->h2;
    return st && st->replied ? h2_budget_room(st) : SIZE_MAX;
}

static const transport_ops h2_stream_ops = {
    .read = h2_stream_read,
    .writev = h2_stream_writev,
    .has_buffered_input = h2_stream_no,
    .handshaking = h2_stream_no,
    .agreed_h2 = h2_stream_no,
    .shutdown_write = h2_stream_end,
    .close = h2_stream_close,
    .room = h2_stream_room,
};
