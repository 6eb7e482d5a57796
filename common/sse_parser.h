/* An incremental parser for text/event-stream, following the WHATWG HTML
 * standard's "Interpreting an event stream" section.
 *
 * Feed it bytes in any chunking; it calls back once per dispatched event,
 * retry field and comment, with the same results whatever the chunk
 * boundaries. Buffers grow by doubling and are reused, so after warm-up no
 * line or byte allocates; an event whose one data line lies whole in the
 * fed bytes is handed out from them, not copied. Memory is bounded by
 * max_event_size: a line or an
 * event larger than that is dropped up to the blank line that ends it and
 * reported through on_oversize, and parsing goes on. */
#ifndef SSETOOLS_SSE_PARSER_H
#define SSETOOLS_SSE_PARSER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define SSE_DEFAULT_MAX_EVENT_SIZE ((size_t)1 << 20)

/* A dispatched event. Pointers stay valid only during the callback. All
 * strings are valid UTF-8 (invalid input became U+FFFD). */
typedef struct sse_event {
    const char *type; /* "message" when the stream named no type */
    size_t type_len;
    const char *data; /* data lines joined with LF, last LF removed */
    size_t data_len;
    const char *id; /* the last event ID in effect (may be empty) */
    size_t id_len;
    int id_in_event; /* an id field appeared in this very event */
} sse_event;

typedef struct sse_parser_handlers {
    void (*on_event)(void *ctx, const sse_event *ev);
    /* A retry field made only of digits, in milliseconds; values of 2^64
     * or more arrive as ULLONG_MAX. */
    void (*on_retry)(void *ctx, unsigned long long ms);
    /* A comment line; `text` follows the colon, one leading space removed,
     * and is valid only during the callback. */
    void (*on_comment)(void *ctx, const char *text, size_t len);
    /* An event (or line) over max_event_size was dropped; `bytes` is how
     * much of it was received before it ended. */
    void (*on_oversize)(void *ctx, size_t bytes);
    void *ctx;
} sse_parser_handlers;

typedef struct sse_parser {
    sse_parser_handlers handlers;
    size_t max_event_size;
    buf line;    /* a line split across feeds */
    buf data;    /* data buffer: lines each followed by LF */
    /* The event's only data line so far, still in the bytes being fed (valid
     * UTF-8); copied into data before sse_parser_feed returns. */
    const char *data_in_place;
    size_t data_in_place_len;
    buf type;    /* event type buffer */
    /* The last event ID string (what a reconnect sends; outlives streams, as
     * in browsers) is ids[cur_id]. The last event ID buffer is the same
     * string, or ids[!cur_id] when id_pending: an id field seen since the
     * last blank line. A blank line makes the buffer the string by flipping
     * cur_id, and the end of a stream drops a pending id by clearing
     * id_pending, so neither copies nor allocates. last_id and
     * last_id_len are ids[cur_id]'s text ("" when empty), kept at hand for
     * every event. */
    buf ids[2];
    int cur_id;
    int id_pending;
    const char *last_id;
    size_t last_id_len;
    buf comment; /* decoded comment text */
    int bom_pending;
    int skip_lf; /* the previous feed ended in CR */
    int id_in_event;
    /* For a recorder that writes blocks as they came (sse_parser_record_blocks). */
    void (*on_blank_line)(void *ctx);
    int comment_keep_space;
    int discarding;       /* inside an oversized event */
    size_t discarded;     /* bytes of it so far */
    size_t partial_bytes; /* length of a partial line while discarding */
} sse_parser;

void sse_parser_init(sse_parser *p, size_t max_event_size, const sse_parser_handlers *handlers);
/* Seed the last event ID (a reconnecting client's Last-Event-ID). */
int sse_parser_set_last_id(sse_parser *p, const char *id, size_t len);
/* For a recorder: call on_blank_line (with the handlers' ctx) at each
 * blank line that ends a block, after on_event if it dispatched one (a
 * block of only a retry or an id dispatches nothing); and hand on_comment
 * the text after the colon exactly, its leading space kept. */
void sse_parser_record_blocks(sse_parser *p, void (*on_blank_line)(void *ctx));
/* Parse `len` bytes. 0 on success, -1 if memory ran out (errno ENOMEM). */
int sse_parser_feed(sse_parser *p, const char *bytes, size_t len);
/* End of one stream: a pending incomplete event is discarded, its id with
 * it, as the spec says; the last event ID is kept for the next stream. */
void sse_parser_finish(sse_parser *p);
/* The last event ID string (what a reconnecting client sends as
 * Last-Event-ID): set only when a blank line dispatches, so the id of an
 * event cut off by the end of a stream does not count. */
static inline const char *sse_parser_last_id(const sse_parser *p, size_t *len) {
    *len = p->last_id_len;
    return p->last_id;
}
/* A retry value as the signed milliseconds an encoder takes (values past
 * INT64_MAX mean "practically never" all the same). */
static inline long long sse_retry_clamp(unsigned long long ms) {
    return ms > (unsigned long long)INT64_MAX ? INT64_MAX : (long long)ms;
}
/* Is part of an event or a line buffered, waiting for more input? */
static inline int sse_parser_in_event(const sse_parser *p) { return p->data.len > 0 || p->line.len > 0; }
void sse_parser_free(sse_parser *p);

#endif
