/* Message envelopes for the viewer page: EventSource delivers named events
 * only to listeners of that name, and a page cannot know every name ahead,
 * so its stream carries each event as a `message` holding the real type. */
#include <stdint.h>
#include <string.h>

#include "hub.h"
#include "json.h"
#include "sse_parser.h"

typedef struct parsed {
    buf type, id, data;
    int has_event, has_id;
    long long retry_ms;
} parsed;

static void keep_event(void *ctx, const sse_event *ev) {
    parsed *p = ctx;
    p->has_event = 1;
    buf_append(&p->type, ev->type, ev->type_len);
    buf_append(&p->data, ev->data, ev->data_len);
    if (ev->id_in_event) {
        p->has_id = 1;
        buf_append(&p->id, ev->id, ev->id_len);
    }
}

static void keep_retry(void *ctx, unsigned long long ms) {
    ((parsed *)ctx)->retry_ms = ms > (unsigned long long)INT64_MAX ? INT64_MAX : (long long)ms;
}

shared_event *shared_event_envelope(shared_event *e) {
    if (e->envelope)
        return e->envelope;
    /* The bytes are ours and well formed: parse them back once. */
    parsed p = {BUF_INIT, BUF_INIT, BUF_INIT, 0, 0, -1};
    sse_parser_handlers h = {.on_event = keep_event, .on_retry = keep_retry, .ctx = &p};
    sse_parser parser;
    sse_parser_init(&parser, e->len + 16, &h);
    sse_parser_feed(&parser, e->bytes, e->len);
    sse_parser_finish(&parser);
    sse_parser_free(&parser);
    shared_event *env = e;
    if (p.has_event) {
        buf json = BUF_INIT;
        int rc = buf_append_str(&json, "{\"type\":") | json_append_string(&json, p.type.data, p.type.len) |
                 buf_append_str(&json, ",\"data\":") | json_append_string(&json, p.data.data, p.data.len) |
                 buf_append_char(&json, '}');
        sse_out_event out = {NULL, 0, p.id.data, p.id.len, p.has_id, json.data, json.len, p.retry_ms};
        env = rc == 0 ? shared_event_new(&out, &rc) : NULL;
        buf_free(&json);
    }
    buf_free(&p.type);
    buf_free(&p.id);
    buf_free(&p.data);
    if (!env)
        return NULL;
    e->envelope = env;
    return env;
}
