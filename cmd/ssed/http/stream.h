/* One request and its answer: a short reply, a publisher's body and its
 * answer, or a subscriber's event stream. Routes, subscribers and
 * publishers talk to a stream through these calls and never learn which
 * protocol carries it: an HTTP/1.1 connection carries one stream at a time
 * (connection.h), an HTTP/2 session many (h2_stream.c). What differs
 * between the two is the carrier's (stream_carrier below).
 *
 * Lifetime: a stream is made by its carrier once its request head is
 * complete (stream_new), and lives until its answer is complete and the
 * carrier lets it go, or until stream_close (a client gone, too slow, the
 * connection closed, the server stopped), which detaches its subscriber,
 * lets the route free its state and tells the carrier. It is freed after
 * the loop iteration in which it was closed (srv->stream_graveyard), since
 * callers up the stack may still hold its pointer.
 *
 * What a stream writes goes through its transport (transport.h): bytes
 * handed to a write are the transport's until written, so ending a stream
 * (stream_end) only ever drops what was not handed over. */
#ifndef SSED_STREAM_H
#define SSED_STREAM_H

#include <stdint.h>

#include "buf.h"
#include "http_request.h"
#include "hub.h"
#include "list.h"
#include "server.h"
#include "transport.h"

typedef struct stream stream;

/* Where a subscriber's body stands in HTTP/1.1 chunked framing: one chunk
 * per write, its size line and closing CRLF put around the body bytes the
 * write hands over. The transport may take any prefix of a write, so what
 * of the open chunk is still owed is kept here, and no chunk starts before
 * the open one is complete: its size line promised every byte of it. */
typedef struct stream_chunk {
    uint32_t size;      /* the open chunk's body bytes: its size line is made again from it */
    uint32_t body_left; /* of them, not written yet */
    uint8_t size_off;   /* bytes of its size line written */
    uint8_t crlf_off;   /* bytes of the chunk's closing CRLF written */
    uint8_t open;       /* a chunk is open: its size line (part of it) is written */
    uint8_t last_off;   /* bytes of the last chunk ("0\r\n\r\n") written */
} stream_chunk;

enum stream_state {
    STREAM_STARTED,    /* its request is read; the route has not answered it yet */
    STREAM_BODY,       /* its request body is handed to the route as it arrives */
    STREAM_ANSWERING,  /* the body is complete; its answer waits on the route (a cluster publish) */
    STREAM_REPLYING,   /* writing a short reply */
    STREAM_REPLIED,    /* the reply is written; the carrier ends the stream (HTTP/2: END_STREAM) */
    STREAM_SUBSCRIBED, /* a subscriber's event stream */
};

/* What the protocol carrying a stream does for it. */
typedef struct stream_carrier {
    /* The transport is full: call stream_writable once it has room. */
    void (*wait_writable)(stream *st);
    /* Everything owed is written and the answer is complete (a reply, or
     * an ending stream's last words): end it, and go on with the next
     * request if there is one. */
    void (*answered)(stream *st);
    /* The body is complete and its answer comes later: read nothing
     * meanwhile but the client going away. */
    void (*hold_input)(stream *st);
    /* The stream closed (stream_close): let go of it. */
    void (*release)(stream *st, const char *why);
} stream_carrier;

struct stream {
    server *srv;
    const stream_carrier *carrier;
    void *carrier_data; /* the HTTP/1.1 connection or the HTTP/2 stream; NULL once it let go */
    transport *io;      /* where the answer goes: the connection's, or the HTTP/2 stream's */
    uint8_t state;      /* enum stream_state */
    uint8_t closed;
    uint8_t is_h2;      /* counted as an HTTP/2 stream in srv->conn_count */
    uint8_t waits_writable; /* the transport was full: it says when it has room */
    uint8_t draining;   /* ending (stream_end): close once the queue is written */
    uint8_t keep_alive; /* HTTP/1.1: after this answer, the connection reads the next request */
    uint8_t reached_on_loopback; /* connected to a loopback address of ours */
    uint8_t head_request; /* a HEAD: every answer to it, a refusal too, is a head alone */
    uint8_t chunks_body; /* set by the HTTP/1.1 carrier for an HTTP/1.1 client: a subscriber's body is chunked */
    const char *drain_reason; /* why, when not the server shutting down */
    list_node timer_link;  /* on srv->streaming, srv->publishing or srv->ending; once
                            * closed, on srv->stream_graveyard */
    list_node expiry_link; /* on srv->expiring while its token has an exp */
    uint64_t ends_ms;   /* when the token expires (monotonic clock) */
    uint64_t since_ms;  /* started, or last written to */
    uint64_t started_ms;
    void *route_state;  /* the route's, while a body is read (a publish) */
    buf out;            /* a reply, or a subscriber's headers and preamble */
    size_t out_off;
    size_t body_start;  /* a subscriber's: where its body starts in out (stream_body_begins) */
    stream_chunk chunk; /* a chunked subscriber's framing (chunks_body) */
    subscriber sub;
    uint64_t bytes_sent;
    const char *peer;   /* the client, as its connection names it */
    int peer_fd;        /* the socket that tells who the peer is */
};

