/* One client connection: a socket, its transport (plain or TLS), its
 * protocol (HTTP/1.1, or an HTTP/2 session: h2.h), its read buffer and its
 * deadlines. Over HTTP/1.1 it reads a request head, hands it to a stream
 * of its own (stream.h) that the routes answer, feeds that stream its body,
 * and once the answer is complete reads the next request (keep-alive) or
 * lingers and closes; over HTTP/2 the session carries many streams. A
 * connection knows nothing of what requests mean.
 *
 * Lifetime: a connection is made by connection_new when the server
 * accepts, closed by connection_close (which closes its streams and
 * unregisters the descriptor), and freed by the server after the loop
 * iteration in which it was closed, since epoll may still hold its
 * pointer. Its streams are closed before it; a stream that closes first
 * (HTTP/1.1: a subscriber dropped as too slow) closes its connection with
 * it, unless its answer was complete. */
#ifndef SSED_CONNECTION_H
#define SSED_CONNECTION_H

#include <stdint.h>

#include "buf.h"
#include "list.h"
#include "loop.h"
#include "server.h"
#include "stream.h"
#include "transport.h"

enum connection_state {
    CONNECTION_READING,   /* waiting for a request head */
    CONNECTION_CARRYING,  /* its stream (current) is being answered */
    CONNECTION_LINGERING, /* answered, write side shut; reading until EOF */
    CONNECTION_H2,        /* an HTTP/2 session (h2.h) */
};

typedef struct connection {
    loop_watch watch;
    server *srv;
    transport io; /* the socket, maybe with TLS over it */
    struct h2_session *h2; /* CONNECTION_H2: the session */
    uint8_t state; /* enum connection_state */
    uint8_t closed;
    uint8_t reached_on_loopback; /* connected to a loopback address of ours */
    uint32_t watching;   /* the epoll events its states ask for */
    uint32_t registered; /* those and what TLS waits for (transport.h) */
    list_node timer_link; /* on srv->reading (a head or a linger owed), or srv->sessions;
                           * once closed, on srv->graveyard */
    list_node input_link; /* on srv->buffered_input: TLS holds input for it, or head holds requests */
    intake_waiter gated;  /* on srv->intake while a round holds its reading */
    uint64_t since_ms; /* accepted, or its last answer written */
    uint64_t started_ms;
    char *head; /* bytes read and not yet used: request heads, body bytes */
    size_t head_len, head_cap;
    stream *current; /* CONNECTION_CARRYING: the HTTP/1.1 request being answered */
    uint32_t requests; /* HTTP/1.1 requests it carried */
    char peer[64];
} connection;

/* A new connection on an accepted descriptor, registered with the loop and
 * waiting for a request (over TLS with tls's certificate when tls is not
 * NULL); NULL (descriptor left open) on failure. */
connection *connection_new(server *srv, int fd, struct tls_server *tls);
/* The loop_watch callback of a connection's socket (connection_new.c
 * registers it). */
void connection_ready(loop_watch *w, uint32_t events);
/* May a connection reading requests (or an HTTP/2 session) read now? 0:
 * it waits on the intake gate, epoll asked for no input until it opens;
 * a hang-up or error in events is always read. */
int connection_may_read(connection *c, uint32_t events);
/* The gate opened for c (its intake_waiter's wake): input is watched
 * again, and what is held already is read on the next loop turn. */
void connection_gate_opened(intake_waiter *w);
/* Ask epoll for these events (and what TLS waits for besides). */
void connection_watch(connection *c, uint32_t events);
/* Act on the input of a connection on srv->buffered_input, as epoll would
 * for bytes in its socket: requests left in c->head when an asynchronous
 * answer (the cluster's) completed the one before, then what TLS holds
 * decrypted. */
void connection_read_buffered(connection *c);
/* Write what an HTTP/2 session owes (h2_flush_sessions). */
void connection_flush(connection *c);
void connection_close(connection *c, const char *why);

#endif
