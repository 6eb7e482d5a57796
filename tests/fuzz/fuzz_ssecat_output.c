/* libFuzzer target for ssecat's output formats.
 *
 * The input is parsed as an event stream (as ssecat parses one) and every
 * event, comment and retry value goes through each format. Properties:
 * - json: every line is one valid JSON value and the output is valid UTF-8,
 *   also for events built straight from raw (invalid UTF-8) bytes;
 * - sse: the re-encoded stream parses back to the same events and ids;
 * - pretty with --pretty-json: indented data is still valid JSON.
 */
/* fuzz-sources: cmd/ssecat/output.c cmd/ssecat/json_pretty.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../cmd/ssecat/json_pretty.h"
#include "../../cmd/ssecat/output.h"
#include "sse_parser.h"
#include "utf8.h"

/* A strict RFC 8259 checker, just big enough for this test. */
typedef struct checker {
    const char *s;
    size_t len, pos;
} checker;

static void ws(checker *c) {
    while (c->pos < c->len && (c->s[c->pos] == ' ' || c->s[c->pos] == '\t' || c->s[c->pos] == '\n' ||
                               c->s[c->pos] == '\r'))
        c->pos++;
}

static int lit(checker *c, const char *w) {
    size_t n = strlen(w);
    if (c->len - c->pos < n || memcmp(c->s + c->pos, w, n) != 0)
        return 0;
    c->pos += n;
    return 1;
}