enum { STREAM_BODY_MORE = 0, STREAM_BODY_DONE = 1, STREAM_BODY_FAILED = -1 };

/* What streams call above them: the routes (server.routes). */
struct stream_routes {
    /* A complete request head: answer it, subscribe, or start a body. */
    void (*on_request)(stream *st, const http_request *req);
    /* Body bytes (maybe none yet): a STREAM_BODY_ value; *used says how
     * many belonged to the body. */
    int (*on_body)(stream *st, const char *bytes, size_t len, size_t *used);
    /* The body is complete (ok) or failed: answer it. */
    void (*on_body_end)(stream *st, int ok);
    /* The stream closes while st->route_state is set: free it. */
    void (*on_close)(stream *st);
};

/* For carriers (connection.c, h2_stream.c). */
/* A stream for a request that arrived on `carrier_data`, writing to io;
 * NULL if memory ran out. is_h2 counts it in srv->conn_count. */
stream *stream_new(server *srv, const stream_carrier *carrier, void *carrier_data, transport *io, int is_h2);
/* A parsed request head (http_request_parse's rc, status and reason) is
 * handed to the route, or answered with its error status. */
void stream_take_request(stream *st, int rc, const http_request *req, int status, const char *reason);
/* Body bytes for a stream in STREAM_BODY: the route takes what it can
 * (*used), and is told when the body ends. */
void stream_take_body(stream *st, const char *bytes, size_t len, size_t *used);
/* The transport has room again: write (a subscriber with the next flush). */
void stream_writable(stream *st);
/* Write what the stream owes (a reply, a subscriber's queue); closes it
 * when it has fallen behind, or tells the carrier when all is written. */
void stream_flush(stream *st);
void stream_close(stream *st, const char *why);

/* For routes. */
/* A short reply (status line, headers, body; http_reply.h), after which
 * the stream ends. stream_reply_status answers an error with a one-line
 * plain-text body naming the problem. */
void stream_reply_body(stream *st, int status, const char *content_type, const char *extra_headers,
                       const char *body, size_t body_len, int head_only);
void stream_reply_status(stream *st, int status, const char *reason_text, const char *extra_headers);
/* st->out holds a whole reply: write it. */
void stream_start_reply(stream *st);
/* Memory ran out before a reply could be put together: a fixed 503 goes
 * to the peer as it is (best effort, HTTP/1.1 only) and the stream closes. */
void stream_refuse_no_memory(stream *st);
/* Send an interim response (100 Continue) while reading a body. */
void stream_send_interim(stream *st, const char *head);
/* Empty the output buffer for a new response, keeping any bytes of an
 * interim response not yet handed to the transport at its front: the
 * client has its first part, and HTTP lets it precede the final response. */
void stream_restart_output(stream *st);
/* Read a body for the route, which owns route_state until on_body_end or
 * on_close. */
void stream_start_body(stream *st, void *route_state);
/* The body is complete and the route answers later (stream_reply_*): a
 * client that resets is let go at once; one that half-closes is answered.
 * Once the answer is written the carrier goes on with requests already
 * buffered. */
void stream_await_answer(stream *st);

/* stream_sse.c: the stream becomes a subscriber's event stream. */
void stream_subscribe(stream *st);
/* The header field that says how the carrier frames an event stream's
 * body, for its response head: "Transfer-Encoding: chunked\r\n" over
 * HTTP/1.1 (so clients such as Python requests see each write as it
 * comes), "" where the body ends with the connection (HTTP/1.0) or with
 * the carrier's own framing (HTTP/2). */
const char *stream_body_framing(const stream *st);
/* The response head in st->out is complete: what is appended after it
 * (retry:, the opening comment) is the body, framed by the carrier. */
void stream_body_begins(stream *st);
/* The one way a subscriber's stream ends before its client goes (its token
 * expired, the server shuts down): it takes no more events; `last` (NULL:
 * none) cuts its queue to the event being written and follows it; the
 * queue is written, then whatever the transport still owes, and the
 * carrier ends it (TLS with a close_notify, HTTP/2 with END_STREAM). A
 * client that has not taken it all --header-timeout after the end began is
 * closed then (srv->ending). reason is logged (NULL: "server shutting
 * down"). */
void stream_end(stream *st, shared_event *last, const char *reason);
/* The stream's token expires at exp_s (seconds since the epoch) plus
 * --jwt-leeway: then (the server's timers, srv->expiring) it is ended by
 * stream_end with ": token expired"; the client reconnects with a fresh
 * token and resumes by Last-Event-ID. */
void stream_end_at(stream *st, int64_t exp_s);

/* "/news", or "/news +2 more" for a stream of several channels. */
static inline void stream_name(const stream *st, char *out, size_t size) {
    subscriber_stream_name(&st->sub, out, size);
}

#endif
