#include "record_reader.h"

#include <string.h>

void record_reader_init(record_reader *r, char separator, size_t max_record,
                        void (*on_record)(void *ctx, const char *record, size_t len),
                        void (*on_oversize)(void *ctx, size_t bytes), void *ctx) {
    memset(r, 0, sizeof *r);
    r->separator = separator;
    r->max_record = max_record;
    r->on_record = on_record;
    r->on_oversize = on_oversize;
    r->ctx = ctx;
}

static void report_oversize(record_reader *r, size_t bytes) {
    if (r->on_oversize)
        r->on_oversize(r->ctx, bytes);
}

static void emit(record_reader *r, const char *rec, size_t len) {
    size_t whole = len;
    if (r->separator == '\n' && len > 0 && rec[len - 1] == '\r')
        len--; /* CRLF input */
    if (len > r->max_record) {
        report_oversize(r, whole); /* the byte allowed past the limit was not a CR */
        return;
    }
    r->on_record(r->ctx, rec, len);
}

static void end_skipping(record_reader *r) {
    report_oversize(r, r->skipping);
    r->skipping = 0;
}

int record_reader_feed(record_reader *r, const char *bytes, size_t len) {
    /* A line may carry one more byte than the limit: the CR of a CRLF. */
    size_t limit = r->max_record + (r->separator == '\n');
    int rc = 0;
    while (len > 0) {
        const char *end = memchr(bytes, r->separator, len);
        size_t part = end ? (size_t)(end - bytes) : len;
        if (r->skipping) {
            r->skipping += part;
        } else if (r->partial.len + part > limit) {
            r->skipping = r->partial.len + part;
            buf_clear(&r->partial);
        } else if (end && r->partial.len == 0) {
            emit(r, bytes, part); /* the common case: no copy */
        } else if (buf_append(&r->partial, bytes, part) < 0) {
            r->skipping = r->partial.len + part;
            buf_clear(&r->partial);
            rc = -1;
        } else if (end) {
            emit(r, r->partial.data, r->partial.len);
            buf_clear(&r->partial);
        }
        if (!end)
            break;
        if (r->skipping)
            end_skipping(r);
        bytes += part + 1;
        len -= part + 1;
    }
    return rc;
}

void record_reader_finish(record_reader *r) {
    if (r->skipping)
        end_skipping(r);
    else if (r->partial.len > 0)
        emit(r, r->partial.data, r->partial.len);
    buf_clear(&r->partial);
}

void record_reader_free(record_reader *r) { buf_free(&r->partial); }
