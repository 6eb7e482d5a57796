#include "http_request.h"

#include <string.h>
#include <strings.h>

#include "digits.h"
#include "http_token.h"


/* Header values may hold visible characters, spaces, tabs and obs-text;
 * never NUL, CR alone or other control characters. */
static int is_value_char(unsigned char c) { return c == '\t' || c >= 0x20; }

static int is_target_char(unsigned char c) { return c > 0x20 && c != 0x7f; }

const char http_request_malformed_version[] = "malformed HTTP version";

static int fail(int *status, const char **reason, int code, const char *why) {
    *status = code;
    *reason = why;
    return HTTP_ERROR;
}

/* Find the end of the line starting at p; sets *next past the LF. NULL if
 * there is no LF yet. A CR is allowed only right before the LF. */
static const char *line_end(const char *p, const char *end, const char **next) {
    const char *lf = memchr(p, '\n', (size_t)(end - p));
    if (!lf)
        return NULL;
    *next = lf + 1;
    return (lf > p && lf[-1] == '\r') ? lf - 1 : lf;
}

static int parse_target(const char *t, size_t len, http_request *req) {
    /* absolute-form (RFC 9112 3.2.2): servers must accept it; keep the path. */
    if (len >= 7 && (strncasecmp(t, "http://", 7) == 0 || (len >= 8 && strncasecmp(t, "https://", 8) == 0))) {
        const char *after_scheme = memchr(t, '/', len) + 2;
        const char *slash = memchr(after_scheme, '/', len - (size_t)(after_scheme - t));
        if (!slash)
            return -1;
        len -= (size_t)(slash - t);
        t = slash;
    }
    if (len == 0 || t[0] != '/')
        return -1;
    const char *q = memchr(t, '?', len);
    req->path = t;
    req->path_len = q ? (size_t)(q - t) : len;
    req->query = q ? q + 1 : NULL;
    req->query_len = q ? len - req->path_len - 1 : 0;
    return 0;
}

/* HTTP-version = "HTTP/" DIGIT "." DIGIT. Checked before the target, so an
 * HTTP/2 client (whose preface is `PRI * HTTP/2.0`) learns that the version
 * is the problem, not its asterisk-form target. */
static int parse_version(const char *s, size_t len, http_request *req, int *status, const char **reason) {
    if (len != 8 || memcmp(s, "HTTP/", 5) != 0 || s[6] != '.' || s[5] < '0' || s[5] > '9' || s[7] < '0' ||
        s[7] > '9')
        return fail(status, reason, 400, http_request_malformed_version);
    if (s[5] >= '2')
        return fail(status, reason, 505, "HTTP/2 and later are not supported; use HTTP/1.1");
    if (s[5] != '1')
        return fail(status, reason, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
    /* RFC 9110 2.5: a higher minor version is handled as the highest we
     * implement, so HTTP/1.2 gets HTTP/1.1's rules. */
    req->minor_version = s[7] >= '1' ? 1 : 0;
    return 0;
}

static int parse_request_line(const char *p, const char *eol, http_request *req, int *status, const char **reason) {
    const char *s = p;
    while (s < eol && http_is_tchar((unsigned char)*s))
        s++;
    if (s == p || s == eol || *s != ' ')
        return fail(status, reason, 400, "malformed request line");
    req->method = p;
    req->method_len = (size_t)(s - p);
    const char *t = ++s;
    while (s < eol && is_target_char((unsigned char)*s))
        s++;
    if (s == t || s == eol || *s != ' ')
        return fail(status, reason, 400, "malformed request line");
    if (parse_version(s + 1, (size_t)(eol - s - 1), req, status, reason) < 0)
        return -1;
    if (parse_target(t, (size_t)(s - t), req) < 0)
        return fail(status, reason, 400, "request target must be a path");
    return 0;
}

static int parse_header_line(const char *p, const char *eol, http_request *req, int *status, const char **reason) {
    if (*p == ' ' || *p == '\t')
        return fail(status, reason, 400, "folded header lines are not allowed");
    const char *s = p;
    while (s < eol && http_is_tchar((unsigned char)*s))
        s++;
    if (s == p || s == eol || *s != ':')
        return fail(status, reason, 400, "malformed header line");
    if (req->num_headers == HTTP_MAX_HEADERS)
        return fail(status, reason, 431, "too many header fields");
    http_header *h = &req->headers[req->num_headers++];
    h->name = p;
    h->name_len = (size_t)(s - p);
    s++;
    while (s < eol && (*s == ' ' || *s == '\t'))
        s++;
    const char *v_end = eol;
    while (v_end > s && (v_end[-1] == ' ' || v_end[-1] == '\t'))
        v_end--;
    for (const char *c = s; c < v_end; c++)
        if (!is_value_char((unsigned char)*c))
            return fail(status, reason, 400, "invalid character in header value");
    h->value = s;
    h->value_len = (size_t)(v_end - s);
    return 0;
}

int http_request_parse(const char *buf, size_t len, size_t max_head, http_request *req, int *status,
                       const char **reason) {
    const char *end = buf + len, *p = buf, *next;
    memset(req, 0, sizeof *req);
    /* RFC 9112 2.2: ignore at least one empty line before the request line. */
    while (p < end && (*p == '\r' || *p == '\n') && p - buf < 4)
        p++;
    const char *eol = line_end(p, end, &next);
    if (!eol) {
        if (len > max_head)
            return fail(status, reason, 414, "request line too long");
        return HTTP_INCOMPLETE;
    }
    if (memchr(p, '\r', (size_t)(eol - p)) || memchr(p, '\0', (size_t)(eol - p)))
        return fail(status, reason, 400, "control character in request line");
    if ((size_t)(next - buf) > max_head)
        return fail(status, reason, 414, "request line too long");
    if (parse_request_line(p, eol, req, status, reason) < 0)
        return HTTP_ERROR;
    p = next;
    for (;;) {
        eol = line_end(p, end, &next);
        if (!eol)
            break;
        if ((size_t)(next - buf) > max_head)
            return fail(status, reason, 431, "request header fields too large");
        if (eol == p)
            return (int)(next - buf);
        if (memchr(p, '\r', (size_t)(eol - p)))
            return fail(status, reason, 400, "bare CR in header line");
        if (parse_header_line(p, eol, req, status, reason) < 0)
            return HTTP_ERROR;
        p = next;
    }
    if (len > max_head)
        return fail(status, reason, 431, "request header fields too large");
    return HTTP_INCOMPLETE;
}

const http_header *http_request_header(const http_request *req, const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < req->num_headers; i++)
        if (req->headers[i].name_len == n && strncasecmp(req->headers[i].name, name, n) == 0)
            return &req->headers[i];
    return NULL;
}

