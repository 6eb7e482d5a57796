/* The ssed_lifecycle fuzz target's HTTP/2 clients (lifecycle.h): h2c with
 * prior knowledge over the unix socket, libnghttp2's client session, up to
 * H2_SLOTS streams open per connection. The operations write HTTP/1.1
 * requests; each becomes a stream here (its head HEADERS, its body DATA,
 * a chunked body DATA frames as its pieces come), so both protocols run
 * the same operations. What the client's nghttp2 emits waits in
 * cl->tail until the socket takes it: a lost byte would break the framing,
 * where HTTP/1.1 only loses a request. A CUT holds part of the next
 * request's frames back until REST or the client's next request.
 *
 * What each stream receives is checked as an HTTP/1.1 client's is: its
 * ssed ids strictly increase (lifecycle_client.c). And unless raw bytes
 * went into the connection (GARBAGE), the client's nghttp2 must accept all
 * ssed sends: a stream or connection error it finds (RST_STREAM or GOAWAY
 * with an error code, a frame it calls invalid) is ssed breaking HTTP/2. */
#include <nghttp2/nghttp2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lifecycle.h"

#define H2_SLOTS 8
#define H2_FIELDS 24

typedef struct h2_req {
    int32_t id;    /* 0: a free slot */
    buf body;      /* request body bytes, from body_off on not yet framed */
    size_t body_off;
    int body_open; /* a chunked body: more pieces may come */
    int status;
    int event_stream; /* content-type: text/event-stream */
    response_reader rx;
} h2_req;

struct h2_client {
    nghttp2_session *ng;
    h2_req req[H2_SLOTS];
    int32_t publishing; /* the stream of an open chunked body; 0: none */
    int held;           /* cl->tail is held back by a cut */
    int tainted;        /* raw bytes went in: ssed may answer anything */
    int closing;        /* GOAWAY sent or received: the next request reconnects */
    int failed;         /* what ssed sent could not be read: nothing more is */
    int settings_owed;  /* SETTINGS sent and not yet acknowledged */
};

/* FUZZ_LIFECYCLE_TRACE=1 in the environment: what HTTP/2 clients receive
 * goes to stderr, to read what a reproducer does. */
static void trace(const client *cl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trace(const client *cl, const char *fmt, ...) {
    static int on = -1;
    if (on < 0)
        on = getenv("FUZZ_LIFECYCLE_TRACE") != NULL;
    if (!on)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "h2 client %d: ", (int)(cl - cl->w->clients));
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static h2_req *slot_of(h2_client *h, int32_t id) {
    for (int i = 0; i < H2_SLOTS; i++)
        if (h->req[i].id == id && id > 0)
            return &h->req[i];
    return NULL;
}

static void slot_free(h2_client *h, h2_req *r) {
    if (h->publishing == r->id)
        h->publishing = 0;
    buf_free(&r->body);
    reader_free(&r->rx);
    memset(r, 0, sizeof *r);
}

/* ---- the session's callbacks --------------------------------------------- */

static int on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user) {
    (void)ng, (void)flags;
    client *cl = user;
    h2_req *r = slot_of(cl->h2, frame->hd.stream_id);
    if (!r || frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    if (namelen == 7 && memcmp(name, ":status", 7) == 0 && valuelen == 3)
        r->status = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
    else if (namelen == 12 && memcmp(name, "content-type", 12) == 0)
        r->event_stream = valuelen >= 17 && memcmp(value, "text/event-stream", 17) == 0;
    return 0;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *user) {
    (void)ng;
    client *cl = user;
    trace(cl, "frame type %d stream %d flags %d length %zu", frame->hd.type, (int)frame->hd.stream_id,
          frame->hd.flags, frame->hd.length);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
        cl->h2->closing = 1;
        return 0;
    }
    if (frame->hd.type == NGHTTP2_SETTINGS && (frame->hd.flags & NGHTTP2_FLAG_ACK))
        cl->h2->settings_owed--;
    h2_req *r = slot_of(cl->h2, frame->hd.stream_id);
    if (r && frame->hd.type == NGHTTP2_HEADERS && r->status >= 200)
        r->rx.streaming = r->status == 200 && r->event_stream;
    return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                         void *user) {
    (void)ng, (void)flags;
    client *cl = user;
    h2_req *r = slot_of(cl->h2, id);
    trace(cl, "stream %d status %d: %.*s", (int)id, r ? r->status : 0, (int)len, (const char *)data);
    if (r && r->rx.streaming)
        reader_take_events(&r->rx, (const char *)data, len);
    return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *user) {
    (void)ng;
    client *cl = user;
    trace(cl, "stream %d closed: %s", (int)id, nghttp2_http2_strerror(code));
    h2_req *r = slot_of(cl->h2, id);
    if (r)
        slot_free(cl->h2, r);
    return 0;
}

