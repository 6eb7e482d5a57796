/* Splitting a byte stream into records: lines (LF, with a CR before it
 * removed) or NUL-terminated records. ssed reads its stdin and FIFO with it,
 * ssepub its stdin. Incremental (any chunking gives the same records) and
 * bounded: a record longer than the limit is skipped to its end and
 * reported, never buffered whole. */
#ifndef SSETOOLS_RECORD_READER_H
#define SSETOOLS_RECORD_READER_H

#include <stddef.h>

#include "buf.h"

typedef struct record_reader {
    char separator; /* '\n' or '\0' */
    size_t max_record;
    buf partial;     /* a record split across feeds */
    size_t skipping; /* bytes so far of an oversized record */
    void (*on_record)(void *ctx, const char *record, size_t len);
    void (*on_oversize)(void *ctx, size_t bytes);
    void *ctx;
} record_reader;

void record_reader_init(record_reader *r, char separator, size_t max_record,
                        void (*on_record)(void *ctx, const char *record, size_t len),
                        void (*on_oversize)(void *ctx, size_t bytes), void *ctx);
/* 0, or -1 when memory ran out (the record in progress is then dropped). */
int record_reader_feed(record_reader *r, const char *bytes, size_t len);
/* End of input: a last record without a separator still counts. */
void record_reader_finish(record_reader *r);
void record_reader_free(record_reader *r);

#endif
