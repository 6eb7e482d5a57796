/* A connection and the intake gate (intake_gate.h): one reading a request
 * head or a body, or an HTTP/2 session, waits on the gate while a round
 * holds input; conn.c's watch_events then asks epoll for no input, and it
 * is watched again when the gate opens. */
#include <sys/epoll.h>

#include "conn.h"

int conn_may_read(conn *c, uint32_t events) {
    if ((events & (EPOLLHUP | EPOLLERR)) || intake_gate_pass(&c->srv->intake, &c->gated))
        return 1; /* a peer gone is read to its end: epoll would repeat the hang-up */
    conn_watch(c, c->watching); /* nothing asked of epoll until the gate opens */
    return 0;
}

void conn_gate_opened(intake_waiter *w) {
    conn *c = list_entry(w, conn, gated);
    if (c->closed)
        return;
    conn_watch(c, c->watching);
    if (!c->closed && transport_has_buffered_input(&c->io) && !list_linked(&c->input_link))
        list_push_back(&c->srv->buffered_input, &c->input_link);
}
