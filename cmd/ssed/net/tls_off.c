/* TLS when ssed is built without OpenSSL (make TLS=0): --tls-cert is
 * refused at start with a clear error (exit 1); since no listener is then
 * TLS, nothing else here is ever called. */
#include <errno.h>
#include <stdio.h>

#include "tls.h"

const int tls_available = 0;

tls_server *tls_server_new(const tls_config *cfg, char *err, size_t errlen) {
    snprintf(err, errlen, "--tls-cert %s: this ssed was built without TLS (make TLS=0)", cfg->cert_path);
    return NULL;
}

/* Nothing to check them against: --tls-cert is refused anyway. */
int tls_check_ciphers(const char *list, char *err, size_t errlen) {
    (void)list, (void)err, (void)errlen;
    return 0;
}

int tls_check_ciphersuites(const char *list, char *err, size_t errlen) {
    (void)list, (void)err, (void)errlen;
    return 0;
}

int tls_server_reload(tls_server *ts, char *err, size_t errlen) {
    (void)ts;
    snprintf(err, errlen, "built without TLS");
    return -1;
}

void tls_server_free(tls_server *ts) { (void)ts; }

void tls_server_describe(const tls_server *ts, char *out, size_t size) {
    (void)ts;
    snprintf(out, size, "no TLS");
}

int tls_session_start(tls_server *ts, transport *t) {
    (void)ts, (void)t;
    errno = ENOSYS;
    return -1;
}

ssize_t tls_session_read(transport *t, void *buf, size_t len) {
    (void)t, (void)buf, (void)len;
    errno = ENOSYS;
    return -1;
}

ssize_t tls_session_writev(transport *t, const struct iovec *iov, int count) {
    (void)t, (void)iov, (void)count;
    errno = ENOSYS;
    return -1;
}

int tls_session_has_buffered_input(const transport *t) { return t != NULL && 0; }

int tls_session_handshaking(const transport *t) { return t != NULL && 0; }

int tls_session_agreed_h2(const transport *t) { return t != NULL && 0; }

void tls_session_shutdown(transport *t) { (void)t; }

void tls_session_free(transport *t) { (void)t; }