static int hex(char ch) { return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'); }

static int str(checker *c) {
    if (c->pos >= c->len || c->s[c->pos] != '"')
        return 0;
    for (c->pos++; c->pos < c->len; c->pos++) {
        unsigned char ch = (unsigned char)c->s[c->pos];
        if (ch == '"') {
            c->pos++;
            return 1;
        }
        if (ch < 0x20)
            return 0;
        if (ch == '\\') {
            if (++c->pos >= c->len)
                return 0;
            char e = c->s[c->pos];
            if (e == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (c->pos + (size_t)i >= c->len || !hex(c->s[c->pos + (size_t)i]))
                        return 0;
                c->pos += 4;
            } else if (!e || !strchr("\"\\/bfnrt", e)) {
                return 0;
            }
        }
    }
    return 0;
}

static int digits(checker *c) {
    size_t start = c->pos;
    while (c->pos < c->len && c->s[c->pos] >= '0' && c->s[c->pos] <= '9')
        c->pos++;
    return c->pos > start;
}

static int num(checker *c) {
    if (c->pos < c->len && c->s[c->pos] == '-')
        c->pos++;
    if (c->pos < c->len && c->s[c->pos] == '0')
        c->pos++;
    else if (!digits(c))
        return 0;
    if (c->pos < c->len && c->s[c->pos] == '.' && (c->pos++, !digits(c)))
        return 0;
    if (c->pos < c->len && (c->s[c->pos] == 'e' || c->s[c->pos] == 'E')) {
        c->pos++;
        if (c->pos < c->len && (c->s[c->pos] == '+' || c->s[c->pos] == '-'))
            c->pos++;
        if (!digits(c))
            return 0;
    }
    return 1;
}

static int value(checker *c, int depth) {
    if (depth > 200)
        return 0;
    ws(c);
    if (c->pos >= c->len)
        return 0;
    char ch = c->s[c->pos];
    if (ch == '{' || ch == '[') {
        char close = ch == '{' ? '}' : ']';
        c->pos++;
        ws(c);
        if (c->pos < c->len && c->s[c->pos] == close) {
            c->pos++;
            return 1;
        }
        for (;;) {
            ws(c);
            if (close == '}') {
                if (!str(c))
                    return 0;
                ws(c);
                if (c->pos >= c->len || c->s[c->pos++] != ':')
                    return 0;
            }
            if (!value(c, depth + 1))
                return 0;
            ws(c);
            if (c->pos >= c->len)
                return 0;
            if (c->s[c->pos] == close) {
                c->pos++;
                return 1;
            }
            if (c->s[c->pos++] != ',')
                return 0;
        }
    }
    if (ch == '"')
        return str(c);
    if (ch == 't')
        return lit(c, "true");
    if (ch == 'f')
        return lit(c, "false");
    if (ch == 'n')
        return lit(c, "null");
    return num(c);
}

static int valid_json(const char *s, size_t len) {
    checker c = {s, len, 0};
    if (!value(&c, 0))
        return 0;
    ws(&c);
    return c.pos == len;
}

/* Every LF-terminated line of `b` is one valid JSON value; all valid UTF-8. */
static void check_json_lines(const buf *b) {
    if (utf8_valid_prefix(b->data, b->len) != b->len)
        abort();
    size_t pos = 0;
    while (pos < b->len) {
        const char *nl = memchr(b->data + pos, '\n', b->len - pos);
        if (!nl)
            abort(); /* every record ends in a newline */
        size_t end = (size_t)(nl - b->data);
        if (!valid_json(b->data + pos, end - pos))
            abort();
        pos = end + 1;
    }
}

typedef struct recorded {
    buf events; /* type NUL id NUL data NUL, per event */
    size_t count;
} recorded;

static void record(recorded *r, const sse_event *ev) {
    buf_append(&r->events, ev->type, ev->type_len);
    buf_append_char(&r->events, '\0');
    buf_append(&r->events, ev->id, ev->id_len);
    buf_append_char(&r->events, '\0');
    buf_append(&r->events, ev->data, ev->data_len);
    buf_append_char(&r->events, '\0');
    r->count++;
}

typedef struct run_state {
    output json, sse, pretty, template;
    buf json_out, sse_out, pretty_out, template_out;
    recorded seen;
    buf channel; /* the last comment's text, as the next event's channel (as ssecat's sink does) */
    struct timespec now;
} run_state;

static void on_event(void *ctx, const sse_event *ev) {
    run_state *st = ctx;
    record(&st->seen, ev);
    const char *channel = st->channel.len ? st->channel.data : NULL;
    output_event(&st->json, &st->json_out, ev, channel, st->channel.len, &st->now);
    output_event(&st->sse, &st->sse_out, ev, channel, st->channel.len, &st->now);
    output_event(&st->pretty, &st->pretty_out, ev, channel, st->channel.len, &st->now);
    output_event(&st->template, &st->template_out, ev, channel, st->channel.len, &st->now);
    buf_clear(&st->channel);
    /* Data that the pretty printer accepts must come out as valid JSON. */
    buf pretty = BUF_INIT;
    if (json_pretty_append(&pretty, ev->data, ev->data_len, "  ") == 1 && !valid_json(pretty.data, pretty.len))
        abort();
    buf_free(&pretty);
}

static void on_retry(void *ctx, unsigned long long ms) {
    run_state *st = ctx;
    output_retry(&st->json, &st->json_out, ms, &st->now);
    output_retry(&st->pretty, &st->pretty_out, ms, &st->now);
}

static void on_comment(void *ctx, const char *text, size_t len) {
    run_state *st = ctx;
    buf_clear(&st->channel);
    buf_append(&st->channel, text, len);
    output_comment(&st->json, &st->json_out, text, len, &st->now);
    output_comment(&st->pretty, &st->pretty_out, text, len, &st->now);
    output_comment(&st->template, &st->template_out, text, len, &st->now);
}

static void on_reparsed(void *ctx, const sse_event *ev) { record(ctx, ev); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    int flags = data[0];
    data++, size--;
    run_state st;
    memset(&st, 0, sizeof st);
    st.now.tv_sec = (time_t)(flags * 86400LL * 365);
    st.now.tv_nsec = 999999999L;
    output_config cfg = {.comments = 1, .timestamps = flags & 1, .color = (flags >> 1) & 1, .pretty_json = 1};
    cfg.format = OUTPUT_JSON;
    output_init(&st.json, &cfg);
    cfg.format = OUTPUT_SSE;
    cfg.comments = 0; /* so the re-parse sees only events */
    cfg.timestamps = 0;
    output_init(&st.sse, &cfg);
    cfg.comments = 1;
    cfg.format = OUTPUT_PRETTY;
    output_init(&st.pretty, &cfg);
    cfg.format = OUTPUT_TEMPLATE;
    cfg.template = "%t|%i|%d|%I|%U|%j|%%\\n\\t\\e";
    output_init(&st.template, &cfg);

    sse_parser_handlers h = {on_event, on_retry, on_comment, NULL, &st};
    sse_parser p;
    sse_parser_init(&p, 4096, &h);
    sse_parser_feed(&p, (const char *)data, size);
    sse_parser_finish(&p);
    sse_parser_free(&p);

    /* Raw bytes as type, id and data: the JSON must still be valid. */
    size_t third = size / 3;
    sse_event raw = {(const char *)data, third, (const char *)data + 2 * third, size - 2 * third,
                     (const char *)data + third, third, 1};
    output_event(&st.json, &st.json_out, &raw, (const char *)data, size, &st.now);
    output_comment(&st.json, &st.json_out, (const char *)data, size, &st.now);
    check_json_lines(&st.json_out);

    recorded again = {BUF_INIT, 0};
    sse_parser_handlers rh = {on_reparsed, NULL, NULL, NULL, &again};
    sse_parser_init(&p, (size_t)1 << 30, &rh);
    sse_parser_feed(&p, st.sse_out.data ? st.sse_out.data : "", st.sse_out.len);
    sse_parser_finish(&p);
    sse_parser_free(&p);
    if (again.count != st.seen.count || again.events.len != st.seen.events.len ||
        (again.events.len && memcmp(again.events.data, st.seen.events.data, again.events.len) != 0))
        abort(); /* the sse format must carry the same events */

    buf_free(&again.events);
    buf_free(&st.seen.events);
    buf_free(&st.json_out);
    buf_free(&st.sse_out);
    buf_free(&st.pretty_out);
    buf_free(&st.template_out);
    buf_free(&st.channel);
    output_free(&st.json);
    output_free(&st.sse);
    output_free(&st.pretty);
    output_free(&st.template);
    return 0;
}
