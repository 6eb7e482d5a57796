/* HTTP/1.1 replies as bytes: the status line, headers and body of a short
 * reply, formatted into a caller's buffer. It knows nothing of
 * connections: a stream puts what it formats on the wire. */
#ifndef SSED_HTTP_REPLY_H
#define SSED_HTTP_REPLY_H

#include <stddef.h>

#include "buf.h"
#include "refusal.h"


/* Room for an error's one-line body (http_reply_error_body). */
#define HTTP_REPLY_ERROR_BODY_MAX 300

const char *http_reply_status_text(int status);
/* The kind of refusal an error status counts as. */
enum refusal http_reply_refusal(int status);
/* Append a reply to out: status line, Content-Type, Content-Length,
 * Connection (keep-alive or close), extra_headers (whole lines, or NULL)
 * and, unless head_only, the body. -1 if memory ran out, with out as it
 * was (not half a head). */
int http_reply_format(buf *out, int status, const char *content_type, const char *extra_headers, const char *body,
                      size_t body_len, int head_only, int keep_alive);
/* An error's one-line plain-text body naming the problem ("404 Not Found:
 * no such channel\n"), at most size - 1 bytes; returns its length. */
size_t http_reply_error_body(char *out, size_t size, int status, const char *reason_text);

/* A fixed 503 for when memory ran out before a reply could be formatted. */
extern const char http_reply_no_memory[];
extern const size_t http_reply_no_memory_len;

#endif
