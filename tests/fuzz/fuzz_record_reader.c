/* libFuzzer target for the record reader (ssed's and ssepub's lines and
 * NUL-record input): the same records and oversize reports whatever the
 * chunking, no record over the limit, and every input byte accounted for. */
#include <stdint.h>
#include <stdlib.h>

#include "record_reader.h"

typedef struct tally {
    uint64_t hash;
    size_t records, record_bytes, oversize_bytes, max_record;
} tally;

static void on_record(void *ctx, const char *rec, size_t len) {
    tally *t = ctx;
    if (len > t->max_record + 1)
        abort();
    for (size_t i = 0; i < len; i++)
        t->hash = (t->hash ^ (unsigned char)rec[i]) * 1099511628211ULL;
    t->hash = (t->hash ^ 0x100) * 1099511628211ULL;
    t->records++;
    t->record_bytes += len;
}

static void on_oversize(void *ctx, size_t bytes) {
    tally *t = ctx;
    if (bytes <= t->max_record)
        abort();
    t->hash = (t->hash ^ bytes) * 1099511628211ULL;
    t->oversize_bytes += bytes;
}

static tally run(const char *in, size_t len, char sep, size_t max, size_t chunk) {
    tally t = {14695981039346656037ULL, 0, 0, 0, max};
    record_reader r;
    record_reader_init(&r, sep, max, on_record, on_oversize, &t);
    for (size_t pos = 0; pos < len; pos += chunk)
        record_reader_feed(&r, in + pos, len - pos < chunk ? len - pos : chunk);
    record_reader_finish(&r);
    record_reader_free(&r);
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    char sep = (data[0] & 1) ? '\0' : '\n';
    size_t max = 1 + (data[0] >> 1) % 40;
    const char *in = (const char *)data + 1;
    size--;
    tally whole = run(in, size, sep, max, size ? size : 1);
    tally bytewise = run(in, size, sep, max, 1);
    if (whole.hash != bytewise.hash || whole.records != bytewise.records)
        abort();
    return 0;
}
