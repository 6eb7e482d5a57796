/* The HTTP request options ssecat and ssepub both offer (headers, bearer
 * token, basic auth, TLS, proxy, Unix socket, connect timeout, compression,
 * user agent, curl-style -v output), turned into libcurl settings in one
 * place so the two tools cannot drift apart.
 *
 * Use: fill an http_client_config while parsing options (validating -H with
 * http_client_add_header and files with http_client_check_file), call
 * http_client_global_init once, then http_client_setup on each easy handle
 * before the transfer and curl_slist_free_all on the list it returns after.
 * The caller keeps what is its own: URL, method, body, write callbacks. */
#ifndef SSETOOLS_HTTP_CLIENT_H
#define SSETOOLS_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

typedef struct http_client_config {
    const char *program;         /* names the default User-Agent: "PROGRAM/VERSION" */
    const char **headers;        /* -H values, checked; strings not owned */
    size_t header_count;
    size_t header_cap;
    const char *bearer;          /* sent as "Authorization: Bearer ..."; masked in -v output */
    char *bearer_from_file;      /* --token-file's token (owned); bearer points to it */
    const char *userpwd;         /* -u user:pass (basic auth); masked in -v output */
    int insecure;                /* -k: no TLS certificate or host name check */
    const char *cacert;          /* CA bundle file */
    const char *proxy;           /* proxy URL */
    const char *unix_socket;     /* connect to this socket instead of the URL's host */
    uint64_t connect_timeout_ms; /* 0: libcurl's default */
    const char *user_agent;      /* NULL: "PROGRAM/VERSION" */
    int compressed;              /* ask for any encoding libcurl can decode (one is decoded anyway) */
    int verbose;                 /* request and response headers and connection events on stderr */
} http_client_config;

#define HTTP_CLIENT_CONFIG_INIT(name) {.program = (name)}

/* curl_global_init; once, before any thread. 0, or -1 with a message. */
int http_client_global_init(char *err, size_t errlen);
void http_client_global_cleanup(void);

/* Check an "-H 'Name: value'" argument (also "Name:" to remove a header
 * libcurl would send, and "Name;" for an empty value, as curl takes them)
 * and add it. 0, or -1 with a message naming the problem. */
int http_client_add_header(http_client_config *cfg, const char *header, char *err, size_t errlen);

/* --token-file: read the bearer token from the first line of the file at
 * `path` (cfg is the http_client_config, as a CLI_CALL hands it). 0, or -1
 * with a message naming the problem. */
int http_client_take_token_file(void *cfg, const char *path, char *err, size_t errlen);

/* Were both a token and a token file given? (A usage error.) */
int http_client_token_twice(const http_client_config *cfg);

/* Whether `name` (case-insensitive) is among the -H headers. */
int http_client_has_header(const http_client_config *cfg, const char *name);

/* 0 if `path` is a readable file, else -1 with "PATH: strerror" in err. */
int http_client_check_file(const char *path, char *err, size_t errlen);

/* Apply cfg to `curl`, plus `defaults` (NULL-terminated "Name: value"
 * headers the caller always sends, each skipped when the user gave a header
 * of that name). Allows only http and https, and has libcurl follow
 * redirects as browsers do (ssecat turns that off and follows them itself,
 * to keep -H headers on the original host). On success *headers is the list to curl_slist_free_all after the
 * transfer (NULL if none); on failure -1 with a message and *headers NULL. */
int http_client_setup(CURL *curl, const http_client_config *cfg, const char *const *defaults,
                      struct curl_slist **headers, char *err, size_t errlen);

void http_client_config_free(http_client_config *cfg);

/* Why libcurl would refuse `url` ("Bad IPv6 address", ...), or NULL: a URL
 * it cannot parse is a usage error, not a failure to retry. */
const char *http_client_url_problem(const char *url);

/* "connect URL: Connection refused": what failed (resolve, connect, TLS
 * handshake with, send to, read, request), where, and the system's word for
 * it when there is one, else libcurl's. `opened`: a response had begun. */
void http_client_describe_failure(CURL *curl, CURLcode rc, const char *url, const char *errbuf, int opened,
                                  char *why, size_t whylen);

/* What a failed transfer says about trying again, as curl's exit codes
 * tell them apart: a name that does not resolve (6) or a certificate that
 * does not verify (60) will not heal by waiting; a refused connection (7,
 * ECONNREFUSED) heals when the server starts; anything else (a timeout, a
 * reset, an unreachable network) may heal by itself. */
enum http_failure {
    HTTP_FAILURE_OTHER,
    HTTP_FAILURE_DNS,
    HTTP_FAILURE_CERTIFICATE,
    HTTP_FAILURE_REFUSED,
};

/* The kind of `rc` on `curl` (before curl_easy_cleanup: a refusal is told
 * by the connect's errno). */
enum http_failure http_client_failure_kind(CURL *curl, CURLcode rc);

/* What the user can do about a DNS or certificate failure, in the options
 * ssecat and ssepub share ("check the host name"); NULL for the
 * other kinds, whose advice is the tool's own. */
const char *http_client_failure_hint(enum http_failure kind);

#endif
