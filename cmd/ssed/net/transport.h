/* A connection's byte stream: the socket itself, TLS over it, or one
 * stream of an HTTP/2 session (h2.h), which is only written to. Connections
 * and streams read and write through these calls and never ask which one
 * they have.
 *
 * Results follow read(2)/writev(2): bytes moved (> 0), 0 at the end of
 * input, or -1 with errno: EAGAIN when the socket must become ready first,
 * anything else when the connection failed (transport_why says why).
 *
 * TLS turns "ready" around at times: a read may have to write (the
 * handshake, a session ticket) and a write may have to read. The transport
 * records that in read_wants_writable / write_wants_readable, and the owner
 * watches the other direction too and retries the operation when it comes.
 * TLS may also hold decrypted input the socket no longer shows as readable
 * (transport_has_buffered_input): the owner must read again without
 * waiting for epoll.
 *
 * Bytes a write counted as moved belong to the transport from then on, sent
 * or not: a TLS write that must wait has to be repeated with the very same
 * bytes (OpenSSL's rule), so the transport keeps its own copy of that record
 * (at most 16 KiB) and sends it before anything else. The owner may change
 * or drop whatever it has not handed over, at any time (a stream cut short
 * at token expiry); it asks transport_owes before it counts the connection
 * as written out, and a close while a record is owed sends no close_notify
 * (TLS cannot put one in the middle of a record). */
#ifndef SSED_TRANSPORT_H
#define SSED_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

struct ssl_st; /* OpenSSL's SSL, known only to tls.c */
struct h2_stream; /* an HTTP/2 stream, known only to h2_stream.c */
typedef struct transport transport;

/* What a transport over something other than the bare socket does, set by
 * what it is over: TLS (tls_session_start) or an HTTP/2 stream
 * (h2_stream.c). The transport calls them and knows neither, so the
 * layers above TLS and HTTP/2 reach them only through it. */
typedef struct transport_ops {
    ssize_t (*read)(transport *t, void *buf, size_t len);
    ssize_t (*writev)(transport *t, const struct iovec *iov, int count);
    int (*has_buffered_input)(const transport *t);
    int (*handshaking)(const transport *t);
    int (*agreed_h2)(const transport *t);
    /* Nothing more will be written (then the socket's write side is shut,
     * when there is one). */
    void (*shutdown_write)(transport *t);
    /* Before the socket is closed (when there is one). */
    void (*close)(transport *t);
    /* The most a write may take now (NULL: no bound known, as for a
     * socket), so a writer need not gather what would be refused. */
    size_t (*room)(const transport *t);
} transport_ops;

struct transport {
    int fd;
    const transport_ops *ops; /* NULL: the bare socket */
    struct ssl_st *ssl; /* NULL: plaintext */
    struct h2_stream *h2; /* not NULL: a stream of an HTTP/2 session, fd -1 */
    int read_wants_writable;
    int write_wants_readable;
    /* A TLS record SSL_write could not finish: the transport's copy, to be
     * repeated before anything else (NULL, 0: none). */
    char *owed;
    size_t owed_len;
    const char *why; /* a TLS failure's reason, for transport_why */
    int failed;      /* TLS failed: OpenSSL forbids a close_notify now */
};

ssize_t transport_read(transport *t, void *buf, size_t len);
ssize_t transport_writev(transport *t, const struct iovec *iov, int count);
/* The most bytes a write may take now: an HTTP/2 stream's room
 * (h2_budget.c); SIZE_MAX when the transport sets no bound (a socket, TLS:
 * the kernel says, by taking less). Taking 0 is EAGAIN. */
size_t transport_room(const transport *t);
/* Bytes already handed over wait in the transport for the socket: the
 * connection is not written out yet. A writev with no pieces sends them. */
int transport_owes(const transport *t);
/* Decrypted bytes wait inside TLS: read them without waiting for epoll. */
int transport_has_buffered_input(const transport *t);
/* TLS whose handshake is not complete yet. */
int transport_handshaking(const transport *t);
/* TLS on which the client agreed on h2 by ALPN: it speaks HTTP/2 only. */
int transport_agreed_h2(const transport *t);
/* The reason for the last failure (-1 with err as errno). */
const char *transport_why(const transport *t, int err);
/* Tell the peer we send no more (TLS close_notify, then TCP FIN). */
void transport_shutdown_write(transport *t);
/* Free TLS state and close the socket. A TLS stream ends with a
 * close_notify when the socket takes it, so the client can tell our close
 * (shutdown, too slow) from a cut connection. */
void transport_close(transport *t);

#endif
