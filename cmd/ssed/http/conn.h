/* One client connection: it reads a request head, then either gets a short
 * reply and is closed, or becomes a subscriber whose stream is written from
 * its queue of shared events, or sends a body that a route consumes. conn
 * knows nothing of what requests mean: it calls the routes it was given
 * (server.routes), as the loop calls a loop_watch.
 *
 * Lifetime: a conn is made by conn_new when the server accepts, closed by
 * conn_close (which detaches its subscriber, lets the route free its state
 * and unregisters the descriptor), and freed by the server after the loop
 * iteration in which it was closed, since epoll may still hold its pointer. */
#ifndef SSED_CONN_H
#define SSED_CONN_H

#include <stdint.h>

#include "buf.h"
#include "http_request.h"
#include "hub.h"
#include "list.h"
#include "loop.h"
#include "server.h"
#include "transport.h"

enum conn_state {
    CONN_READING,   /* waiting for the request head */
    CONN_REPLYING,  /* writing a reply, then lingering */
    CONN_LINGERING, /* reply sent, write side shut; reading until EOF */
    CONN_STREAMING, /* a subscriber */
    CONN_BODY,      /* a request body, handed to the route as it arrives */
    CONN_ANSWERING, /* the body is complete; its answer waits on the route (a cluster publish) */
    CONN_H2,        /* an HTTP/2 session (h2.h): its streams are conns of their own */
};

typedef struct conn {
    loop_watch watch;
    server *srv;
    transport io; /* the socket, maybe with TLS over it, or an HTTP/2 stream */
    struct h2_session *h2; /* CONN_H2: the session */
    enum conn_state state;
    int closed;
    int is_h2_stream; /* an HTTP/2 stream (conn_new_stream), not a TCP connection */
    int draining; /* ending (conn_end_stream): close once the queue is written */
    const char *drain_reason; /* why, when not the server shutting down */
    uint32_t watching; /* the epoll events conn's states ask for */
    uint32_t registered; /* those and what TLS waits for (transport.h) */
    list_node timer_link; /* on srv->reading, srv->streaming or srv->publishing */
    list_node input_link; /* on srv->buffered_input: TLS holds input for it, or head holds requests */
    intake_waiter gated;  /* on srv->intake while a round holds its reading (not a stream's) */
    list_node grave_link;
    list_node expiry_link; /* on srv->expiring while its token has an exp */
    uint64_t ends_ms;       /* when the token expires (monotonic clock) */
    uint64_t since_ms; /* accepted, or last written to */
    uint64_t started_ms;
    char *head; /* bytes read and not yet used: request heads, body bytes */
    size_t head_len, head_cap;
    int keep_alive; /* after this reply, read the next request */
    void *route_state; /* the route's, while a body is read (a publish) */
    buf out; /* reply, or a stream's headers and preamble */
    size_t out_off;
    subscriber sub;
    uint64_t bytes_sent;
    int reached_on_loopback; /* connected to a loopback address of ours */
    int peer_fd; /* the socket that tells who the peer is: io.fd, or an HTTP/2 session's */
    char peer[64];
} conn;

enum { CONN_BODY_MORE = 0, CONN_BODY_DONE = 1, CONN_BODY_FAILED = -1 };

/* What conn calls above it. */
struct conn_routes {
    /* A complete request head: answer it (reply.h), stream, or start a body. */
    void (*on_request)(conn *c, const http_request *req);
    /* Body bytes (maybe none yet): a CONN_BODY_ value; *used says how many
     * belonged to the body. */
    int (*on_body)(conn *c, const char *bytes, size_t len, size_t *used);
    /* The body is complete (ok) or failed: answer it. */
    void (*on_body_end)(conn *c, int ok);
    /* The connection closes while c->route_state is set: free it. */
    void (*on_close)(conn *c);
};

/* A new connection on an accepted descriptor, registered with the loop and
 * waiting for a request (over TLS with tls's certificate when tls is not
 * NULL); NULL (descriptor left open) on failure. */
conn *conn_new(server *srv, int fd, struct tls_server *tls);
/* A conn for a request stream of HTTP/2 session `session` (h2.h): no
 * socket of its own; the caller sets io.h2. NULL if memory ran out. */
