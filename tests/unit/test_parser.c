/* The spec's rules for interpreting an event stream, one named case each;
 * every case is also re-run split at every byte offset and byte by byte. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "sse_parser.h"
#include "transcript.h"

#define FFFD "\xEF\xBF\xBD"

typedef struct spec_case {
    const char *name;
    const char *input;
    size_t len; /* 0: strlen(input) */
    const char *want;
    size_t max_event_size; /* 0: the default */
} spec_case;

#define BYTES(s) s, sizeof(s) - 1

static const spec_case spec_cases[] = {
    {"one event dispatched by a blank line", "data: hello\n\n", 0, "{message||hello}", 0},
    {"type defaults to message", "data: x\n\n", 0, "{message||x}", 0},
    {"event field names the type", "event: deploy\ndata: v2\n\n", 0, "{deploy||v2}", 0},
    {"data lines are joined with LF", "data: a\ndata: b\ndata: c\n\n", 0, "{message||a\\nb\\nc}", 0},
    {"only the last LF is removed", "data: a\ndata:\n\n", 0, "{message||a\\n}", 0},
    {"empty data line still dispatches", "data:\n\n", 0, "{message||}", 0},
    {"leading BOM is skipped", "\xEF\xBB\xBF" "data: a\n\n", 0, "{message||a}", 0},
    {"BOM is skipped only once", "\xEF\xBB\xBF" "data: a\n\n\xEF\xBB\xBF" "data: b\n\n", 0, "{message||a}", 0},
    {"BOM alone is a blank line", "\xEF\xBB\xBF\ndata: a\n\n", 0, "{message||a}", 0},
    {"LF ends a line", "data: a\ndata: b\n\n", 0, "{message||a\\nb}", 0},
    {"CR ends a line", "data: a\rdata: b\r\r", 0, "{message||a\\nb}", 0},
    {"CRLF ends a line", "data: a\r\ndata: b\r\n\r\n", 0, "{message||a\\nb}", 0},
    {"mixed line ends", "data: a\rdata: b\r\ndata: c\n\r\n", 0, "{message||a\\nb\\nc}", 0},
    {"CR then LF is one line end, CR CR is two", "data: a\r\r\ndata: b\r\n\r\n", 0, "{message||a}{message||b}", 0},
    {"field without colon has an empty value", "data\n\n", 0, "{message||}", 0},
    {"event without colon resets the type", "event: a\nevent\ndata: x\n\n", 0, "{message||x}", 0},
    {"one space after the colon is removed", "data: x\n\n", 0, "{message||x}", 0},
    {"only one space is removed", "data:  two\n\n", 0, "{message|| two}", 0},
    {"no space after the colon", "data:x\n\n", 0, "{message||x}", 0},
    {"a tab after the colon is kept", "data:\tx\n\n", 0, "{message||\\x09x}", 0},
    {"colons in the value are kept", "data: a:b: c\n\n", 0, "{message||a:b: c}", 0},
    {"field names are case-sensitive", "Data: x\n\nDATA: y\n\nEvent: e\ndata: z\n\n", 0, "{message||z}", 0},
    {"unknown fields are ignored", "foo: bar\ndata: x\nbaz\n\n", 0, "{message||x}", 0},
    {"leading space makes an unknown field", " data: x\n\n", 0, "", 0},
    {"comment line", ": hello\n\n", 0, "comment=hello;", 0},
    {"empty comment", ":\n", 0, "comment=;", 0},
    {"comment inside an event", "data: a\n: keep-alive\ndata: b\n\n", 0, "comment=keep-alive;{message||a\\nb}", 0},
    {"id sets the last event ID", "id: 1\ndata: a\n\n", 0, "{message|1|a}last=1;", 0},
    {"last event ID persists across events", "id: 1\ndata: a\n\ndata: b\n\n", 0, "{message|1|a}{message|1|b}last=1;", 0},
    {"id containing NUL is ignored", BYTES("id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n"), "{message|1|a}{message|1|b}last=1;", 0},
    {"empty id resets the last event ID", "id: 1\ndata: a\n\nid\ndata: b\n\n", 0, "{message|1|a}{message||b}", 0},
    {"id with colon and empty value resets", "id: 1\ndata: a\n\nid:\ndata: b\n\n", 0, "{message|1|a}{message||b}", 0},
    {"event with no data is not dispatched", "event: x\n\n", 0, "", 0},
    {"event with no data still updates the id", "id: 7\n\ndata: x\n\n", 0, "{message|7|x}last=7;", 0},
    {"a blank line sets the last event ID without an event", "id: 7\n\n", 0, "last=7;", 0},
    {"the id of an event cut off by the end does not count", "id: 1\ndata: a\n\nid: 2\ndata: b", 0,
     "{message|1|a}last=1;", 0},
    {"an id after the last blank line does not count", "retry:1000\ndata:test1\n\nid:test\ndata:test2\n", 0,
     "retry=1000;{message||test1}", 0},
    {"the last of several ids in one event counts", "id: 1\nid: 2\ndata: a\n\n", 0, "{message|2|a}last=2;", 0},
    {"an id before an oversized event counts at its blank line", "id: 3\ndata: 0123456789ABC\n\n", 0,
     "oversize=20;last=3;", 10},
    {"type does not leak into the next event", "event: a\ndata: 1\n\ndata: 2\n\n", 0, "{a||1}{message||2}", 0},
    {"type of an undispatched event is dropped", "event: a\n\ndata: 2\n\n", 0, "{message||2}", 0},
    {"retry with digits", "retry: 1500\n", 0, "retry=1500;", 0},
    {"retry with zero", "retry: 0\n", 0, "retry=0;", 0},
    {"retry with a fraction is ignored", "retry: 1.5\n", 0, "", 0},
    {"retry with a sign is ignored", "retry: -1\nretry: +1\n", 0, "", 0},
    {"retry with letters is ignored", "retry: 10s\nretry: abc\n", 0, "", 0},
    {"empty retry is ignored", "retry:\nretry\n", 0, "", 0},
    {"retry of 2^64 or more clamps", "retry: 18446744073709551615\nretry: 18446744073709551616\n", 0,
     "retry=18446744073709551615;retry=18446744073709551615;", 0},
    {"a huge retry replaces an earlier one", "retry: 200\nretry: 99999999999999999999\n", 0,
     "retry=200;retry=18446744073709551615;", 0},
    {"a huge retry with a letter is ignored", "retry: 99999999999999999999x\n", 0, "", 0},
    {"retry does not dispatch", "retry: 5\ndata: x\n\n", 0, "retry=5;{message||x}", 0},
    {"incomplete event at end is discarded", "data: a\n", 0, "", 0},
    {"unterminated last line is discarded", "data: a\n\ndata: b", 0, "{message||a}", 0},
    {"repeated blank lines dispatch once", "data: a\n\n\n\n", 0, "{message||a}", 0},
    {"several events in one feed", "data: 1\n\ndata: 2\n\nevent: t\ndata: 3\n\n", 0, "{message||1}{message||2}{t||3}", 0},
    {"NUL in data is kept", BYTES("data: a\0b\n\n"), "{message||a\\x00b}", 0},
    {"valid UTF-8 is kept", "data: h\xC3\xA9llo \xF0\x9F\x98\x80\n\n", 0, "{message||h\xC3\xA9llo \xF0\x9F\x98\x80}", 0},
    {"invalid bytes become U+FFFD", "data: \xFF\xFE\n\n", 0, "{message||" FFFD FFFD "}", 0},
    {"overlong encoding becomes U+FFFD", "data: \xC0\xAF\n\n", 0, "{message||" FFFD FFFD "}", 0},
    {"truncated sequence is one U+FFFD", "data: \xE2\x82\n\n", 0, "{message||" FFFD "}", 0},
    {"truncated sequence before ASCII", "data: \xE2\x82x\n\n", 0, "{message||" FFFD "x}", 0},
    {"surrogate becomes U+FFFD per byte", "data: \xED\xA0\x80\n\n", 0, "{message||" FFFD FFFD FFFD "}", 0},
    {"above U+10FFFF becomes U+FFFD", "data: \xF4\x90\x80\x80\n\n", 0, "{message||" FFFD FFFD FFFD FFFD "}", 0},
    {"lone continuation byte", "data: a\x80z\n\n", 0, "{message||a" FFFD "z}", 0},
    {"invalid UTF-8 in type and id", "event: \xFF\nid: \xFE\ndata: x\n\n", 0, "{" FFFD "|" FFFD "|x}last=" FFFD ";", 0},
    {"invalid UTF-8 in a comment", ": \xC3\n", 0, "comment=" FFFD ";", 0},
    {"oversized event is dropped and reported", "data: 0123456789ABC\n\ndata: ok\n\n", 0, "oversize=20;{message||ok}",
     10},
    {"oversized over several lines", "event: big\ndata: 123456\ndata: 789012\n\ndata: ok\n\n", 0,
     "oversize=20;{message||ok}", 10},
    {"oversized line is dropped", "data: 0123456789012345678901234567890\nid: 5\n\ndata: ok\n\n", 0,
     "oversize=44;{message||ok}", 10},
    {"oversized event at end of input is reported", "data: 0123456789012345678901234567890", 0, "oversize=37;", 10},
    {"event at the size limit is kept", "data: 012345678\n\n", 0, "{message||012345678}", 10},
};

