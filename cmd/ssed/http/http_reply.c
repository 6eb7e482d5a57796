/* HTTP/1.1 replies as bytes (http_reply.h). */
#include "http_reply.h"

#include <stdio.h>

#define NO_MEMORY_BODY "503 Service Unavailable: out of memory\n"
const char http_reply_no_memory[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                    "Content-Type: text/plain; charset=utf-8\r\n"
                                    "Content-Length: 39\r\n"
                                    "Retry-After: 1\r\n"
                                    "Connection: close\r\n"
                                    "\r\n" NO_MEMORY_BODY;
const size_t http_reply_no_memory_len = sizeof http_reply_no_memory - 1;
_Static_assert(sizeof NO_MEMORY_BODY - 1 == 39, "Content-Length of http_reply_no_memory");

const char *http_reply_status_text(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 401:
        return "Unauthorized";
    case 421:
        return "Misdirected Request";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}

enum refusal http_reply_refusal(int status) {
    switch (status) {
    case 401:
    case 403:
    case 421:
        return REFUSAL_FORBIDDEN;
    case 404:
        return REFUSAL_NOT_FOUND;
    case 405:
        return REFUSAL_METHOD;
    case 501: /* a Transfer-Encoding ssed does not know */
    case 505: /* HTTP/2 or another version */
        return REFUSAL_BAD_REQUEST;
    default:
        return status >= 500 ? REFUSAL_UNAVAILABLE : REFUSAL_BAD_REQUEST;
    }
}

int http_reply_format(buf *out, int status, const char *content_type, const char *extra_headers, const char *body,
                      size_t body_len, int head_only, int keep_alive) {
    size_t was = out->len;
    int rc = buf_printf(out,
                        "HTTP/1.1 %d %s\r\n"
                        "Content-Type: %s\r\n"
                        "Content-Length: %zu\r\n"
                        "Cache-Control: no-store\r\n"
                        "Connection: %s\r\n"
                        "%s"
                        "\r\n",
                        status, http_reply_status_text(status), content_type, body_len,
                        keep_alive ? "keep-alive" : "close", extra_headers ? extra_headers : "");
    if (rc == 0 && !head_only)
        rc = buf_append(out, body, body_len);
    if (rc < 0)
        out->len = was;
    return rc < 0 ? -1 : 0;
}

size_t http_reply_error_body(char *out, size_t size, int status, const char *reason_text) {
    int n = snprintf(out, size, "%d %s: %s\n", status, http_reply_status_text(status),
                     reason_text ? reason_text : http_reply_status_text(status));
    if (n < 0)
        n = 0;
    if ((size_t)n >= size)
        n = (int)size - 1;
    return (size_t)n;
}
