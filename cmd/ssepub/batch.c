#include "batch.h"

#include <stdlib.h>
#include <string.h>

int batch_add(batch *b, const sse_out_event *ev, uint64_t input_number) {
    if (b->count == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        size_t *ends = realloc(b->ends, cap * sizeof *ends);
        if (!ends)
            return SSE_ENCODE_NOMEM;
        b->ends = ends;
        uint64_t *inputs = realloc(b->inputs, cap * sizeof *inputs);
        if (!inputs)
            return SSE_ENCODE_NOMEM;
        b->inputs = inputs;
        b->cap = cap;
    }
    int rc = sse_encode_event(&b->body, ev);
    if (rc != SSE_ENCODE_OK)
        return rc;
    b->ends[b->count] = b->body.len;
    b->inputs[b->count] = input_number;
    b->count++;
    return SSE_ENCODE_OK;
}

void batch_drop_front(batch *b, size_t n) {
    if (n == 0)
        return;
    if (n >= b->count) {
        b->first_seq += b->count;
        b->count = 0;
        buf_clear(&b->body);
        return;
    }
    size_t cut = b->ends[n - 1];
    memmove(b->body.data, b->body.data + cut, b->body.len - cut);
    b->body.len -= cut;
    for (size_t i = n; i < b->count; i++) {
        b->ends[i - n] = b->ends[i] - cut;
        b->inputs[i - n] = b->inputs[i];
    }
    b->count -= n;
    b->first_seq += n;
}

void batch_free(batch *b) {
    buf_free(&b->body);
    free(b->ends);
    free(b->inputs);
    memset(b, 0, sizeof *b);
}
