/* What h2_session.c (the connection: socket, frames, limits),
 * h2_stream.c (one request: its HTTP/1.1 head, its response) and the three
 * below them, h2_session_state.c, h2_owed.c and h2_budget.c, share. Calls
 * go one way: the session calls its streams; a stream calls only those
 * below (and h2_owed.c calls h2_budget.c). */
#ifndef SSED_H2_INTERNAL_H
#define SSED_H2_INTERNAL_H

#include <nghttp2/nghttp2.h>

#include "buf.h"
#include "connection.h"
#include "h2.h"
#include "shared_event.h"

/* A range of a shared event's bytes an HTTP/2 stream owes its DATA frames
 * (h2_owed.c), with a reference on the event: bytes[off, off + len). */
typedef struct h2_piece {
    shared_event *ev;
    size_t off, len;
} h2_piece;

struct h2_stream {
    h2_session *sess;
    int32_t id;
    stream *req;       /* the request's stream (stream.h); NULL before the head is complete or after it closed */
    transport io;      /* what req writes to: this stream's DATA (h2_stream.c's transport_ops) */
    buf body;          /* request body bytes, framed chunked, the route has not taken yet */
    buf method, path, authority; /* :method, :path, :authority: the request line and Host, whole */
    buf head;          /* the other header fields in HTTP/1.1 form, as they arrive */
    int oversized;     /* 414 or 431: the head outgrew --max-header-size, as HTTP/1.1 would say */
    int has_body;      /* a POST or PUT that sends DATA: handed to req chunked */
    size_t unconsumed; /* body bytes not yet given back to the stream's window */
    buf reply_head;    /* what req wrote before the end of its response head */
    int replied;       /* HEADERS submitted; what req writes now is DATA */
    h2_piece *owed;    /* response body owed to DATA frames, a ring of pieces of shared
                        * events (h2_owed.c): held, bounded by h2_budget.c, and let go
                        * once gathered into the session's out */
    size_t owed_head, owed_count, owed_cap; /* owed_cap: 0 or a power of two */
    size_t owed_bytes; /* the bytes of its pieces */
    int ended;         /* the response is complete: END_STREAM after out */
    int deferred;      /* the data provider waits for bytes */
    int closed;        /* nghttp2 closed it */
    h2_stream *prev, *next;
};

/* Client stream ids skipped (closed unused, RFC 9113 5.1.1): the last few
 * ranges of them, each [lo, hi]. */
#define H2_SKIPPED_RANGES 4

struct h2_session {
    nghttp2_session *ng;
    connection *c;
    h2_stream *streams;
    size_t request_streams; /* streams with a request stream (req) */
    size_t held;            /* bytes its streams hold for DATA frames, and out_held */
    list_node flush_link;   /* on srv->flushing: frames to send */
    buf out;                /* frames gathered for one write */
    size_t out_off;
    size_t out_held;        /* frames gathered in out, not yet written (h2_session.c) */
    uint64_t reset_second;  /* RST_STREAM counting: this second, */
    unsigned resets;        /* and how many came in it */
    unsigned continuations; /* CONTINUATION frames of the header block being read */
    int32_t last_stream_id; /* the highest the client opened; -1 before its first */
    int32_t skipped[H2_SKIPPED_RANGES][2];
    unsigned skipped_next; /* the range replaced next */
    int settings_seen;
    int failing; /* GOAWAY queued: close once it is written */
};

/* h2_stream.c: nghttp2's callbacks for requests, and streams' lifetime. */
void h2_stream_callbacks(nghttp2_session_callbacks *cb);
/* A complete HEADERS or DATA frame of a stream (on_frame_recv). */
int h2_stream_frame_recv(h2_session *s, const nghttp2_frame *frame);
void h2_stream_free(h2_stream *st);
/* Streams whose request waits for room and now has it are told so. */
void h2_stream_wake_writers(h2_session *s);

/* h2_session.c: the connection, which owns its streams and calls them. */
/* One more stream reset this second, by the client or provoked from ssed
 * (a malformed request, a refusal); past the limit, GOAWAY. 0, or
 * NGHTTP2_ERR_CALLBACK_FAILURE once over it. */
int h2_session_count_reset(h2_session *s);

/* h2_session_state.c: what streams may ask of their session; it calls
 * neither h2_session.c nor h2_stream.c (the session calls its streams,
 * never the other way round). */
/* The session has bytes to send: flush it with the next slice. */
void h2_session_wants_flush(h2_session *s);
/* A stream's request appeared or went away: the idle timer follows. */
void h2_session_count_request(h2_session *s, int delta);
/* Refuse the rest: GOAWAY with this code, then close. */
void h2_session_calm(h2_session *s, uint32_t code);

/* h2_owed.c: what a stream owes its DATA frames, by reference. */
/* Owe bytes [off, off + len) of ev, taking a reference on it; or a copy of
 * bytes of the stream's own. 0, or -1 when memory ran out (nothing owed). */
int h2_owed_push(h2_stream *st, shared_event *ev, size_t off, size_t len);
int h2_owed_copy(h2_stream *st, const char *bytes, size_t len);
/* Append the first n bytes owed to out (a DATA frame's payload) and let
 * them go. -1 when memory ran out or fewer than n are owed. */
int h2_owed_emit(h2_stream *st, buf *out, size_t n);
/* Let go of all it owes (sent, or never to be). */
void h2_owed_drop(h2_stream *st);

/* h2_budget.c: the bounds on what streams hold for DATA frames (h2.h). */
/* The most a stream may hold now, windows aside: 64 KiB, half of
 * --max-pending, its share of --h2-conn-buffer. */
size_t h2_budget_stream_cap(const h2_stream *st);
/* Bytes st may take now: within its cap and the client's windows. */
size_t h2_budget_room(const h2_stream *st);
/* st now holds n bytes more, or n fewer: its session, the server and its
 * subscriber (whose --max-pending they count against) keep the sums. */
void h2_budget_took(h2_stream *st, size_t n);
void h2_budget_gave(h2_stream *st, size_t n);

#endif
