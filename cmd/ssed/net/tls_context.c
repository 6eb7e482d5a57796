/* The server's TLS configuration: one OpenSSL context built from the
 * certificate and key files, replaced on reload. Each session holds a
 * reference to the context it started with, so a reload never touches
 * connections already open. */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tls.h"

const int tls_available = 1;

/* TLS 1.2's default ciphers: forward secrecy (ECDHE) and AEAD only, as
 * Mozilla's "intermediate" profile without finite-field DHE. OpenSSL's own
 * default also offers RSA key exchange (ROBOT, no forward secrecy) and CBC
 * with HMAC (LUCKY13); TLS 1.0 and 1.1 are refused whatever the list. With
 * nothing weak on offer the client's order is kept, so one without AES
 * hardware may pick ChaCha20. TLS 1.3 keeps OpenSSL's suites, all AEAD. */
#define DEFAULT_CIPHERS                                                                                               \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"                          \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

struct tls_server {
    SSL_CTX *ctx;   /* for connections accepted from now on */
    tls_config cfg; /* its strings are the options', which outlive the server */
};

/* The reason OpenSSL gave first for its failure (the later ones only say
 * where it surfaced); clears its error queue. */
static const char *openssl_reason(void) {
    unsigned long e = ERR_peek_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return reason ? reason : "unknown error";
}

/* Checked before OpenSSL reads the file, so errno names the problem. */
static int check_readable(const char *option, const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s %s: %s", option, path, strerror(errno));
        return -1;
    }
    fclose(f);
    return 0;
}

static void format_time(const ASN1_TIME *t, char *out, size_t size) {
    struct tm tm;
    if (!ASN1_TIME_to_tm(t, &tm) || !strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(out, size, "an unreadable date");
}

/* A certificate outside its validity period would fail every handshake:
 * better refused at start than discovered by the first browser. */
static int check_validity(SSL_CTX *ctx, const char *path, char *err, size_t errlen) {
    X509 *cert = SSL_CTX_get0_certificate(ctx);
    char when[64];
    if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
        format_time(X509_get0_notAfter(cert), when, sizeof when);
        snprintf(err, errlen, "--tls-cert %s: the certificate expired on %s", path, when);
        return -1;
    }
    if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0) {
        format_time(X509_get0_notBefore(cert), when, sizeof when);
        snprintf(err, errlen, "--tls-cert %s: the certificate is not valid before %s", path, when);
        return -1;
    }
    return 0;
}

/* ALPN: h2 first (one connection for all of a page's streams, h2.h), then
 * HTTP/1.1; only HTTP/1.1 when built without HTTP/2. A client offering
 * nothing ssed has gets no ALPN answer and may go on with HTTP/1.1 or give
 * up. */