/* The client says ssed broke the protocol: an invariant, unless raw bytes
 * went in. (Its own RST_STREAMs are CANCEL, its own GOAWAY NO_ERROR.) */
static int on_frame_send(nghttp2_session *ng, const nghttp2_frame *frame, void *user) {
    (void)ng;
    client *cl = user;
    uint32_t code = frame->hd.type == NGHTTP2_RST_STREAM ? frame->rst_stream.error_code
                    : frame->hd.type == NGHTTP2_GOAWAY   ? frame->goaway.error_code
                                                         : NGHTTP2_NO_ERROR;
    if (code != NGHTTP2_NO_ERROR && code != NGHTTP2_CANCEL && !cl->h2->tainted) {
        fprintf(stderr, "fuzz_ssed_lifecycle: client %d sends frame type %d stream %d error %s\n",
                (int)(cl - cl->w->clients), frame->hd.type, (int)frame->hd.stream_id, nghttp2_http2_strerror(code));
        broken("an HTTP/2 client found an error in what ssed sent");
    }
    if (frame->hd.type == NGHTTP2_GOAWAY)
        cl->h2->closing = 1;
    if (frame->hd.type == NGHTTP2_SETTINGS && !(frame->hd.flags & NGHTTP2_FLAG_ACK))
        cl->h2->settings_owed++;
    trace(cl, "sends frame type %d stream %d flags %d", frame->hd.type, (int)frame->hd.stream_id, frame->hd.flags);
    return 0;
}

static int on_invalid_frame(nghttp2_session *ng, const nghttp2_frame *frame, int error, void *user) {
    (void)ng;
    client *cl = user;
    if (!cl->h2->tainted) {
        fprintf(stderr, "fuzz_ssed_lifecycle: client %d: invalid frame type %d stream %d: %s\n",
                (int)(cl - cl->w->clients), frame->hd.type, (int)frame->hd.stream_id, nghttp2_strerror(error));
        broken("ssed sent an HTTP/2 frame its client calls invalid");
    }
    return 0;
}

static nghttp2_session *new_session(client *cl) {
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb) != 0)
        harness_failed("out of memory");
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cb, on_invalid_frame);
    nghttp2_session *ng;
    if (nghttp2_session_client_new(&ng, cb, cl) != 0)
        harness_failed("nghttp2_session_client_new failed");
    nghttp2_session_callbacks_del(cb);
    nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
    if (nghttp2_submit_settings(ng, NGHTTP2_FLAG_NONE, settings, 1) != 0)
        harness_failed("nghttp2_submit_settings failed");
    return ng;
}

/* ---- sending ------------------------------------------------------------- */

/* Write cl->tail's first `upto` bytes, as far as the socket takes them. */
static void send_front(client *cl, size_t upto) {
    size_t sent = 0, n;
    if (upto == 0)
        return;
    while (sent < upto && (n = client_write(cl, cl->tail.data + sent, upto - sent)) > 0)
        sent += n;
    memmove(cl->tail.data, cl->tail.data + sent, cl->tail.len - sent);
    cl->tail.len -= sent;
}

/* The frames nghttp2 owes join cl->tail; what a cut does not hold back
 * goes. With use_cut, a CUT holds back the rest of these new frames. */
static void emit(client *cl, int use_cut) {
    h2_client *h = cl->h2;
    size_t before = cl->tail.len;
    for (;;) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(h->ng, &data);
        if (n < 0)
            harness_failed("nghttp2_session_mem_send failed");
        if (n == 0)
            break;
        if (buf_append(&cl->tail, data, (size_t)n) < 0)
            harness_failed("out of memory");
    }
    if (use_cut && cl->cut) {
        send_front(cl, before + (cl->tail.len - before) * (size_t)cl->cut / 5);
        cl->cut = 0;
        h->held = 1;
    } else if (!h->held) {
        send_front(cl, cl->tail.len);
    }
}

void h2_client_flush(client *cl) {
    if (cl->h2)
        emit(cl, 0);
}

void h2_client_send_rest(client *cl) {
    cl->h2->held = 0;
    emit(cl, 0);
}

