/* ssed's TLS (OpenSSL): the server's certificate and key, reloaded on
 * SIGHUP, and each connection's session behind transport.h. Built from
 * tls.c, or tls_off.c when ssed is built without TLS (make TLS=0), where
 * tls_server_new fails with a message saying so and nothing else is ever
 * called. */
#ifndef SSED_TLS_H
#define SSED_TLS_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "transport.h"

extern const int tls_available;

typedef struct tls_server tls_server;

/* What the operator chose (--tls-cert, --tls-key, --tls-ciphers,
 * --tls-ciphersuites); a NULL list keeps ssed's default (tls_context.c). */
typedef struct tls_config {
    const char *cert_path;
    const char *key_path;
    const char *ciphers;      /* TLS 1.2, in OpenSSL's cipher list syntax */
    const char *ciphersuites; /* TLS 1.3, suite names separated by ':' */
    int offer_h2; /* ALPN offers h2 before http/1.1 (built with HTTP/2) */
} tls_config;

/* Load the certificate chain and key (PEM files) and check them: readable,
 * the key matches, the certificate is valid now. NULL with a message in
 * err on any problem. */
tls_server *tls_server_new(const tls_config *cfg, char *err, size_t errlen);
/* Load the files again for connections accepted from now on; connections
 * already open keep what they started with. On failure (message in err)
 * the old certificate and key stay in use. */
int tls_server_reload(tls_server *ts, char *err, size_t errlen);
void tls_server_free(tls_server *ts);
/* The certificate's subject and expiry, for the log ("CN=example.org,
 * expires 2027-03-01"). */
void tls_server_describe(const tls_server *ts, char *out, size_t size);

/* Checked while options are read, so a bad list is a usage error: every
 * cipher or suite the list names must be one OpenSSL knows (OpenSSL itself
 * skips unknown names, so a typing error would quietly drop a cipher). 0,
 * or -1 with a message in err. */
int tls_check_ciphers(const char *list, char *err, size_t errlen);
int tls_check_ciphersuites(const char *list, char *err, size_t errlen);

/* Start a server-side session on t->fd (the handshake happens on the first
 * reads); -1 if memory ran out. */
int tls_session_start(tls_server *ts, transport *t);
/* transport.h's calls for a TLS transport. */
ssize_t tls_session_read(transport *t, void *buf, size_t len);
ssize_t tls_session_writev(transport *t, const struct iovec *iov, int count);
int tls_session_has_buffered_input(const transport *t);
int tls_session_handshaking(const transport *t);
int tls_session_agreed_h2(const transport *t);
void tls_session_shutdown(transport *t);
void tls_session_free(transport *t);
/* The transport's calls for a TLS connection (transport.h), set by
 * tls_session_start. */
extern const transport_ops tls_session_ops;

#endif
