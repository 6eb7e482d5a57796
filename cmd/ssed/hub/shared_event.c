#include "shared_event.h"

#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "json.h"
#include "sse_parser.h"
#include "utf8.h"

int event_id_parse_number(const char *s, size_t len, uint64_t *out) {
    return digits_parse_decimal(s, len, 19, out) == 0;
}

static shared_event *shared_event_alloc(size_t wire_len, size_t id_len) {
    shared_event *e = malloc(sizeof *e + wire_len + id_len + 1);
    if (!e)
        return NULL;
    memset(e, 0, sizeof *e);
    e->refs = 1;
    e->len = wire_len;
    return e;
}

shared_event *shared_event_new(const sse_out_event *ev, int *rc) {
    buf wire = BUF_INIT, id = BUF_INIT;
    *rc = sse_encode_event(&wire, ev);
    /* The id is kept as clients will see it: invalid UTF-8 repaired as the
     * encoder repairs it, so a Last-Event-ID they send back matches. */
    if (*rc == SSE_ENCODE_OK && ev->has_id && utf8_sanitize_append(&id, ev->id, ev->id_len) < 0)
        *rc = SSE_ENCODE_NOMEM;
    shared_event *e = *rc == SSE_ENCODE_OK ? shared_event_alloc(wire.len, id.len) : NULL;
    if (!e && *rc == SSE_ENCODE_OK)
        *rc = SSE_ENCODE_NOMEM;
    if (e) {
        memcpy(e->bytes, wire.data, wire.len);
        char *id_copy = e->bytes + wire.len;
        if (id.len)
            memcpy(id_copy, id.data, id.len);
        id_copy[id.len] = '\0';
        e->id = id_copy;
        e->id_len = id.len;
        e->id_is_number = event_id_parse_number(id_copy, id.len, &e->id_number);
    }
    buf_free(&wire);
    buf_free(&id);
    return e;
}

shared_event *shared_event_raw(const char *bytes, size_t len) {
    shared_event *e = shared_event_alloc(len, 0);
    if (!e)
        return NULL;
    memcpy(e->bytes, bytes, len);
    e->bytes[len] = '\0';
    e->id = e->bytes + len;
    return e;
}

shared_event *shared_event_restore(const char *bytes, size_t len, const char *id, size_t id_len) {
    shared_event *e = shared_event_alloc(len, id_len);
    if (!e)
        return NULL;
    memcpy(e->bytes, bytes, len);
    char *id_copy = e->bytes + len;
    if (id_len)
        memcpy(id_copy, id, id_len);
    id_copy[id_len] = '\0';
    e->id = id_copy;
    e->id_len = id_len;
    e->id_is_number = event_id_parse_number(id_copy, id_len, &e->id_number);
    return e;
}

void shared_event_unref(shared_event *e) {
    if (--e->refs == 0) {
        if (e->envelope && e->envelope != e)
            shared_event_unref(e->envelope);
        if (e->tagged)
            shared_event_unref(e->tagged);
        free(e);
    }
}

/* One allocation, as for an event: the comment line, then the event's own
 * bytes, so a queue writes it as any other event. */
shared_event *shared_event_tagged(shared_event *e, const char *channel, size_t channel_len) {
    static const char prefix[] = ": ssed-channel /";
    if (e->tagged)
        return e->tagged;
    size_t prefix_len = sizeof prefix - 1, tag_len = prefix_len + channel_len + 1;
    shared_event *t = shared_event_alloc(tag_len + e->len, 0);
    if (!t)
        return NULL;
    memcpy(t->bytes, prefix, prefix_len);
    memcpy(t->bytes + prefix_len, channel, channel_len); /* channel names have no line ends */
    t->bytes[tag_len - 1] = '\n';
    memcpy(t->bytes + tag_len, e->bytes, e->len);
    t->bytes[t->len] = '\0';
    t->id = t->bytes + t->len;
    e->tagged = t;
    return t;
}

/* Message envelopes for the viewer page: EventSource delivers named events
 * only to listeners of that name, and a page cannot know every name ahead,
 * so its stream carries each event as a `message` holding the real type. */
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
    ((parsed *)ctx)->retry_ms = sse_retry_clamp(ms);
}

shared_event *shared_event_envelope(shared_event *e, const char *channel, size_t channel_len) {
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
                 buf_append_str(&json, ",\"data\":") | json_append_string(&json, p.data.data, p.data.len);
        if (channel)
            rc |= buf_append_str(&json, ",\"channel\":\"/") | buf_append(&json, channel, channel_len) |
                  buf_append_char(&json, '"'); /* channel names need no JSON escapes */
        rc |= buf_append_char(&json, '}');
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
