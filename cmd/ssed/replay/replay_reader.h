/* A reader of recordings (ssecat --record; man ssecat, RECORDING): an
 * event stream whose comments carry the recorder's metadata. Fed bytes in
 * any chunking, it checks the first line (": ssecat-recording=1") and
 * hands out each recorded item with its time: an event, a retry-only
 * block, a recorded comment. Unknown keys are ignored; an incomplete last
 * block is dropped (sse_parser_finish). Memory is bounded by
 * max_event_size: a larger block is skipped and reported (on_oversize). */
#ifndef SSED_REPLAY_READER_H
#define SSED_REPLAY_READER_H

#include <stddef.h>
#include <stdint.h>

#include "sse_parser.h"

enum replay_item_kind { REPLAY_EVENT, REPLAY_RETRY, REPLAY_COMMENT };

/* One recorded item; pointers are valid only during the callback. */
typedef struct replay_item {
    int kind;         /* enum replay_item_kind */
    uint64_t t_ms;    /* when it arrived, from the recording's start */
    const char *type; /* events: NULL when the type is message */
    size_t type_len;
    const char *id;   /* events: NULL when the block carried no id field */
    size_t id_len;
    const char *data; /* events: the data; comments: the text after the colon */
    size_t data_len;
    long long retry_ms; /* events and retry blocks; -1: none */
} replay_item;

typedef struct replay_reader_handlers {
    void (*on_item)(void *ctx, const replay_item *it);
    void (*on_oversize)(void *ctx, size_t bytes);
    void *ctx;
} replay_reader_handlers;

typedef struct replay_reader {
    replay_reader_handlers h;
    sse_parser parser;
    char first[64]; /* the first line, until it is complete */
    size_t first_len;
    int checked;    /* the first line was read and is good */
    int bad;        /* it was not: nothing more is read */
    uint64_t t_ms;  /* the last t= seen */
    long long retry_pending; /* a retry field not yet part of an event */
    char err[160];
} replay_reader;

void replay_reader_init(replay_reader *r, size_t max_event_size, const replay_reader_handlers *h);
/* Parse len bytes: 0, or -1 with r->err set (not a recording, an unknown
 * version, out of memory). */
int replay_reader_feed(replay_reader *r, const char *bytes, size_t len);
/* End of input: an incomplete last block is dropped; a retry-only block
 * is handed out. -1 with r->err when the input held no first line. */
int replay_reader_finish(replay_reader *r);
/* Start again, as for a new input (--loop). */
void replay_reader_reset(replay_reader *r);
void replay_reader_free(replay_reader *r);

#endif