static int select_protocol(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                           unsigned int inlen, void *arg) {
    (void)ssl;
    int offer_h2 = arg != NULL;
    static const unsigned char offered[] = "\x02h2\x08http/1.1";
    const unsigned char *ours = offer_h2 ? offered : offered + 3;
    unsigned ours_len = offer_h2 ? sizeof offered - 1 : sizeof offered - 4;
    unsigned char *chosen;
    if (SSL_select_next_proto(&chosen, outlen, ours, ours_len, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

/* An encrypted key would make OpenSSL ask for a pass phrase on the
 * terminal; ssed runs unattended, so it fails instead. */
static int no_pass_phrase(char *buf, int size, int rwflag, void *userdata) {
    (void)buf, (void)size, (void)rwflag, (void)userdata;
    return -1;
}

static int load_files(SSL_CTX *ctx, const char *cert_path, const char *key_path, char *err, size_t errlen) {
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
        snprintf(err, errlen, "--tls-cert %s: not a PEM certificate chain (%s)", cert_path, openssl_reason());
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1) {
        unsigned long e = ERR_peek_last_error();
        if (ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH || ERR_GET_REASON(e) == X509_R_KEY_TYPE_MISMATCH) {
            ERR_clear_error();
            snprintf(err, errlen, "--tls-key %s: does not match the certificate in %s", key_path, cert_path);
        } else {
            snprintf(err, errlen, "--tls-key %s: not a usable PEM private key, or one protected by a pass phrase (%s)",
                     key_path, openssl_reason());
        }
        return -1;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        snprintf(err, errlen, "--tls-key %s: does not match the certificate in %s", key_path, cert_path);
        return -1;
    }
    return check_validity(ctx, cert_path, err, errlen);
}

/* One element of a list separated by ':' (or, for TLS 1.2 lists, also ','
 * or ' '), copied into out: its length, or 0 at the end of the list. */
static size_t next_element(const char **list, const char *separators, char *out, size_t size) {
    *list += strspn(*list, separators);
    size_t n = strcspn(*list, separators);
    snprintf(out, size, "%.*s", (int)n, *list);
    *list += n;
    return n;
}

/* An element that adds ciphers ("HIGH", "ECDHE-RSA-AES128-GCM-SHA256",
 * "ECDHE+AESGCM") must select at least one; those that remove or reorder
 * ("!aNULL", "-CBC", "+RSA", "@STRENGTH") are OpenSSL's to judge. */
static int check_cipher_element(SSL_CTX *probe, const char *element, char *err, size_t errlen) {
    if (strchr("!-+@", element[0]))
        return 0;
    if (SSL_CTX_set_cipher_list(probe, element) == 1)
        return 0;
    ERR_clear_error();
    snprintf(err, errlen, "'%s' names no TLS 1.2 cipher this OpenSSL knows%s", element,
             strncmp(element, "TLS_", 4) == 0 ? " (TLS 1.3 suites go in --tls-ciphersuites)" : "");
    return -1;
}

/* A context to try lists on while options are read. */
static SSL_CTX *probe_new(char *err, size_t errlen) {
    SSL_CTX *probe = SSL_CTX_new(TLS_server_method());
    if (!probe)
        snprintf(err, errlen, "cannot check it: %s", openssl_reason());
    return probe;
}

int tls_check_ciphers(const char *list, char *err, size_t errlen) {
    SSL_CTX *probe = probe_new(err, errlen);
    if (!probe)
        return -1;
    int rc = 0;
    char element[256];
    for (const char *p = list; rc == 0 && next_element(&p, ": ,", element, sizeof element);)
        rc = check_cipher_element(probe, element, err, errlen);
    if (rc == 0 && SSL_CTX_set_cipher_list(probe, list) != 1) {
        ERR_clear_error();
        snprintf(err, errlen, "'%s' leaves no TLS 1.2 cipher", list);
        rc = -1;
    }
    SSL_CTX_free(probe);
    return rc;
}

int tls_check_ciphersuites(const char *list, char *err, size_t errlen) {
    SSL_CTX *probe = probe_new(err, errlen);
    if (!probe)
        return -1;
    int rc = 0, count = 0;
    char element[256];
    for (const char *p = list; rc == 0 && next_element(&p, ":", element, sizeof element); count++) {
        /* OpenSSL 3 takes an unknown name without a word, leaving TLS 1.3
         * with fewer suites or none: each is tried alone and must be
         * first in what the context then offers. */
        if (SSL_CTX_set_ciphersuites(probe, element) != 1 ||
            strcmp(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(SSL_CTX_get_ciphers(probe), 0)), element) != 0) {
            ERR_clear_error();
            snprintf(err, errlen, "'%s' is not a TLS 1.3 suite this OpenSSL knows (such as TLS_AES_128_GCM_SHA256)",
                     element);
            rc = -1;
        }
    }
    if (rc == 0 && count == 0) {
        snprintf(err, errlen, "'%s' names no TLS 1.3 suite", list);
        rc = -1;
    }
    SSL_CTX_free(probe);
    return rc;
}

/* The protocol versions and ciphers offered: the defaults above, or the
 * operator's lists (checked at start, tls_check_ciphers); an operator who
 * writes a list has ordered it, so then ssed's order wins. */
static int set_ciphers(SSL_CTX *ctx, const tls_config *cfg, char *err, size_t errlen) {
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_set_cipher_list(ctx, cfg->ciphers ? cfg->ciphers : DEFAULT_CIPHERS) != 1) {
        snprintf(err, errlen, "--tls-ciphers %s: %s", cfg->ciphers ? cfg->ciphers : DEFAULT_CIPHERS, openssl_reason());
        return -1;
    }
    if (cfg->ciphersuites && SSL_CTX_set_ciphersuites(ctx, cfg->ciphersuites) != 1) {
        snprintf(err, errlen, "--tls-ciphersuites %s: %s", cfg->ciphersuites, openssl_reason());
        return -1;
    }
    if (cfg->ciphers || cfg->ciphersuites)
        SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    return 0;
}