static ssize_t read_body(nghttp2_session *ng, int32_t id, uint8_t *dest, size_t length, uint32_t *data_flags,
                         nghttp2_data_source *source, void *user) {
    (void)ng, (void)source;
    client *cl = user;
    h2_req *r = slot_of(cl->h2, id);
    if (!r) {
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        return 0;
    }
    size_t left = r->body.len - r->body_off;
    if (left == 0 && r->body_open)
        return NGHTTP2_ERR_DEFERRED;
    size_t n = left < length ? left : length;
    if (n)
        memcpy(dest, r->body.data + r->body_off, n);
    r->body_off += n;
    if (r->body_off == r->body.len && !r->body_open)
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* ---- requests ------------------------------------------------------------ */

/* The operations' HTTP/1.1 request head as HTTP/2 fields, in place (names
 * lowercased, lines cut): pseudo-headers first, Host as :authority, no
 * connection-specific fields. *chunked: Transfer-Encoding: chunked. */
static size_t head_fields(char *head, nghttp2_nv *nv, int *chunked) {
    size_t n = 0, authority = 3;
    char *line_end = strstr(head, "\r\n"), *sp1 = strchr(head, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!line_end || !sp1 || !sp2 || sp2 > line_end)
        harness_failed("an operation wrote a request line that is not one");
    *sp1 = *sp2 = *line_end = 0;
    nv[n++] = (nghttp2_nv){(uint8_t *)":method", (uint8_t *)head, 7, strlen(head), 0};
    nv[n++] = (nghttp2_nv){(uint8_t *)":path", (uint8_t *)sp1 + 1, 5, strlen(sp1 + 1), 0};
    nv[n++] = (nghttp2_nv){(uint8_t *)":scheme", (uint8_t *)"http", 7, 4, 0};
    for (char *p = line_end + 2; *p && n < H2_FIELDS; p = line_end + 2) {
        line_end = strstr(p, "\r\n");
        char *colon = strchr(p, ':');
        if (!line_end || !colon || colon > line_end)
            break;
        *colon = *line_end = 0;
        for (char *q = p; *q; q++)
            *q = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
        char *value = colon + 2;
        if (strcmp(p, "transfer-encoding") == 0)
            *chunked = 1;
        if (strcmp(p, "transfer-encoding") == 0 || strcmp(p, "connection") == 0)
            continue;
        int is_host = strcmp(p, "host") == 0;
        nv[n++] = (nghttp2_nv){(uint8_t *)(is_host ? ":authority" : p), (uint8_t *)value, is_host ? 10 : strlen(p),
                               strlen(value), 0};
        if (is_host) { /* a pseudo-header: before the fields */
            nghttp2_nv a = nv[n - 1];
            memmove(&nv[authority + 1], &nv[authority], (n - 1 - authority) * sizeof *nv);
            nv[authority++] = a;
        }
    }
    return n;
}

/* A new session after GOAWAY, as a client opens a new connection. */
static int usable(client *cl) {
    if (cl->h2 && (cl->h2->closing || cl->h2->failed)) {
        client_disconnect(cl, 0);
        h2_client_connect(cl);
    }
    return cl->h2 != NULL;
}

/* A slot for a new stream; the oldest is reset when all are taken. */
static h2_req *free_slot(h2_client *h) {
    h2_req *oldest = &h->req[0];
    for (int i = 0; i < H2_SLOTS; i++) {
        if (h->req[i].id == 0)
            return &h->req[i];
        if (h->req[i].id < oldest->id)
            oldest = &h->req[i];
    }
    nghttp2_submit_rst_stream(h->ng, NGHTTP2_FLAG_NONE, oldest->id, NGHTTP2_CANCEL);
    slot_free(h, oldest);
    return oldest;
}

void h2_client_request(client *cl, const char *req, size_t len) {
    if (!usable(cl))
        return;
    h2_client_send_rest(cl);
    h2_client *h = cl->h2;
    char head[2048];
    const char *end = memmem(req, len, "\r\n\r\n", 4);
    size_t head_len = end ? (size_t)(end - req) + 2 : len;
    if (head_len >= sizeof head)
        harness_failed("request head too long");
    memcpy(head, req, head_len);
    head[head_len] = 0;
    nghttp2_nv nv[H2_FIELDS + 4];
    int chunked = 0;
    size_t n = head_fields(head, nv, &chunked);
    h2_req *r = free_slot(h);
    size_t body_at = end ? head_len + 2 : len;
    if (buf_append(&r->body, req + body_at, len - body_at) < 0)
        harness_failed("out of memory");
    r->body_open = chunked;
    int has_body = chunked || r->body.len || strcmp(head, "POST") == 0;
    nghttp2_data_provider body = {.read_callback = read_body};
    int32_t id = nghttp2_submit_request(h->ng, NULL, nv, n, has_body ? &body : NULL, NULL);
    if (id < 0) {
        buf_free(&r->body);
        return;
    }
    r->id = id;
    reader_init(&r->rx, cl->w, (int)(cl - cl->w->clients));
    if (chunked)
        h->publishing = id;
    emit(cl, 1);
}

void h2_client_piece(client *cl, const char *piece, size_t len, int last) {
    h2_client *h = cl->h2;
    h2_req *r = slot_of(h, h->publishing);
    if (!r)
        return; /* no chunked body is open */
    h2_client_send_rest(cl);
    if (buf_append(&r->body, piece, len) < 0)
        harness_failed("out of memory");
    if (last) {
        r->body_open = 0;
        h->publishing = 0;
    }
    nghttp2_session_resume_data(h->ng, r->id);
    emit(cl, 1);
}

/* Raw bytes go after the frames owed; from now on ssed may see anything. */
void h2_client_raw(client *cl, const char *bytes, size_t len) {
    h2_client_send_rest(cl);
    cl->h2->tainted = 1;
    if (buf_append(&cl->tail, bytes, len) < 0)
        harness_failed("out of memory");
    emit(cl, 0);
}

/* ---- the connection ------------------------------------------------------ */

void h2_client_connect(client *cl) {
    if (cl->h2)
        return;
    client_disconnect(cl, 0); /* an HTTP/1.1 connection goes */
    int fd = client_open_socket(cl);
    if (fd < 0)
        return;
    h2_client *h = calloc(1, sizeof *h);
    if (!h)
        harness_failed("out of memory");
    cl->fd = fd;
    cl->cut = 0;
    buf_clear(&cl->tail);
    cl->h2 = h;
    h->ng = new_session(cl);
    emit(cl, 0);
}

void h2_client_free(client *cl) {
    h2_client *h = cl->h2;
    for (int i = 0; i < H2_SLOTS; i++)
        if (h->req[i].id)
            slot_free(h, &h->req[i]);
    nghttp2_session_del(h->ng);
    free(h);
    cl->h2 = NULL;
}

void h2_client_read(client *cl) {
    h2_client *h = cl->h2;
    char chunk[16384];
    for (int i = 0; !h->failed && i < 64; i++) {
        ssize_t n = recv(cl->fd, chunk, sizeof chunk, MSG_DONTWAIT);
        if (n <= 0)
            break;
        ssize_t rc = nghttp2_session_mem_recv(h->ng, (const uint8_t *)chunk, (size_t)n);
        if (rc < 0 && !h->tainted) {
            fprintf(stderr, "fuzz_ssed_lifecycle: client %d: %s\n", (int)(cl - cl->w->clients),
                    nghttp2_strerror((int)rc));
            broken("an HTTP/2 client cannot read what ssed sent");
        }
        h->failed = rc < 0;
    }
    emit(cl, 0); /* SETTINGS and PING acknowledged, windows given back */
}

static void reset_stream(client *cl, int32_t id) {
    if (id > 0)
        nghttp2_submit_rst_stream(cl->h2->ng, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
}

void h2_client_reset(client *cl, int variant) {
    h2_client *h = cl->h2;
    int32_t newest = 0, oldest = 0;
    for (int i = 0; i < H2_SLOTS; i++) {
        int32_t id = h->req[i].id;
        if (id && id > newest)
            newest = id;
        if (id && (!oldest || id < oldest))
            oldest = id;
        if (id && variant == 3)
            reset_stream(cl, id);
    }
    if (variant < 3)
        reset_stream(cl, variant == 0 ? newest : variant == 1 ? oldest : h->publishing);
    emit(cl, 0);
}

void h2_client_control(client *cl, int variant) {
    nghttp2_session *ng = cl->h2->ng;
    nghttp2_settings_entry window = {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, variant == 2 ? 16 : 65535};
    if (variant == 0)
        nghttp2_submit_goaway(ng, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, NULL, 0);
    else if (variant == 1)
        nghttp2_submit_ping(ng, NGHTTP2_FLAG_NONE, NULL);
    else if (!cl->h2->settings_owed) /* see h2_client_control in lifecycle.h */
        nghttp2_submit_settings(ng, NGHTTP2_FLAG_NONE, &window, 1);
    emit(cl, 0);
}
