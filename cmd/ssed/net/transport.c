/* The calls of transport.h: the bare socket's, or those of what the
 * transport is over (t->ops). */
#include "transport.h"

#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

ssize_t transport_read(transport *t, void *buf, size_t len) {
    return t->ops ? t->ops->read(t, buf, len) : read(t->fd, buf, len);
}

ssize_t transport_writev(transport *t, const struct iovec *iov, int count) {
    return t->ops ? t->ops->writev(t, iov, count) : writev(t->fd, iov, count);
}

int transport_owes(const transport *t) { return t->owed_len > 0; }

size_t transport_room(const transport *t) { return t->ops && t->ops->room ? t->ops->room(t) : SIZE_MAX; }

int transport_has_buffered_input(const transport *t) { return t->ops && t->ops->has_buffered_input(t); }

int transport_handshaking(const transport *t) { return t->ops && t->ops->handshaking(t); }

int transport_agreed_h2(const transport *t) { return t->ops && t->ops->agreed_h2(t); }

const char *transport_why(const transport *t, int err) { return t->why ? t->why : strerror(err); }

void transport_shutdown_write(transport *t) {
    if (t->ops)
        t->ops->shutdown_write(t);
    if (t->fd >= 0)
        shutdown(t->fd, SHUT_WR);
}

void transport_close(transport *t) {
    const transport_ops *ops = t->ops;
    t->ops = NULL;
    if (ops)
        ops->close(t);
    if (t->fd < 0)
        return;
    close(t->fd);
    t->fd = -1;
}
