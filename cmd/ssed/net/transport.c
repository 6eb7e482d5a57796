#include "transport.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "h2.h"
#include "tls.h"

ssize_t transport_read(transport *t, void *buf, size_t len) {
    return t->ssl ? tls_session_read(t, buf, len) : read(t->fd, buf, len);
}

ssize_t transport_writev(transport *t, const struct iovec *iov, int count) {
    if (t->h2)
        return h2_stream_writev(t, iov, count);
    return t->ssl ? tls_session_writev(t, iov, count) : writev(t->fd, iov, count);
}

int transport_owes(const transport *t) { return t->owed_len > 0; }

int transport_has_buffered_input(const transport *t) { return t->ssl && tls_session_has_buffered_input(t); }

int transport_handshaking(const transport *t) { return t->ssl && tls_session_handshaking(t); }

int transport_agreed_h2(const transport *t) { return t->ssl && tls_session_agreed_h2(t); }

const char *transport_why(const transport *t, int err) { return t->why ? t->why : strerror(err); }

void transport_shutdown_write(transport *t) {
    if (t->h2) {
        h2_stream_end(t);
        return;
    }
    if (t->ssl)
        tls_session_shutdown(t);
    shutdown(t->fd, SHUT_WR);
}

void transport_close(transport *t) {
    if (t->h2)
        h2_stream_release(t);
    if (t->fd < 0)
        return;
    /* Not in the middle of a record still owed: the peer is gone or not
     * reading, and the record is abandoned with the connection. */
    if (t->ssl && !t->failed && !t->owed_len)
        tls_session_shutdown(t);
    if (t->ssl)
        tls_session_free(t);
    close(t->fd);
    t->fd = -1;
}
