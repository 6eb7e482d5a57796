/* libFuzzer target for the recording reader (ssed --replay FILE): the same
 * items, times, oversize reports and verdict whatever the chunking; times
 * come only from t= lines and never exceed what one can say; no event's
 * data longer than the limit allows (three bytes for each byte read). */
/* fuzz-sources: cmd/ssed/replay/replay_reader.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "replay_reader.h"

typedef struct tally {
    uint64_t hash;
    size_t items, max;
} tally;

static void mix(tally *t, const void *p, size_t len) {
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++)
        t->hash = (t->hash ^ b[i]) * 1099511628211ULL;
    t->hash = (t->hash ^ 0x100) * 1099511628211ULL;
}

static void on_item(void *ctx, const replay_item *it) {
    tally *t = ctx;
    /* The limit is on the bytes read; a byte that is not UTF-8 becomes
     * U+FFFD (three bytes), so an event's data can be three times that. */
    if (it->kind == REPLAY_EVENT && it->data_len > 3 * t->max)
        abort();
    mix(t, &it->kind, sizeof it->kind);
    mix(t, &it->t_ms, sizeof it->t_ms);
    mix(t, &it->retry_ms, sizeof it->retry_ms);
    if (it->type)
        mix(t, it->type, it->type_len);
    if (it->id)
        mix(t, it->id, it->id_len);
    mix(t, it->data, it->data_len);
    t->items++;
}

static void on_oversize(void *ctx, size_t bytes) {
    tally *t = ctx;
    mix(t, &bytes, sizeof bytes);
}

static tally run(const char *in, size_t len, size_t max, size_t chunk, int *rc) {
    tally t = {14695981039346656037ULL, 0, max};
    replay_reader r;
    replay_reader_handlers h = {on_item, on_oversize, &t};
    replay_reader_init(&r, max, &h);
    *rc = 0;
    for (size_t pos = 0; pos < len && *rc == 0; pos += chunk)
        *rc = replay_reader_feed(&r, in + pos, len - pos < chunk ? len - pos : chunk);
    if (*rc == 0)
        *rc = replay_reader_finish(&r);
    replay_reader_free(&r);
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    size_t max = 1 + data[0] % 64;
    const char *in = (const char *)data + 1;
    size--;
    int rc_whole, rc_bytes;
    tally whole = run(in, size, max, size ? size : 1, &rc_whole);
    tally bytewise = run(in, size, max, 1, &rc_bytes);
    if (rc_whole != rc_bytes || whole.hash != bytewise.hash || whole.items != bytewise.items)
        abort();
    return 0;
}
