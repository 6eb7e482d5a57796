#include "http_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "http_token.h"
#include "terminal.h"
#include "token_file.h"
#include "units.h"
#include "version.h"

/* Browsers give up after 20 redirects; so do we. */
#define HTTP_CLIENT_MAX_REDIRECTS 20L

int http_client_global_init(char *err, size_t errlen) {
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "libcurl initialisation failed: %s", curl_easy_strerror(rc));
        return -1;
    }
    return 0;
}

void http_client_global_cleanup(void) { curl_global_cleanup(); }


int http_client_add_header(http_client_config *cfg, const char *header, char *err, size_t errlen) {
    size_t name_len = 0;
    while (http_is_tchar((unsigned char)header[name_len]))
        name_len++;
    char sep = header[name_len];
    if (name_len == 0 || (sep != ':' && sep != ';') || (sep == ';' && header[name_len + 1] != '\0')) {
        snprintf(err, errlen, "invalid header '%s' (expected 'Name: value')", header);
        return -1;
    }
    /* A line break would let a value smuggle in a header of its own. */
    if (strpbrk(header, "\r\n")) {
        snprintf(err, errlen, "invalid header '%s' (contains a line break)", header);
        return -1;
    }
    if (cfg->header_count == cfg->header_cap) {
        size_t cap = cfg->header_cap ? cfg->header_cap * 2 : 8;
        const char **grown = realloc(cfg->headers, cap * sizeof *grown);
        if (!grown) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        cfg->headers = grown;
        cfg->header_cap = cap;
    }
    cfg->headers[cfg->header_count++] = header;
    return 0;
}

/* Whether header line `h` ("Name: value", "Name:" or "Name;") names `name`. */
static int header_names(const char *h, const char *name, size_t name_len) {
    return strncasecmp(h, name, name_len) == 0 && (h[name_len] == ':' || h[name_len] == ';');
}

int http_client_has_header(const http_client_config *cfg, const char *name) {
    size_t len = strlen(name);
    for (size_t i = 0; i < cfg->header_count; i++)
        if (header_names(cfg->headers[i], name, len))
            return 1;
    return 0;
}

int http_client_check_file(const char *path, char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) < 0 || access(path, R_OK) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: %s", path, strerror(EISDIR));
        return -1;
    }
    return 0;
}

static int append_header(struct curl_slist **list, const char *header) {
    struct curl_slist *grown = curl_slist_append(*list, header);
    if (!grown)
        return -1;
    *list = grown;
    return 0;
}

/* The headers to send: the caller's defaults the user did not replace, the
 * bearer token unless the user gave an Authorization header, then -H. */
static int build_headers(const http_client_config *cfg, const char *const *defaults, struct curl_slist **list) {
    for (size_t i = 0; defaults && defaults[i]; i++) {
        const char *colon = strchr(defaults[i], ':');
        size_t name_len = colon ? (size_t)(colon - defaults[i]) : strlen(defaults[i]);
        int replaced = 0;
        for (size_t j = 0; j < cfg->header_count && !replaced; j++)
            replaced = header_names(cfg->headers[j], defaults[i], name_len);
        if (!replaced && append_header(list, defaults[i]) < 0)
            return -1;
    }
    if (cfg->bearer && !http_client_has_header(cfg, "Authorization")) {
        buf auth = BUF_INIT;
        int rc = buf_printf(&auth, "Authorization: Bearer %s", cfg->bearer);
        if (rc == 0)
            rc = append_header(list, auth.data);
        buf_free(&auth);
        if (rc < 0)
            return -1;
    }
    /* libcurl decodes a response only when it may ask for an encoding;
     * without --compressed it is told to and then not to ask, so what a
     * server compresses unasked (as browsers take) is decoded all the same. */
    if (!cfg->compressed && !http_client_has_header(cfg, "Accept-Encoding") &&
        append_header(list, "Accept-Encoding:") < 0)
        return -1;
    for (size_t i = 0; i < cfg->header_count; i++)
        if (append_header(list, cfg->headers[i]) < 0)
            return -1;
    return 0;
}

