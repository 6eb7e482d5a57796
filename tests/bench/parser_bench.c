/* Parser throughput on generated streams, next to a plain memchr scan of the
 * same bytes (the floor any line-based parser pays). Prints MB/s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "sse_parser.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void make_json(buf *b, size_t target) {
    for (unsigned long i = 0; b->len < target; i++)
        buf_printf(b,
                   "id: %lu\nevent: update\ndata: {\"id\":%lu,\"user\":\"user-%lu\",\"status\":\"active\",\"score\":%lu."
                   "25,\"tags\":[\"alpha\",\"beta\",\"gamma\"],\"message\":\"The quick brown fox jumps over the lazy "
                   "dog \\u00e9 caf\xC3\xA9\",\"nested\":{\"a\":1,\"b\":[1,2,3],\"c\":null,\"d\":true},\"ts\":"
                   "\"2026-11-24T12:00:00.000Z\"}\n\n",
                   i, i, i % 1000, i % 97);
}

static void make_tiny(buf *b, size_t target) {
    for (unsigned long i = 0; b->len < target; i++)
        buf_printf(b, "data: %lu\n\n", i % 10);
}

static void make_llm(buf *b, size_t target) {
    static const char *tokens[] = {"The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", "."};
    for (unsigned long i = 0; b->len < target; i++)
        buf_printf(b,
                   "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
                   "\"delta\":{\"content\":\"%s\"},\"finish_reason\":null}]}\n\n",
                   tokens[i % 10]);
}

static size_t events_seen;
static void on_event(void *ctx, const sse_event *ev) {
    (void)ctx;
    events_seen += ev->data_len > 0;
}

static double parse_rate(const buf *b, size_t chunk, int rounds) {
    sse_parser_handlers h = {.on_event = on_event};
    double best = 0;
    for (int r = 0; r < rounds; r++) {
        sse_parser p;
        sse_parser_init(&p, 0, &h);
        double t0 = now();
        for (size_t pos = 0; pos < b->len; pos += chunk)
            sse_parser_feed(&p, b->data + pos, b->len - pos < chunk ? b->len - pos : chunk);
        sse_parser_finish(&p);
        double rate = (double)b->len / (now() - t0) / 1e6;
        if (rate > best)
            best = rate;
        sse_parser_free(&p);
    }
    return best;
}

static double memchr_rate(const buf *b, int rounds) {
    double best = 0;
    volatile size_t lines = 0;
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        const char *p = b->data, *end = b->data + b->len;
        size_t n = 0;
        while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            p++;
            n++;
        }
        lines = n;
        double rate = (double)b->len / (now() - t0) / 1e6;
        if (rate > best)
            best = rate;
    }
    (void)lines;
    return best;
}

int main(int argc, char **argv) {
    size_t mb = argc > 1 ? (size_t)atoi(argv[1]) : 64;
    struct {
        const char *name;
        void (*make)(buf *, size_t);
    } streams[] = {{"json-payload", make_json}, {"tiny-events", make_tiny}, {"llm-tokens", make_llm}};
    printf("%-14s %10s %12s %14s %14s\n", "stream", "MB", "parse MB/s", "memchr MB/s", "memchr/parse");
    for (size_t i = 0; i < sizeof streams / sizeof streams[0]; i++) {
        buf b = BUF_INIT;
        streams[i].make(&b, mb << 20);
        double parse = parse_rate(&b, 65536, 5);
        double scan = memchr_rate(&b, 5);
        printf("%-14s %10.1f %12.0f %14.0f %14.2f\n", streams[i].name, (double)b.len / 1e6, parse, scan, scan / parse);
        buf_free(&b);
    }
    return 0;
}
