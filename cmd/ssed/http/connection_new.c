/* Making connections (connection.h): one for an accepted socket,
 * registered with the loop and waiting for its first request head; and
 * the intake gate's wake-up for one it held. What happens to it afterwards
 * is connection.c's. */
#include "connection.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "listener.h"
#include "log.h"
#include "tls.h"

connection *connection_new(server *srv, int fd, tls_server *tls) {
    connection *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->watch.on_ready = connection_ready;
    c->srv = srv;
    c->io.fd = fd;
    c->state = CONNECTION_READING;
    c->started_ms = c->since_ms = clock_now_ms();
    intake_waiter_init(&c->gated, INTAKE_BIT(INTAKE_ROUND), connection_gate_opened);
    if (tls && tls_session_start(tls, &c->io) < 0) {
        log_error("TLS session for a new connection: out of memory");
        free(c);
        return NULL;
    }
    c->reached_on_loopback = listener_is_loopback(fd);
    listener_peer_name(fd, c->peer, sizeof c->peer);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* fails harmlessly on unix sockets */
    if (loop_add(&srv->loop, fd, LOOP_IN | LOOP_RDHUP, &c->watch) < 0) {
        log_error("%s %s: %s", loop_backend, c->peer, strerror(errno));
        if (c->io.ssl)
            tls_session_free(&c->io);
        free(c);
        return NULL;
    }
    c->watching = c->registered = LOOP_IN | LOOP_RDHUP;
    list_push_back(&srv->reading, &c->timer_link);
    srv->conn_count++;
    srv->stats.connections_total++;
    return c;
}

/* The intake gate opened for a connection it held (connection_may_read):
 * watch for input again. */
void connection_gate_opened(intake_waiter *w) {
    connection *c = list_entry(w, connection, gated);
    if (c->closed)
        return;
    connection_watch(c, c->watching);
    /* Input already read (requests behind an answered one, or what TLS
     * decrypted) is not announced by epoll again. */
    int buffered = transport_has_buffered_input(&c->io) || (c->state == CONNECTION_READING && c->head_len);
    if (!c->closed && buffered && !list_linked(&c->input_link))
        list_push_back(&c->srv->buffered_input, &c->input_link);
}
