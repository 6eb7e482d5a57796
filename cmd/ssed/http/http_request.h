/* An HTTP/1.x request-head parser in the shape of picohttpparser: it takes a
 * buffer, never allocates, and answers "complete" (the head's length),
 * "need more", or "error" with the status to answer. Pointers in the result
 * point into the caller's buffer. */
#ifndef SSED_HTTP_REQUEST_H
#define SSED_HTTP_REQUEST_H

#include <stddef.h>

#define HTTP_MAX_HEADERS 64
#define HTTP_INCOMPLETE (-2)
#define HTTP_ERROR (-1)

typedef struct http_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} http_header;

typedef struct http_request {
    const char *method;
    size_t method_len;
    const char *path; /* origin-form path, query excluded */
    size_t path_len;
    const char *query; /* after '?', or NULL */
    size_t query_len;
    int minor_version; /* 0 for HTTP/1.0, 1 for HTTP/1.1 and later 1.x */
    http_header headers[HTTP_MAX_HEADERS];
    size_t num_headers;
} http_request;

/* Parse the request head in buf[0..len). Returns its length when complete,
 * HTTP_INCOMPLETE when more bytes are needed (and the head still fits in
 * max_head), or HTTP_ERROR with *status set to 400, 414, 431 or 505 and
 * *reason to a short explanation. A request line's version is checked
 * before its target: any version other than HTTP/1.x, such as HTTP/2's
 * preface `PRI * HTTP/2.0`, gets 505 as soon as its line has arrived. */
int http_request_parse(const char *buf, size_t len, size_t max_head, http_request *req, int *status,
                       const char **reason);

/* The *reason of a request line whose version is not HTTP/x.y: no
 * HTTP/1.x client sends one, so a connection may take it for a bad HTTP/2
 * preface. */
extern const char http_request_malformed_version[];

/* The value of the named header (case-insensitive), or NULL. */
const http_header *http_request_header(const http_request *req, const char *name);

/* Does req->method equal `method`? */
int http_request_method_is(const http_request *req, const char *method);

/* Copy the percent-decoded value of the first query parameter `name` into
 * out (NUL terminated). Returns its length (0 for `name=` or a bare `name`);
 * -1 if the parameter is absent; -2 if it is present but its value and the
 * NUL do not fit in out_size (out is then "" when out_size > 0). A caller
 * must not treat -2 as absent: the client asked for something ssed cannot
 * hold, and should be told so. */
long http_query_param(const http_request *req, const char *name, char *out, size_t out_size);

/* How the request's body is framed: *content_length (-1 if none) and
 * *chunked. 0 if acceptable, else the status to answer (400, 501) and
 * *reason: a body framed two ways (request smuggling), conflicting or
 * invalid lengths, an unsupported Transfer-Encoding, no Host in HTTP/1.1. */
int http_request_framing(const http_request *req, long long *content_length, int *chunked, const char **reason);

/* The value of a hexadecimal digit, or -1. */
int http_hex_digit(char c);

/* Does the comma-separated header value list contain `token`
 * (case-insensitive, parameters after ';' ignored)? */
int http_header_has_token(const http_header *h, const char *token);

/* Whether a request line starts with a method HTTP/1.1 clients send
 * (RFC 9110's, and PATCH): ssed tells an HTTP/1.x client's mistake from
 * an HTTP/2 client's bad preface by it. */
int http_request_starts_with_http1_method(const char *line, size_t len);

#endif
