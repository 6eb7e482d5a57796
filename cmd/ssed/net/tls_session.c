/* One connection's TLS session: reads and writes with OpenSSL's rules for
 * non-blocking sockets (transport.h says what the owner must do). */
#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#include "tls.h"

/* Bytes handed to one SSL_write: a full TLS record. Pieces smaller than
 * that are gathered, so many small events go out in one record. */
#define TLS_WRITE_CHUNK 16384

/* What an SSL_read or SSL_write that returned rc <= 0 means: -1 with errno
 * EAGAIN to wait (*wants_other set when the wait is for the other
 * direction), 0 for the end of the stream, -1 with another errno for a
 * failure (t->why set for a TLS one). */
static ssize_t after_failure(transport *t, int rc, int *wants_other, int other_direction) {
    int saved = errno;
    int e = SSL_get_error(t->ssl, rc);
    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        *wants_other = e == other_direction;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        t->failed = 1;
        ERR_clear_error();
        errno = saved ? saved : ECONNRESET;
        return -1;
    default: {
        unsigned long code = ERR_peek_last_error();
        const char *reason = code ? ERR_reason_error_string(code) : NULL;
        ERR_clear_error();
        t->failed = 1;
        t->why = reason ? reason : "TLS protocol error";
        errno = EPROTO;
        return -1;
    }
    }
}

ssize_t tls_session_read(transport *t, void *buf, size_t len) {
    t->read_wants_writable = 0;
    ERR_clear_error();
    errno = 0;
    int n = SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    return n > 0 ? n : after_failure(t, n, &t->read_wants_writable, SSL_ERROR_WANT_WRITE);
}

/* Where a writev is up to: the piece and the offset in it. */
typedef struct iov_cursor {
    const struct iovec *iov;
    int count, at;
    size_t off;
} iov_cursor;

/* The next want bytes: in place when one piece holds them, else copied
 * into scratch. The cursor does not move. */
static const void *gather(const iov_cursor *cur, size_t want, char *scratch) {
    const struct iovec *v = &cur->iov[cur->at];
    if (v->iov_len - cur->off >= want)
        return (const char *)v->iov_base + cur->off;
    size_t got = 0, off = cur->off;
    for (int i = cur->at; i < cur->count && got < want; i++, off = 0) {
        size_t take = cur->iov[i].iov_len - off < want - got ? cur->iov[i].iov_len - off : want - got;
        memcpy(scratch + got, (const char *)cur->iov[i].iov_base + off, take);
        got += take;
    }
    return scratch;
}

static void advance(iov_cursor *cur, size_t n) {
    while (n > 0 && cur->at < cur->count) {
        size_t left = cur->iov[cur->at].iov_len - cur->off;
        if (n < left) {
            cur->off += n;
            return;
        }
        n -= left;
        cur->at++;
        cur->off = 0;
    }
}

/* Keep a copy of the record SSL_write must be given again: from now on the
 * transport owns those bytes, and the caller counts them as written. -1
 * (ENOMEM) if memory ran out; the connection cannot go on then, since
 * OpenSSL will take no other bytes. */
static int keep_owed(transport *t, const void *bytes, size_t len) {
    t->owed = malloc(len);
    if (!t->owed) {
        t->failed = 1;
        t->why = "out of memory for a TLS record";
        errno = ENOMEM;
        return -1;
    }
    memcpy(t->owed, bytes, len);
    t->owed_len = len;
    return 0;
}

/* Repeat the record kept by keep_owed: 0 once it is written, -1 with errno
 * EAGAIN while the socket still cannot take it, or another errno. */
static int send_owed(transport *t) {
    ERR_clear_error();
    errno = 0;
    int n = SSL_write(t->ssl, t->owed, (int)t->owed_len);
    if (n > 0) {
        free(t->owed);
        t->owed = NULL;
        t->owed_len = 0;
        return 0;
    }
    if (after_failure(t, n, &t->write_wants_readable, SSL_ERROR_WANT_READ) == 0)
        errno = EPIPE; /* the peer closed its side: nothing more can reach it */
    return -1;
}

/* Record by record until everything is written or TLS must wait. What
 * TLS still owes from an earlier call goes first. The record that must
 * wait is copied (keep_owed) and counted as written, so the caller may
 * change or drop what it holds; with it, the call returns fewer bytes than
 * given or, if everything was taken, the next call returns EAGAIN until
 * the socket drains. */
ssize_t tls_session_writev(transport *t, const struct iovec *iov, int count) {
    t->write_wants_readable = 0;
    if (t->owed_len && send_owed(t) < 0)
        return -1;
    size_t total = 0;
    for (int i = 0; i < count; i++)
        total += iov[i].iov_len;
    iov_cursor cur = {iov, count, 0, 0};
    size_t done = 0;
    char scratch[TLS_WRITE_CHUNK];
    while (done < total) {
        size_t want = total - done < TLS_WRITE_CHUNK ? total - done : TLS_WRITE_CHUNK;
        const void *bytes = gather(&cur, want, scratch);
        ERR_clear_error();
        errno = 0;
        int n = SSL_write(t->ssl, bytes, (int)want);
        if (n > 0) {
            done += (size_t)n;
            advance(&cur, (size_t)n);
            continue;
        }
        ssize_t rc = after_failure(t, n, &t->write_wants_readable, SSL_ERROR_WANT_READ);
        if (rc < 0 && errno == EAGAIN)
            return keep_owed(t, bytes, want) < 0 ? -1 : (ssize_t)(done + want);
        if (rc == 0)
            errno = EPIPE; /* the peer closed its side: nothing more can reach it */
        return done > 0 ? (ssize_t)done : -1;
    }
    return (ssize_t)done;
}

/* Only decrypted bytes: SSL_has_pending is also true for part of a record,
 * which cannot be read until the rest arrives, and reading again for it
 * would spin the loop for as long as the peer stalls. */
int tls_session_has_buffered_input(const transport *t) { return SSL_pending(t->ssl) > 0; }

int tls_session_handshaking(const transport *t) { return !SSL_is_init_finished(t->ssl); }

int tls_session_agreed_h2(const transport *t) {
    const unsigned char *proto;
    unsigned len;
    SSL_get0_alpn_selected(t->ssl, &proto, &len);
    return len == 2 && memcmp(proto, "h2", 2) == 0;
}

void tls_session_shutdown(transport *t) {
    if (!SSL_is_init_finished(t->ssl))
        return;
    ERR_clear_error();
    SSL_shutdown(t->ssl); /* sends close_notify if the socket takes it; never waits */
    ERR_clear_error();
}

void tls_session_free(transport *t) {
    t->ops = NULL;
    SSL_free(t->ssl);
    t->ssl = NULL;
    free(t->owed);
    t->owed = NULL;
    t->owed_len = 0;
}

/* At a close: no close_notify in the middle of a record still owed (the
 * peer is gone or not reading, and the record is abandoned with the
 * connection), nor after TLS failed (OpenSSL forbids it). */
static void tls_session_close(transport *t) {
    if (!t->failed && !t->owed_len)
        tls_session_shutdown(t);
    tls_session_free(t);
}

const transport_ops tls_session_ops = {
    .read = tls_session_read,
    .writev = tls_session_writev,
    .has_buffered_input = tls_session_has_buffered_input,
    .handshaking = tls_session_handshaking,
    .agreed_h2 = tls_session_agreed_h2,
    .shutdown_write = tls_session_shutdown,
    .close = tls_session_close,
};