/* Whether a request header line carries credentials that -v must not show. */
static int is_secret_header(const char *line, size_t len) {
    static const char *const names[] = {"authorization:", "proxy-authorization:"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i]);
        if (len >= n && strncasecmp(line, names[i], n) == 0)
            return (int)n;
    }
    return 0;
}

/* Print one header line with `mark`, credentials replaced by "***" but the
 * scheme word kept ("Authorization: Bearer ***"), so -v output can be pasted
 * into a bug report. */
/* Header lines come from the server: on a terminal their control bytes
 * are shown, not obeyed. */
static void print_header_line(char mark, const char *line, size_t len) {
    int name_len = is_secret_header(line, len);
    if (name_len == 0) {
        buf shown = BUF_INIT;
        fprintf(stderr, "%c %s\n", mark, terminal_stderr_text(&shown, line, len, 0));
        buf_free(&shown);
        return;
    }
    size_t pos = (size_t)name_len;
    while (pos < len && line[pos] == ' ')
        pos++;
    size_t scheme_end = pos;
    while (scheme_end < len && line[scheme_end] != ' ')
        scheme_end++;
    fprintf(stderr, "%c %.*s ***\n", mark, (int)scheme_end, line);
}

static void print_header_block(char mark, const char *data, size_t size) {
    size_t pos = 0;
    while (pos < size) {
        const char *nl = memchr(data + pos, '\n', size - pos);
        size_t end = nl ? (size_t)(nl - data) : size;
        size_t line_end = end > pos && data[end - 1] == '\r' ? end - 1 : end;
        if (line_end > pos)
            print_header_line(mark, data + pos, line_end - pos);
        pos = end + 1;
    }
}

/* curl's own -v layout: "*" for connection events, ">" request headers,
 * "<" response headers; bodies are left out (ssecat prints the events). */
static int on_debug(CURL *curl, curl_infotype type, char *data, size_t size, void *ctx) {
    (void)curl;
    (void)ctx;
    switch (type) {
    case CURLINFO_TEXT: {
        buf shown = BUF_INIT;
        size_t len = size > 0 && data[size - 1] == '\n' ? size - 1 : size;
        fprintf(stderr, "* %s\n", terminal_stderr_text(&shown, data, len, 0));
        buf_free(&shown);
        break;
    }
    case CURLINFO_HEADER_OUT:
        print_header_block('>', data, size);
        break;
    case CURLINFO_HEADER_IN:
        print_header_block('<', data, size);
        break;
    default:
        break;
    }
    return 0;
}

