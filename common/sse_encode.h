/* Turning events into text/event-stream bytes. The output always parses
 * back (by any conforming client) to the same type, id and data, with CR and
 * CRLF in data coming back as LF, as the spec makes them. Invalid UTF-8 is
 * written as U+FFFD, so the bytes never break a client. */
#ifndef SSETOOLS_SSE_ENCODE_H
#define SSETOOLS_SSE_ENCODE_H

#include <stddef.h>

#include "buf.h"

typedef struct sse_out_event {
    const char *type; /* NULL, empty or "message": no event field (type "message") */
    size_t type_len;
    const char *id; /* written when has_id; an empty id resets the client's */
    size_t id_len;
    int has_id;
    const char *data;
    size_t data_len;
    long long retry_ms; /* < 0: no retry field */
} sse_out_event;

enum {
    SSE_ENCODE_OK = 0,
    SSE_ENCODE_NOMEM = -1,
    SSE_ENCODE_BAD_TYPE = -2, /* type contains CR or LF */
    SSE_ENCODE_BAD_ID = -3,   /* id contains CR, LF or NUL */
};

/* Append one event, ending in the blank line that dispatches it. On a
 * validation error nothing is appended. */
int sse_encode_event(buf *out, const sse_out_event *ev);
/* Append comment lines (`: text`), one per line of `text`. */
int sse_encode_comment(buf *out, const char *text, size_t len);
/* Append a lone `retry:` field (a reconnection hint, dispatches nothing). */
int sse_encode_retry(buf *out, unsigned long long ms);
const char *sse_encode_strerror(int rc);

#endif