static void check_case(const void *arg) {
    const spec_case *c = arg;
    size_t len = c->len ? c->len : strlen(c->input);
    buf got = BUF_INIT;
    transcript_parse(&got, c->input, len, 0, 0, c->max_event_size);
    if (strcmp(got.data, c->want) != 0)
        harness_fail(__FILE__, __LINE__, "%s\n#   got  \"%s\"\n#   want \"%s\"", c->name, got.data, c->want);
    for (size_t cut = 1; cut < len; cut++) {
        transcript_parse(&got, c->input, len, 0, cut, c->max_event_size);
        if (strcmp(got.data, c->want) != 0) {
            harness_fail(__FILE__, __LINE__, "%s, split at %zu\n#   got  \"%s\"\n#   want \"%s\"", c->name, cut, got.data,
                         c->want);
            break;
        }
    }
    transcript_parse(&got, c->input, len, 1, 0, c->max_event_size);
    if (strcmp(got.data, c->want) != 0)
        harness_fail(__FILE__, __LINE__, "%s, byte by byte\n#   got  \"%s\"\n#   want \"%s\"", c->name, got.data, c->want);
    buf_free(&got);
}

static void capture_id(void *ctx, const sse_event *ev) {
    buf *b = ctx;
    buf_clear(b);
    buf_append(b, ev->id, ev->id_len);
    buf_append_char(b, '\0');
}