conn *conn_new_stream(conn *session);
/* The loop_watch callback of a connection's socket (conn_new.c registers
 * it): epoll's events acted on as the conn's state asks. */
void conn_ready(loop_watch *w, uint32_t events);
/* Request bytes for a stream's conn (its HTTP/1.1 head, body bytes), acted
 * on at once. -1 if memory ran out (the conn is then closed). */
int conn_take_input(conn *c, const char *bytes, size_t len);
/* May a connection reading requests (or an HTTP/2 session) read now? 0:
 * it waits on the intake gate, epoll asked for no input until it opens;
 * a hang-up or error in events is always read. */
int conn_may_read(conn *c, uint32_t events);
/* The gate opened for c (its intake_waiter's wake): input is watched again,
 * and what TLS holds decrypted is read on the next loop turn. */
void conn_gate_opened(intake_waiter *w);
/* Ask epoll for these events (and what TLS waits for besides). */
void conn_watch(conn *c, uint32_t events);
/* A stream's session has room again: what epoll's EPOLLOUT is to a socket. */
void conn_writable(conn *c);
/* Act on the input of a connection on srv->buffered_input, as epoll would
 * for bytes in its socket: requests left in c->head when an asynchronous
 * answer (the cluster's) completed the one before, then what TLS holds
 * decrypted. */
void conn_read_buffered(conn *c);
void conn_close(conn *c, const char *why);
/* Write what the connection owes (a reply, a stream's queue); closes it
 * when it has fallen behind or the reply is done. */
void conn_flush(conn *c);
void conn_start_reply(conn *c);
/* conn_stream.c: the connection becomes a subscriber's stream. */
/* The stream's token expires at exp_s (seconds since the epoch) plus
 * --jwt-leeway: then (the server's timers, srv->expiring) it is ended by
 * conn_end_stream with a comment saying so (": token expired"); the client
 * reconnects with a fresh token and resumes by Last-Event-ID. */
void conn_end_stream_at(conn *c, int64_t exp_s);
void conn_start_stream(conn *c);
/* The one way a stream ends before its client goes (its token expired,
 * the server shuts down): it takes no more events; `last` (NULL: none)
 * cuts its queue to the event being written and follows it; the queue is
 * written, then whatever the transport still owes, and the stream closes
 * (TLS with a close_notify, an HTTP/2 stream with END_STREAM). A client
 * that has not taken it all --header-timeout after the end began is closed
 * then, with no close_notify if TLS is in the middle of a record. reason is logged
 * (NULL: "server shutting down"). */
void conn_end_stream(conn *c, shared_event *last, const char *reason);
/* Read a body for the route, which owns route_state until on_body_end or
 * on_close. */
void conn_start_body(conn *c, void *route_state);
/* The body is complete and the route answers later (conn_reply_*): read
 * nothing meanwhile; a client that resets is closed, one that half-closes
 * is answered and then closed. Once the answer is written, requests
 * already buffered are acted on (conn_read_buffered). */
void conn_await_answer(conn *c);
/* Send an interim response (100 Continue) while reading a body. */
void conn_send_interim(conn *c, const char *head);
/* Empty the output buffer for a new response, keeping any bytes of an
 * interim response not yet handed to the transport at its front: the
 * client has its first part, and HTTP lets it precede the final response. */
void conn_restart_output(conn *c);
/* A short reply (status line, headers, body; http_reply.h), after which
 * the connection reads the next request (keep_alive) or lingers and closes.
 * conn_reply_status answers an error with a one-line plain-text body naming
 * the problem. */
void conn_reply_body(conn *c, int status, const char *content_type, const char *extra_headers, const char *body,
                     size_t body_len, int head_only);
void conn_reply_status(conn *c, int status, const char *reason_text, const char *extra_headers);
/* Memory ran out before a reply could be put together: a fixed 503 goes
 * to the peer as it is (best effort) unless it is still owed bytes of an
 * earlier reply, and the connection closes. A stream of an HTTP/2 session
 * is reset by its close instead. */
void conn_refuse_no_memory(conn *c);

/* "/news", or "/news +2 more" for a stream of several channels. */
static inline void conn_stream_name(const conn *c, char *out, size_t size) {
    subscriber_stream_name(&c->sub, out, size);
}

#endif
