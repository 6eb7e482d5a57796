/* Serving: accepting connections (and refusing them cleanly when full or
 * out of descriptors), their deadlines and keep-alives, flushing the
 * subscribers the hub marked, shutdown, and freeing closed connections
 * after each loop iteration; and setting the server up and tearing it
 * down. */
#ifndef SSED_SERVING_H
#define SSED_SERVING_H

#include <stdint.h>

#include "loop.h"
#include "server.h"

/* Set up everything but listeners, inputs and signals; -1 if memory or
 * epoll ran out. server_free undoes it (and closes the listeners). */
int server_init(server *srv, const ssed_options *opt, const stream_routes *routes);
void server_free(server *srv);

/* A listener is readable: accept what is waiting. */
void server_accept_ready(loop_watch *w, uint32_t events);
/* Write to the next few subscribers the hub marked as owing events, oldest
 * mark first; 1 if more are left (look at the sockets without waiting, then
 * call again), 0 when none are. */
int server_flush_dirty(server *srv);
/* Act on the input connections hold where epoll cannot see it (server.h's
 * buffered_input: TLS's decrypted bytes, requests read while an answer was
 * awaited). */
void server_read_buffered(server *srv);
/* Some connection holds such input (put there by a read, or by an answer
 * from the cluster at any point of the turn): look at the sockets without
 * waiting, then call server_read_buffered again. */
int server_has_buffered_input(const server *srv);
/* TLS handshake steps per loop turn (connection.c's may_step_handshake). */
#define SERVER_HANDSHAKES_PER_TURN 32
/* Header timeouts, keep-alives, token expiry, and listeners paused after
 * EMFILE. */
void server_run_timers(server *srv, uint64_t now);
/* Milliseconds until the next deadline; -1 for none. */
int server_next_timeout(server *srv, uint64_t now);
void server_free_graveyard(server *srv);
/* Stop accepting, close idle connections, and let subscribers drain. */
void server_begin_shutdown(server *srv);
void server_close_all(server *srv);

#endif