/* An id cut off by the end of a stream is not the next stream's either:
 * the last event ID buffer reverts to the last dispatched id. */
static void cut_off_id_not_carried(const void *arg) {
    (void)arg;
    buf seen = BUF_INIT;
    sse_parser_handlers h = {.on_event = capture_id, .ctx = &seen};
    sse_parser p;
    sse_parser_init(&p, 0, &h);
    const char *first = "id: 1\ndata: a\n\nid: 2\ndata: b";
    sse_parser_feed(&p, first, strlen(first));
    sse_parser_finish(&p);
    sse_parser_feed(&p, "data: c\n\n", 9);
    CHECK_STR(seen.data, "1");
    size_t len;
    const char *id = sse_parser_last_id(&p, &len);
    CHECK(len == 1 && id[0] == '1');
    sse_parser_free(&p);
    buf_free(&seen);
}

/* What a recorder sees: events, retries, comments with their space kept,
 * and every blank line, in order. */
static void note_event(void *ctx, const sse_event *ev) {
    buf_append_char(ctx, 'E');
    buf_append(ctx, ev->data, ev->data_len);
}
static void note_retry(void *ctx, unsigned long long ms) { buf_printf(ctx, "R%llu", ms); }
static void note_comment(void *ctx, const char *text, size_t len) {
    buf_append_char(ctx, 'C');
    buf_append(ctx, text, len);
    buf_append_char(ctx, '|');
}
static void note_blank(void *ctx) { buf_append_char(ctx, '/'); }

static void blank_lines_and_kept_spaces(const void *arg) {
    (void)arg;
    buf seen = BUF_INIT;
    sse_parser_handlers h = {note_event, note_retry, note_comment, NULL, &seen};
    sse_parser p;
    sse_parser_init(&p, 8, &h);
    sse_parser_record_blocks(&p, note_blank);
    const char *in = "retry: 5\n\n:ping\n: pong\ndata: a\n\nid: 1\n\nretry: 7\ndata: too long here\n\n";
    sse_parser_feed(&p, in, strlen(in));
    buf_append_char(&seen, '\0');
    CHECK_STR(seen.data, "R5/Cping|C pong|Ea//R7/");
    sse_parser_free(&p);
    buf_free(&seen);
}

void parser_tests_register(void) {
    harness_add("parser: blank lines reported, comments kept whole on request", blank_lines_and_kept_spaces, NULL);
    harness_add("parser: an id cut off by the end of a stream is not carried on", cut_off_id_not_carried, NULL);
    for (size_t i = 0; i < sizeof spec_cases / sizeof spec_cases[0]; i++)
        harness_add(spec_cases[i].name, check_case, &spec_cases[i]);
}
