/* ssed's HTTP/2 (libnghttp2): a connection that starts with the client
 * preface (h2c with prior knowledge) or agreed on "h2" by ALPN becomes a
 * session (h2_session.c), and each of its request streams carries a stream
 * (stream.h) whose transport writes into the session instead of a socket,
 * so the routes serve it exactly as they serve HTTP/1.1: the request is
 * parsed from an HTTP/1.1 head made of its HEADERS, and what the stream
 * writes back (status line, headers, body) becomes HEADERS and DATA
 * frames. Built from h2_session.c and h2_stream.c, or h2_off.c without
 * libnghttp2 (make H2=0), where h2_session_start fails and connections
 * stay HTTP/1.1.
 *
 * Limits past what nghttp2 1.52 enforces itself: a client that resets more
 * than H2_MAX_RESETS_PER_SECOND streams a second (the "rapid reset"
 * attack) or sends more than H2_MAX_CONTINUATIONS CONTINUATION frames for
 * one header block gets GOAWAY(ENHANCE_YOUR_CALM). */
#ifndef SSED_H2_H
#define SSED_H2_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "transport.h"

#define H2_MAX_RESETS_PER_SECOND 200
#define H2_MAX_CONTINUATIONS 6
/* Response bytes a stream holds for DATA frames at most before the stream
 * must wait: the rest stays in the subscriber's queue, shared with every other
 * subscriber. Less when --max-pending, --h2-conn-buffer, --h2-total-buffer
 * or the client's window say so (h2_budget.c); what is held counts against
 * --max-pending. */
#define H2_STREAM_BUFFER 65536

extern const int h2_available;

struct connection;
typedef struct h2_session h2_session;
typedef struct h2_stream h2_stream;

/* Do these first bytes of a connection begin (len < 24) or hold the
 * HTTP/2 client preface? 1 complete (or its first line complete, then other
 * bytes: a bad preface, which the session refuses with GOAWAY), 0 not a
 * preface, -1 too short to say. */
int h2_preface_check(const char *bytes, size_t len);

/* Turn connection c into an HTTP/2 session; `already` holds the bytes read
 * so far (the preface). -1 (c untouched) if HTTP/2 is not built in or
 * memory ran out. */
int h2_session_start(struct connection *c, const char *already, size_t len);
/* epoll's events for the session's socket. */
void h2_session_ready(struct connection *c, uint32_t events);
/* Send what the session owes (frames its streams queued). */
void h2_session_flush(struct connection *c);
/* The server is stopping and session c has no request streams: GOAWAY
 * (NO_ERROR), as a session gets when its last stream ends, and the
 * connection closes once it is written (or after --header-timeout, for a
 * peer that does not read it). -1 (c untouched) when the session already
 * said GOAWAY or HTTP/2 is not built in: close c. */
int h2_session_say_goodbye(struct connection *c);
/* Does session c still read its client's frames (it has not said GOAWAY
 * and failed)? 0 when HTTP/2 is not built in. */
int h2_session_reads(const struct connection *c);
/* connection_close of the session's connection: close its streams, free
 * the session. */
void h2_session_free(struct connection *c);

/* All HTTP/2 streams hold more than --h2-total-buffer for DATA frames
 * (srv->h2_held): the connections holding most that read nothing get
 * GOAWAY and lose their streams until the rest fit (h2_budget.c's
 * bounds, enforced by h2_session.c). The server's timers call it, within
 * H2_ENFORCE_MS of the total passing. */
#define H2_ENFORCE_MS 100
struct server;
void h2_session_enforce_budget(struct server *srv);
/* Sessions whose streams gave them frames (srv->flushing) write them:
 * after the streams, so one write carries many streams' events. A session
 * whose socket is full is written when epoll says it drained. */
void h2_flush_sessions(struct server *srv);

#endif