#define SET(opt, val)                                                                                                  \
    do {                                                                                                               \
        CURLcode rc_ = curl_easy_setopt(curl, opt, val);                                                               \
        if (rc_ != CURLE_OK) {                                                                                         \
            snprintf(err, errlen, "%s: %s", #opt, curl_easy_strerror(rc_));                                            \
            goto fail;                                                                                                 \
        }                                                                                                              \
    } while (0)

int http_client_setup(CURL *curl, const http_client_config *cfg, const char *const *defaults,
                      struct curl_slist **headers, char *err, size_t errlen) {
    char agent[128];
    *headers = NULL;
    if (build_headers(cfg, defaults, headers) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    SET(CURLOPT_HTTPHEADER, *headers);
    snprintf(agent, sizeof agent, "%s/%s", cfg->program ? cfg->program : "ssetools", SSETOOLS_VERSION);
    SET(CURLOPT_USERAGENT, cfg->user_agent ? cfg->user_agent : agent);
    SET(CURLOPT_FOLLOWLOCATION, 1L);
    SET(CURLOPT_MAXREDIRS, HTTP_CLIENT_MAX_REDIRECTS);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    SET(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    /* Signals are ours (Ctrl-C ends the program cleanly), not libcurl's. */
    SET(CURLOPT_NOSIGNAL, 1L);
    if (cfg->userpwd) {
        SET(CURLOPT_USERPWD, cfg->userpwd);
        SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    }
    if (cfg->insecure) {
        SET(CURLOPT_SSL_VERIFYPEER, 0L);
        SET(CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (cfg->cacert)
        SET(CURLOPT_CAINFO, cfg->cacert);
    if (cfg->proxy) {
        SET(CURLOPT_PROXY, cfg->proxy);
        /* The proxy's "200 Connection established" is not the server's answer. */
        SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    }
    if (cfg->unix_socket)
        SET(CURLOPT_UNIX_SOCKET_PATH, cfg->unix_socket);
    if (cfg->connect_timeout_ms)
        SET(CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->connect_timeout_ms);
    /* Every encoding libcurl can decode is decoded, asked for or not;
     * build_headers keeps Accept-Encoding out unless --compressed. */
    SET(CURLOPT_ACCEPT_ENCODING, "");
    if (cfg->verbose) {
        SET(CURLOPT_DEBUGFUNCTION, on_debug);
        SET(CURLOPT_VERBOSE, 1L);
    }
    return 0;
fail:
    curl_slist_free_all(*headers);
    *headers = NULL;
    return -1;
}

int http_client_take_token_file(void *cfg_, const char *path, char *err, size_t errlen) {
    http_client_config *cfg = cfg_;
    char *token = token_file_read(path, err, errlen);
    if (!token)
        return -1;
    /* Given again, the last one counts (as curl's options do); bearer may
     * point at the one being replaced. */
    int bearer_was_file = cfg->bearer && cfg->bearer == cfg->bearer_from_file;
    free(cfg->bearer_from_file);
    cfg->bearer_from_file = token;
    if (!cfg->bearer || bearer_was_file)
        cfg->bearer = token;
    return 0;
}

int http_client_token_twice(const http_client_config *cfg) {
    return cfg->bearer_from_file && cfg->bearer != cfg->bearer_from_file;
}

const char *http_client_url_problem(const char *url) {
    CURLU *u = curl_url();
    if (!u)
        return "out of memory";
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, 0);
    curl_url_cleanup(u);
    if (rc == CURLUE_OK)
        return NULL;
#if LIBCURL_VERSION_NUM >= 0x075000
    return curl_url_strerror(rc);
#else
    return "malformed";
#endif
}

void http_client_config_free(http_client_config *cfg) {
    free(cfg->bearer_from_file);
    cfg->bearer_from_file = NULL;
    free(cfg->headers);
    cfg->headers = NULL;
    cfg->header_count = cfg->header_cap = 0;
}

void http_client_describe_failure(CURL *curl, CURLcode rc, const char *url, const char *errbuf, int opened,
                                  char *why, size_t whylen) {
    const char *verb;
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        verb = "resolve";
        break;
    case CURLE_COULDNT_RESOLVE_PROXY:
        verb = "resolve proxy for";
        break;
    case CURLE_COULDNT_CONNECT:
        verb = "connect";
        break;
    case CURLE_OPERATION_TIMEDOUT:
        verb = opened ? "read" : "connect";
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        verb = "TLS handshake with";
        break;
    case CURLE_SEND_ERROR:
        verb = "send to";
        break;
    default:
        verb = opened ? "read" : "request";
    }
    long os_errno = 0;
    if (curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno) != CURLE_OK)
        os_errno = 0;
    const char *text = os_errno && rc == CURLE_COULDNT_CONNECT ? strerror((int)os_errno)
                       : errbuf && errbuf[0]                    ? errbuf
                                                                : curl_easy_strerror(rc);
    snprintf(why, whylen, "%s %s: %s", verb, url, text);
}

enum http_failure http_client_failure_kind(CURL *curl, CURLcode rc) {
    long os_errno = 0;
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return HTTP_FAILURE_DNS;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        return HTTP_FAILURE_CERTIFICATE;
    case CURLE_COULDNT_CONNECT:
        if (curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno) != CURLE_OK)
            os_errno = 0;
        return os_errno == ECONNREFUSED ? HTTP_FAILURE_REFUSED : HTTP_FAILURE_OTHER;
    default:
        return HTTP_FAILURE_OTHER;
    }
}

const char *http_client_failure_hint(enum http_failure kind) {
    switch (kind) {
    case HTTP_FAILURE_DNS:
        return "check the host name";
    case HTTP_FAILURE_CERTIFICATE:
        return "--cacert FILE trusts the CA that signed it; -k/--insecure skips the check";
    default:
        return NULL;
    }
}