static SSL_CTX *context_new(const tls_config *cfg, char *err, size_t errlen) {
    const char *cert_path = cfg->cert_path, *key_path = cfg->key_path;
    if (check_readable("--tls-cert", cert_path, err, errlen) < 0 || check_readable("--tls-key", key_path, err, errlen) < 0)
        return NULL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "TLS: cannot create a context (%s)", openssl_reason());
        return NULL;
    }
    if (set_ciphers(ctx, cfg, err, errlen) < 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* A peer that closes without close_notify has simply gone, as over TCP:
     * SSE carries its own framing, so no truncation goes unnoticed. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    /* Idle subscribers give their buffers back (about 34 KiB each); writes
     * are repeated from the front of a queue that may have moved. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* The callback's argument only says whether h2 is offered: any non-NULL
     * pointer for yes, so no state outlives the context. */
    SSL_CTX_set_alpn_select_cb(ctx, select_protocol, cfg->offer_h2 ? (void *)ctx : NULL);
    SSL_CTX_set_default_passwd_cb(ctx, no_pass_phrase);
    if (load_files(ctx, cert_path, key_path, err, errlen) < 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

tls_server *tls_server_new(const tls_config *cfg, char *err, size_t errlen) {
    tls_server *ts = calloc(1, sizeof *ts);
    if (!ts) {
        snprintf(err, errlen, "TLS: %s", strerror(ENOMEM));
        return NULL;
    }
    ts->cfg = *cfg;
    ts->ctx = context_new(cfg, err, errlen);
    if (!ts->ctx) {
        tls_server_free(ts);
        return NULL;
    }
    return ts;
}

int tls_server_reload(tls_server *ts, char *err, size_t errlen) {
    SSL_CTX *fresh = context_new(&ts->cfg, err, errlen);
    if (!fresh)
        return -1;
    SSL_CTX_free(ts->ctx); /* sessions still using it hold their own reference */
    ts->ctx = fresh;
    return 0;
}

void tls_server_free(tls_server *ts) {
    if (!ts)
        return;
    SSL_CTX_free(ts->ctx);
    free(ts);
}

void tls_server_describe(const tls_server *ts, char *out, size_t size) {
    X509 *cert = SSL_CTX_get0_certificate(ts->ctx);
    char subject[256], expiry[64];
    X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
    format_time(X509_get0_notAfter(cert), expiry, sizeof expiry);
    snprintf(out, size, "%s, valid until %s", subject, expiry);
}

int tls_session_start(tls_server *ts, transport *t) {
    SSL *ssl = SSL_new(ts->ctx);
    if (!ssl || SSL_set_fd(ssl, t->fd) != 1) {
        SSL_free(ssl);
        ERR_clear_error();
        return -1;
    }
    SSL_set_accept_state(ssl);
    t->ssl = ssl;
    t->ops = &tls_session_ops;
    return 0;
}
