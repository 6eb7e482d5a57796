/* Making connections (conn.h): a conn for an accepted socket, registered
 * with the loop and waiting for its request head, or one for a request
 * stream of an HTTP/2 session. What happens to it afterwards is conn.c's. */
#include "conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "clock.h"
#include "listener.h"
#include "log.h"
#include "tls.h"

/* A conn waiting for its request head; counted once conn_counted. */
static conn *conn_alloc(server *srv, int fd, int peer_fd) {
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->watch.on_ready = conn_ready;
    c->srv = srv;
    c->io.fd = fd;
    c->peer_fd = peer_fd;
    c->state = CONN_READING;
    c->started_ms = c->since_ms = clock_now_ms();
    intake_waiter_init(&c->gated, INTAKE_BIT(INTAKE_ROUND), conn_gate_opened);
    return c;
}

static conn *conn_counted(conn *c) {
    list_push_back(&c->srv->reading, &c->timer_link);
    c->srv->conn_count++;
    if (c->is_h2_stream) {
        c->srv->h2_stream_count++;
        c->srv->stats.h2_streams_total++;
    } else {
        c->srv->stats.connections_total++;
    }
    return c;
}

conn *conn_new(server *srv, int fd, tls_server *tls) {
    conn *c = conn_alloc(srv, fd, fd);
    if (!c)
        return NULL;
    if (tls && tls_session_start(tls, &c->io) < 0) {
        log_error("TLS session for a new connection: out of memory");
        free(c);
        return NULL;
    }
    c->reached_on_loopback = listener_is_loopback(fd);
    listener_peer_name(fd, c->peer, sizeof c->peer);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* fails harmlessly on unix sockets */
    if (loop_add(&srv->loop, fd, EPOLLIN | EPOLLRDHUP, &c->watch) < 0) {
        log_error("epoll_ctl %s: %s", c->peer, strerror(errno));
        if (c->io.ssl)
            tls_session_free(&c->io);
        free(c);
        return NULL;
    }
    c->watching = c->registered = EPOLLIN | EPOLLRDHUP;
    return conn_counted(c);
}

conn *conn_new_stream(conn *session) {
    conn *c = conn_alloc(session->srv, -1, session->io.fd);
    if (!c)
        return NULL;
    c->is_h2_stream = 1;
    c->reached_on_loopback = session->reached_on_loopback;
    memcpy(c->peer, session->peer, sizeof c->peer);
    return conn_counted(c);
}

/* The intake gate opened for a connection it held (conn_may_read): watch
 * for input again. */
void conn_gate_opened(intake_waiter *w) {
    conn *c = list_entry(w, conn, gated);
    if (c->closed)
        return;
    conn_watch(c, c->watching);
    /* Input already read (requests behind an answered one, or what TLS
     * decrypted) is not announced by epoll again. */
    int buffered = transport_has_buffered_input(&c->io) || (c->state == CONN_READING && c->head_len);
    if (!c->closed && buffered && !list_linked(&c->input_link))
        list_push_back(&c->srv->buffered_input, &c->input_link);
}
