/* Where events come from: the arguments, all of stdin, or stdin read as
 * lines, NUL records or an event stream. Reading is paced for both latency
 * and throughput: a batch is handed over as soon as input goes idle (a
 * `tail -f` line goes out at once), or when it is full (a fast producer
 * makes few requests). */
#ifndef SSEPUB_SOURCE_H
#define SSEPUB_SOURCE_H

#include <stdint.h>

#include "batch.h"
#include "options.h"
#include "record_reader.h"
#include "sse_parser.h"

typedef struct source {
    const ssepub_options *o;
    record_reader records;
    sse_parser parser;
    batch *b;
    uint64_t inputs;       /* records or events read */
    uint64_t too_large;    /* read, but over --max-event-size: not sent */
    long long next_retry;  /* a retry field for the next event (sse format) */
    int incomplete;        /* stdin ended inside an event (sse format) */
    int read_failed;
    int ended;
} source;

enum source_state { SOURCE_BATCH_READY, SOURCE_ENDED };

void source_init(source *s, const ssepub_options *o);
/* Add events to b until it should be sent; SOURCE_ENDED when input is over
 * (b may still hold the last events). */
enum source_state source_fill(source *s, batch *b);
void source_free(source *s);

#endif
