/* A batch: events encoded into one event-stream body, each numbered (for
 * ssed's exactly-once resend check) and tied to its input record (for
 * reports). Acknowledged events are dropped from the front. */
#ifndef SSEPUB_BATCH_H
#define SSEPUB_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sse_encode.h"

typedef struct batch {
    buf body;
    size_t *ends;     /* end offset in body of each event */
    uint64_t *inputs; /* input record number (1-based) of each event */
    size_t count, cap;
    uint64_t first_seq; /* number of the first event */
} batch;

/* Encode and append; an sse_encode error code when the event is invalid. */
int batch_add(batch *b, const sse_out_event *ev, uint64_t input_number);
/* Forget the first n events; the next ones keep their numbers. */
void batch_drop_front(batch *b, size_t n);
void batch_free(batch *b);

#endif
