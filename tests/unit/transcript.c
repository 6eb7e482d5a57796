#include "transcript.h"

#include <stdio.h>

#include "sse_parser.h"

static void render(buf *out, const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n')
            buf_append_str(out, "\\n");
        else if (c == '\r')
            buf_append_str(out, "\\r");
        else if (c < 0x20)
            buf_printf(out, "\\x%02x", c);
        else
            buf_append_char(out, (char)c);
    }
}

static void on_event(void *ctx, const sse_event *ev) {
    buf *out = ctx;
    buf_append_str(out, "{");
    render(out, ev->type, ev->type_len);
    buf_append_str(out, "|");
    render(out, ev->id, ev->id_len);
    buf_append_str(out, "|");
    render(out, ev->data, ev->data_len);
    buf_append_str(out, "}");
}

static void on_retry(void *ctx, unsigned long long ms) { buf_printf(ctx, "retry=%llu;", ms); }

static void on_comment(void *ctx, const char *text, size_t len) {
    buf_append_str(ctx, "comment=");
    render(ctx, text, len);
    buf_append_str(ctx, ";");
}

static void on_oversize(void *ctx, size_t bytes) { buf_printf(ctx, "oversize=%zu;", bytes); }

void transcript_parse(buf *out, const char *input, size_t len, size_t chunk, size_t split_at, size_t max_event_size) {
    sse_parser_handlers h = {on_event, on_retry, on_comment, on_oversize, out};
    sse_parser p;
    sse_parser_init(&p, max_event_size, &h);
    buf_clear(out);
    if (chunk == 0 && split_at > 0) {
        sse_parser_feed(&p, input, split_at);
        sse_parser_feed(&p, input + split_at, len - split_at);
    } else if (chunk == 0) {
        sse_parser_feed(&p, input, len);
    } else {
        for (size_t pos = 0; pos < len; pos += chunk)
            sse_parser_feed(&p, input + pos, len - pos < chunk ? len - pos : chunk);
    }
    sse_parser_finish(&p);
    size_t id_len;
    const char *id = sse_parser_last_id(&p, &id_len);
    if (id_len > 0) {
        buf_append_str(out, "last=");
        render(out, id, id_len);
        buf_append_str(out, ";");
    }
    sse_parser_free(&p);
    buf_append_char(out, '\0');
}
