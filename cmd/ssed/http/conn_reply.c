/* Short replies on a connection: status line, headers, body. */
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include "conn.h"

#define NO_MEMORY_BODY "503 Service Unavailable: out of memory\n"
const char conn_no_memory_reply[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                    "Content-Type: text/plain; charset=utf-8\r\n"
                                    "Content-Length: 39\r\n"
                                    "Retry-After: 1\r\n"
                                    "Connection: close\r\n"
                                    "\r\n" NO_MEMORY_BODY;
const size_t conn_no_memory_reply_len = sizeof conn_no_memory_reply - 1;
_Static_assert(sizeof NO_MEMORY_BODY - 1 == 39, "Content-Length of conn_no_memory_reply");

const char *conn_status_text(int status) {
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

static enum refusal refusal_of_status(int status) {
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

void conn_reply_body(conn *c, int status, const char *content_type, const char *extra_headers, const char *body,
                size_t body_len, int head_only) {
    conn_restart_output(c);
    size_t owed = c->out.len; /* an interim response's unsent bytes */
    int rc = buf_printf(&c->out,
                        "HTTP/1.1 %d %s\r\n"
                        "Content-Type: %s\r\n"
                        "Content-Length: %zu\r\n"
                        "Cache-Control: no-store\r\n"
                        "Connection: %s\r\n"
                        "%s"
                        "\r\n",
                        status, conn_status_text(status), content_type, body_len, c->keep_alive ? "keep-alive" : "close",
                        extra_headers ? extra_headers : "");
    if (rc == 0 && !head_only)
        rc = buf_append(&c->out, body, body_len);
    if (rc < 0) {
        c->out.len = owed; /* not half a head */
        conn_refuse_no_memory(c);
        return;
    }
    if (status >= 400) /* here, so the publish route's JSON refusals count too */
        c->srv->stats.refusals[refusal_of_status(status)]++;
    conn_start_reply(c);
}

/* Written at once, without the output buffer (it could not grow): the
 * bytes fit in the socket's send buffer when nothing else waits there. */
void conn_refuse_no_memory(conn *c) {
    if (!c->io.h2 && c->out_off >= c->out.len && !transport_handshaking(&c->io)) {
        struct iovec iov = {(void *)conn_no_memory_reply, conn_no_memory_reply_len};
        if (transport_writev(&c->io, &iov, 1) == (ssize_t)conn_no_memory_reply_len)
            c->srv->stats.refusals[REFUSAL_UNAVAILABLE]++;
    }
    conn_close(c, "out of memory");
}


/* Errors carry a one-line plain-text body naming the problem. */
void conn_reply_status(conn *c, int status, const char *reason_text, const char *extra_headers) {
    char body[300];
    int n = snprintf(body, sizeof body, "%d %s: %s\n", status, conn_status_text(status),
                     reason_text ? reason_text : conn_status_text(status));
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof body)
        n = sizeof body - 1;
    conn_reply_body(c, status, "text/plain; charset=utf-8", extra_headers, body, (size_t)n, 0);
}
