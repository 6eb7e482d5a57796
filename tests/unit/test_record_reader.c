/* The record reader: lines and NUL records, CRLF, a last record without a
 * separator, oversized records skipped and reported; split invariance. */
#include <string.h>

#include "harness.h"
#include "record_reader.h"

typedef struct record_case {
    const char *name;
    const char *input;
    size_t len;
    char separator;
    size_t max;
    const char *want;
} record_case;

static const record_case cases[] = {
    {"records: lines", "a\nbb\n\nccc", 9, '\n', 100, "[a][bb][][ccc]"},
    {"records: CRLF loses its CR, a lone CR stays", "a\r\nb\rc\n", 7, '\n', 100, "[a][b\rc]"},
    {"records: NUL-terminated keep newlines", "x\ny\0z\0", 6, '\0', 100, "[x\ny][z]"},
    {"records: oversized line skipped and reported", "ok\n0123456789abc\nfine\n", 22, '\n', 5,
     "[ok](oversize 13)[fine]"},
    {"records: oversized last record reported at the end", "ok\n0123456789", 13, '\n', 5, "[ok](oversize 10)"},
    {"records: a line at the limit plus CR is kept", "12345\r\n", 7, '\n', 5, "[12345]"},
    {"records: a line one byte over the limit (not a CR) is skipped", "123456\nok\n", 10, '\n', 5,
     "(oversize 6)[ok]"},
    {"records: a last line one byte over the limit is skipped", "123456", 6, '\n', 5, "(oversize 6)"},
};

static void on_record(void *ctx, const char *rec, size_t len) {
    buf *out = ctx;
    buf_append_char(out, '[');
    buf_append(out, rec, len);
    buf_append_char(out, ']');
}

static void on_oversize(void *ctx, size_t bytes) { buf_printf(ctx, "(oversize %zu)", bytes); }

static void run(buf *out, const record_case *c, size_t chunk) {
    buf_clear(out);
    record_reader r;
    record_reader_init(&r, c->separator, c->max, on_record, on_oversize, out);
    for (size_t pos = 0; pos < c->len; pos += chunk)
        CHECK(record_reader_feed(&r, c->input + pos, c->len - pos < chunk ? c->len - pos : chunk) == 0);
    record_reader_finish(&r);
    record_reader_free(&r);
    buf_append_char(out, '\0');
}

static void check_records(const void *arg) {
    const record_case *c = arg;
    buf out = BUF_INIT;
    for (size_t chunk = 1; chunk <= c->len; chunk++) {
        run(&out, c, chunk);
        if (strcmp(out.data, c->want) != 0) {
            harness_fail(__FILE__, __LINE__, "chunk %zu: got \"%s\" want \"%s\"", chunk, out.data, c->want);
            break;
        }
    }
    buf_free(&out);
}

void record_reader_tests_register(void) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        harness_add(cases[i].name, check_records, &cases[i]);
}