int http_request_method_is(const http_request *req, const char *method) {
    size_t n = strlen(method);
    return req->method_len == n && memcmp(req->method, method, n) == 0;
}

int http_hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode v[0..stop) ('+' is a space) into out, NUL terminated:
 * its length, or -2 (out emptied) when it and the NUL do not fit. */
static long decode_value(const char *v, const char *stop, char *out, size_t out_size) {
    size_t n = 0;
    if (out_size == 0)
        return -2;
    for (; v < stop; v++) {
        char c = *v;
        if (c == '+')
            c = ' ';
        else if (c == '%' && stop - v >= 3 && http_hex_digit(v[1]) >= 0 && http_hex_digit(v[2]) >= 0) {
            c = (char)(http_hex_digit(v[1]) * 16 + http_hex_digit(v[2]));
            v += 2;
        }
        if (n + 1 >= out_size) {
            out[0] = '\0';
            return -2;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    return (long)n;
}

/* The first parameter named `name` counts; keys are compared as sent. A
 * value that does not fit is -2, never -1: a caller must be able to tell
 * "not asked for" from "asked for more than fits". */
long http_query_param(const http_request *req, const char *name, char *out, size_t out_size) {
    size_t name_len = strlen(name);
    const char *p = req->query, *end = req->query ? req->query + req->query_len : NULL;
    while (p && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *key_end = eq ? eq : stop;
        if ((size_t)(key_end - p) == name_len && memcmp(p, name, name_len) == 0)
            return decode_value(eq ? eq + 1 : stop, stop, out, out_size);
        p = amp ? amp + 1 : end;
    }
    return -1;
}

int http_header_has_token(const http_header *h, const char *token) {
    size_t tlen = strlen(token);
    const char *p = h->value, *end = h->value + h->value_len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        const char *s = p;
        while (p < end && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        if ((size_t)(p - s) == tlen && strncasecmp(s, token, tlen) == 0)
            return 1;
        while (p < end && *p != ',')
            p++;
    }
    return 0;
}

/* A Content-Length value: 1 to 15 digits, or -1. */
static long long content_length_value(const http_header *h) {
    uint64_t v;
    return digits_parse_decimal(h->value, h->value_len, 15, &v) == 0 ? (long long)v : -1;
}

int http_request_framing(const http_request *req, long long *content_length, int *chunked, const char **reason) {
    *content_length = -1;
    *chunked = 0;
    for (size_t i = 0; i < req->num_headers; i++) {
        const http_header *h = &req->headers[i];
        if (h->name_len == 14 && strncasecmp(h->name, "content-length", 14) == 0) {
            long long v = content_length_value(h);
            *reason = v < 0 ? "invalid Content-Length" : "conflicting Content-Length headers";
            if (v < 0 || (*content_length >= 0 && *content_length != v))
                return 400;
            *content_length = v;
        } else if (h->name_len == 17 && strncasecmp(h->name, "transfer-encoding", 17) == 0) {
            *reason = "unsupported Transfer-Encoding";
            if (!(h->value_len == 7 && strncasecmp(h->value, "chunked", 7) == 0) || *chunked)
                return req->minor_version == 0 ? 400 : 501;
            *chunked = 1;
        }
    }
    *reason = "both Content-Length and Transfer-Encoding";
    if (*chunked && *content_length >= 0)
        return 400;
    *reason = "missing Host header";
    if (req->minor_version == 1 && !http_request_header(req, "host"))
        return 400;
    *reason = NULL;
    return 0;
}

/* Whether the request line starts with a method HTTP/1.1 clients send
 * (RFC 9110's, and PATCH). */
int http_request_starts_with_http1_method(const char *line, size_t len) {
    static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
        size_t n = strlen(methods[i]);
        if (len > n && memcmp(line, methods[i], n) == 0 && line[n] == ' ')
            return 1;
    }
    return 0;
}
