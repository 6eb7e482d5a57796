/* libFuzzer target for the SSE parser. The first byte picks a chunk size and
 * a small event size limit, so chunking and the oversize path are explored
 * too; whole-input and chunked parses must produce the same callbacks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sse_parser.h"
#include "utf8.h"

typedef struct digest {
    uint64_t hash;
    size_t events;
} digest;

static void mix(digest *d, const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        d->hash = (d->hash ^ (unsigned char)s[i]) * 1099511628211ULL;
    d->hash = (d->hash ^ 0xff) * 1099511628211ULL;
}

static void on_event(void *ctx, const sse_event *ev) {
    digest *d = ctx;
    if (utf8_valid_prefix(ev->data, ev->data_len) != ev->data_len ||
        utf8_valid_prefix(ev->type, ev->type_len) != ev->type_len ||
        utf8_valid_prefix(ev->id, ev->id_len) != ev->id_len)
        abort(); /* every string handed out must be valid UTF-8 */
    d->events++;
    mix(d, ev->type, ev->type_len);
    mix(d, ev->id, ev->id_len);
    mix(d, ev->data, ev->data_len);
}

static void on_retry(void *ctx, unsigned long long ms) {
    digest *d = ctx;
    mix(d, (const char *)&ms, sizeof ms);
}

static void on_comment(void *ctx, const char *text, size_t len) { mix(ctx, text, len); }

static void on_oversize(void *ctx, size_t bytes) {
    (void)bytes;
    mix(ctx, "!", 1);
}

static digest run(const uint8_t *data, size_t size, size_t chunk, size_t max_event) {
    digest d = {14695981039346656037ULL, 0};
    sse_parser_handlers h = {on_event, on_retry, on_comment, on_oversize, &d};
    sse_parser p;
    sse_parser_init(&p, max_event, &h);
    for (size_t pos = 0; pos < size; pos += chunk)
        sse_parser_feed(&p, (const char *)data + pos, size - pos < chunk ? size - pos : chunk);
    sse_parser_finish(&p);
    sse_parser_free(&p);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    size_t chunk = 1 + data[0] % 17;
    size_t max_event = (data[0] & 0x80) ? 64 : 0;
    data++, size--;
    digest whole = run(data, size, size ? size : 1, max_event);
    digest chunked = run(data, size, chunk, max_event);
    if (whole.hash != chunked.hash || whole.events != chunked.events)
        abort(); /* the same events whatever the chunk boundaries */
    return 0;
}
