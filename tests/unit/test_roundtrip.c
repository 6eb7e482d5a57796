/* Properties: random events survive encode then parse unchanged (CR and
 * CRLF in data coming back as LF), fed in random chunk sizes; the last event
 * ID outlives a stream; memory stays bounded on an endless oversized line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sse_encode.h"
#include "sse_parser.h"

/* xorshift64*: a seeded generator, so a failure reproduces. */
static uint64_t rng_state;
static uint64_t rng_next(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}
static size_t rng_below(size_t n) { return (size_t)(rng_next() % n); }

static const char *const pieces[] = {"a", "Z", "0", " ", ":", "{\"k\": 1}", "\xC3\xA9", "\xE2\x82\xAC",
                                     "\xF0\x9F\x98\x80", "\t", "data: ", "\n", "\r", "\r\n", "id", "\\"};

/* Random text from pieces; with_breaks allows CR and LF. */
static void random_text(buf *out, size_t max_pieces, int with_breaks) {
    buf_clear(out);
    size_t n = rng_below(max_pieces + 1);
    for (size_t i = 0; i < n; i++) {
        const char *p = pieces[rng_below(sizeof pieces / sizeof pieces[0])];
        if (!with_breaks && strpbrk(p, "\r\n"))
            continue;
        buf_append_str(out, p);
    }
}

/* What a client sees for data: every CRLF and CR becomes LF. */
static void normalise_breaks(buf *out, const char *s, size_t len) {
    buf_clear(out);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\r') {
            buf_append_char(out, '\n');
            if (i + 1 < len && s[i + 1] == '\n')
                i++;
        } else {
            buf_append_char(out, s[i]);
        }
    }
}

typedef struct expected_event {
    buf type, id, data;
} expected_event;

typedef struct roundtrip_state {
    expected_event *want;
    size_t count, next;
    int mismatches;
} roundtrip_state;

/* memcmp with a NULL pointer is undefined even for length 0 (UBSan says so). */
static int same(const buf *b, const char *s, size_t len) { return b->len == len && (len == 0 || memcmp(b->data, s, len) == 0); }

static void on_event(void *ctx, const sse_event *ev) {
    roundtrip_state *st = ctx;
    if (st->next >= st->count) {
        st->mismatches++;
        return;
    }
    expected_event *w = &st->want[st->next++];
    if (!same(&w->type, ev->type, ev->type_len) || !same(&w->id, ev->id, ev->id_len) ||
        !same(&w->data, ev->data, ev->data_len))
        st->mismatches++;
}

static void encode_parse_roundtrip(const void *arg) {
    (void)arg;
    enum { EVENTS = 5000 };
    rng_state = UINT64_C(0x5eed5eed5eed5eed);
    expected_event *want = calloc(EVENTS, sizeof *want);
    buf stream = BUF_INIT, type = BUF_INIT, id = BUF_INIT, data = BUF_INIT, last_id = BUF_INIT;
    for (size_t i = 0; i < EVENTS; i++) {
        random_text(&type, 3, 0);
        int has_id = rng_below(3) == 0;
        random_text(&id, 3, 0);
        random_text(&data, 12, 1);
        sse_out_event ev = {type.data, type.len, id.data, id.len, has_id, data.data, data.len, -1};
        CHECK(sse_encode_event(&stream, &ev) == SSE_ENCODE_OK);
        if (has_id) {
            buf_clear(&last_id);
            buf_append(&last_id, id.data, id.len);
        }
        if (type.len)
            buf_append(&want[i].type, type.data, type.len);
        else
            buf_append_str(&want[i].type, "message");
        buf_append(&want[i].id, last_id.data, last_id.len);
        normalise_breaks(&want[i].data, data.data, data.len);
    }
    roundtrip_state st = {want, EVENTS, 0, 0};
    sse_parser_handlers h = {.on_event = on_event, .ctx = &st};
    sse_parser p;
    sse_parser_init(&p, 0, &h);
    for (size_t pos = 0; pos < stream.len;) {
        size_t n = 1 + rng_below(64);
        if (n > stream.len - pos)
            n = stream.len - pos;
        CHECK(sse_parser_feed(&p, stream.data + pos, n) == 0);
        pos += n;
    }
    sse_parser_finish(&p);
    CHECK(st.next == EVENTS);
    CHECK(st.mismatches == 0);
    sse_parser_free(&p);
    for (size_t i = 0; i < EVENTS; i++) {
        buf_free(&want[i].type);
        buf_free(&want[i].id);
        buf_free(&want[i].data);
    }
    free(want);
    buf_free(&stream);
    buf_free(&type);
    buf_free(&id);
    buf_free(&data);
    buf_free(&last_id);
}

static void capture_id(void *ctx, const sse_event *ev) {
    buf *b = ctx;
    buf_clear(b);
    buf_append(b, ev->id, ev->id_len);
    buf_append_char(b, '\0');
}

static void last_id_outlives_stream(const void *arg) {
    (void)arg;
    buf seen = BUF_INIT;
    sse_parser_handlers h = {.on_event = capture_id, .ctx = &seen};
    sse_parser p;
    sse_parser_init(&p, 0, &h);
    CHECK(sse_parser_set_last_id(&p, "seed", 4) == 0);
    sse_parser_feed(&p, "data: a\n\n", 9);
    CHECK_STR(seen.data, "seed");
    sse_parser_feed(&p, "id: 9\ndata: b\n\ndata: half", 25);
    sse_parser_finish(&p);
    sse_parser_feed(&p, "data: c\n\n", 9);
    CHECK_STR(seen.data, "9");
    sse_parser_free(&p);
    buf_free(&seen);
}

static void count_oversize(void *ctx, size_t bytes) {
    (void)bytes;
    ++*(int *)ctx;
}

static void memory_bounded_on_endless_line(const void *arg) {
    (void)arg;
    int reports = 0;
    sse_parser_handlers h = {.on_oversize = count_oversize, .ctx = &reports};
    sse_parser p;
    sse_parser_init(&p, 4096, &h);
    char chunk[1000];
    memset(chunk, 'x', sizeof chunk);
    memcpy(chunk, "data: ", 6);
    for (int i = 0; i < 10000; i++)
        CHECK(sse_parser_feed(&p, chunk, sizeof chunk) == 0);
    CHECK(p.line.cap <= 2 * (4096 + 64));
    CHECK(p.data.cap <= 2 * 4096);
    sse_parser_feed(&p, "\n\n", 2);
    CHECK(reports == 1);
    sse_parser_free(&p);
}

void roundtrip_tests_register(void) {
    harness_add("property: 5000 random events survive encode then parse in random chunks", encode_parse_roundtrip,
                NULL);
    harness_add("parser: last event ID is seeded and outlives a stream", last_id_outlives_stream, NULL);
    harness_add("parser: memory stays bounded on an endless line", memory_bounded_on_endless_line, NULL);
}
