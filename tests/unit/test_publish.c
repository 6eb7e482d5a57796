/* The publish body decoder against a real hub: each body type and framing
 * gives the same events whatever the chunking, limits are exact, bodies
 * that end inside an event fail; and the dedup table that makes resends
 * exactly-once. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "dedup.h"
#include "hub.h"
#include "publish.h"

typedef struct body_case {
    const char *name;
    enum body_kind kind;
    int chunked;
    size_t max_event_size;
    const char *body;
    int want_rc;       /* PUBLISH_DONE or PUBLISH_FAILED */
    int want_status;   /* when failed */
    const char *want;  /* the events' wire bytes, in order */
} body_case;

static const body_case body_cases[] = {
    {"publish body: lines, LF and CRLF, a last line without newline", BODY_LINES, 0, 100, "a\nb\r\nc", PUBLISH_DONE, 0,
     "id: 1\ndata: a\n\nid: 2\ndata: b\n\nid: 3\ndata: c\n\n"},
    {"publish body: an empty line is an event with empty data", BODY_LINES, 0, 100, "a\n\nb\n", PUBLISH_DONE, 0,
     "id: 1\ndata: a\n\nid: 2\ndata:\n\nid: 3\ndata: b\n\n"},
    {"publish body: a line one byte over the limit fails with 413", BODY_LINES, 0, 5, "12345\n123456\n", PUBLISH_FAILED,
     413, "id: 1\ndata: 12345\n\n"},
    {"publish body: a line at the limit plus CR is taken", BODY_LINES, 0, 5, "12345\r\n", PUBLISH_DONE, 0,
     "id: 1\ndata: 12345\n\n"},
    {"publish body: an event stream keeps type, id and data", BODY_SSE, 0, 100,
     "event: deploy\nid: v2\ndata: one\ndata: two\n\ndata: three\n\n", PUBLISH_DONE, 0,
     "event: deploy\nid: v2\ndata: one\ndata: two\n\nid: 1\ndata: three\n\n"},
    {"publish body: an event stream that ends inside an event fails with 400", BODY_SSE, 0, 100, "data: a\n\ndata: b\n",
     PUBLISH_FAILED, 400, "id: 1\ndata: a\n\n"},
    {"publish body: a whole body is one event, line breaks and all", BODY_WHOLE, 0, 100, "{\"a\":\n1}", PUBLISH_DONE, 0,
     "id: 1\ndata: {\"a\":\ndata: 1}\n\n"},
    {"publish body: a whole body over the limit fails with 413", BODY_WHOLE, 0, 4, "12345", PUBLISH_FAILED, 413, ""},
    {"publish body: chunked lines", BODY_LINES, 1, 100, "3\r\nab\n\r\n2\r\ncd\r\n0\r\n\r\n", PUBLISH_DONE, 0,
     "id: 1\ndata: ab\n\nid: 2\ndata: cd\n\n"},
    {"publish body: bad chunked framing fails with 400", BODY_LINES, 1, 100, "3\r\nab\nXX", PUBLISH_FAILED, 400,
     "id: 1\ndata: ab\n\n"},
};

/* Numbers ids 1, 2, 3... instead of the clock, so the wire bytes are known. */
static void renumber(buf *out, const char *wire, size_t len, unsigned *next) {
    const char *id = strstr(wire, "id: ");
    if (id && (size_t)(id - wire) < len && id[4] >= '1' && id[4] <= '9' && strchr(id, '\n') - id > 10) {
        buf_append(out, wire, (size_t)(id - wire));
        buf_printf(out, "id: %u", (*next)++);
        const char *eol = strchr(id, '\n');
        buf_append(out, eol, len - (size_t)(eol - wire));
        return;
    }
    buf_append(out, wire, len);
}

/* Feed the body in pieces of `step` bytes; the events reach a live
 * subscriber of the channel. */
static int run_body(const body_case *c, size_t step, buf *events, int *status) {
    hub h;
    hub_limits limits = {100, 0, 1 << 20, 10, 10};
    hub_init(&h, &limits);
    channel *sub_ch = hub_channel_acquire(&h, "t", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    subscriber_attach(&h.subs, s, &sub_ch, 1);
    subscriber_resume(&h.subs, s, NULL, 0, 0, NULL, NULL);
    channel *ch = hub_channel_acquire(&h, "t", 1, HUB_FOR_PUBLISHING);
    size_t len = strlen(c->body);
    publish_request *p = publish_start(&h, ch, c->max_event_size, c->kind, c->chunked, c->chunked ? 0 : len);
    int rc = PUBLISH_MORE;
    for (size_t pos = 0; rc == PUBLISH_MORE && pos <= len;) {
        size_t take = len - pos < step ? len - pos : step, used;
        rc = publish_feed(p, c->body + pos, take, &used);
        pos += used;
        if (take == 0)
            break;
    }
    *status = p->status;
    publish_free(p);
    unsigned next = 1;
    for (size_t i = 0; i < s->q_len; i++) {
        shared_event *e = s->queue[(s->q_head + i) & (s->q_cap - 1)];
        renumber(events, e->bytes, e->len, &next);
    }
    subscriber_detach(&h.subs, s);
    free(s);
    hub_free(&h);
    return rc;
}

static void check_body(const void *arg) {
    const body_case *c = arg;
    size_t len = strlen(c->body);
    for (size_t step = 1; step <= len; step++) {
        buf events = BUF_INIT;
        int status;
        int rc = run_body(c, step, &events, &status);
        buf_append_char(&events, '\0');
        if (rc != c->want_rc || (rc == PUBLISH_FAILED && status != c->want_status) ||
            strcmp(events.data, c->want) != 0) {
            harness_fail(__FILE__, __LINE__, "step %zu: rc %d status %d events \"%s\"", step, rc, status,
                         events.data);
            buf_free(&events);
            return;
        }
        buf_free(&events);
    }
}

/* Sessions resume where they were; many sessions evict the least recently
 * used, never a recent one. */
static void check_dedup(const void *arg) {
    (void)arg;
    dedup_table *t = calloc(1, sizeof *t);
    CHECK(dedup_next(t, 0xabc) == 0);
    dedup_published(t, 0xabc, 0);
    dedup_published(t, 0xabc, 1);
    CHECK(dedup_next(t, 0xabc) == 2);
    dedup_published(t, 0xabc, 0); /* a resend never moves it back */
    CHECK(dedup_next(t, 0xabc) == 2);
    for (uint64_t session = 1; session <= 3 * DEDUP_SESSIONS; session++) {
        dedup_published(t, session + 0x100000, 5);
        dedup_published(t, 0xabc, 2); /* kept in use */
    }
    CHECK(dedup_next(t, 0xabc) == 3);
    CHECK(dedup_next(t, 3 * DEDUP_SESSIONS + 0x100000) == 6);
    free(t);
}

void publish_tests_register(void) {
    for (size_t i = 0; i < sizeof body_cases / sizeof body_cases[0]; i++)
        harness_add(body_cases[i].name, check_body, &body_cases[i]);
    harness_add("dedup: sessions resume where they were; the least recently used are forgotten", check_dedup, NULL);
}
