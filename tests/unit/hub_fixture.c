/* What the hub's unit tests share: a hub with given limits, publishing
 * text, and writing out what a subscriber is owed, a gap notice shown as
 * GAP(ASKED>FIRST). */
#include "hub_fixture.h"

#include <string.h>

#include "harness.h"

/* The string value of "key" in a notice's JSON; "null" when it is null,
 * "#" for an id ssed numbered (too long to write in a table). */
static void append_field(buf *out, const char *json, const char *key) {
    const char *v = strstr(json, key);
    if (!v) {
        buf_append_str(out, "?");
        return;
    }
    v += strlen(key);
    if (strncmp(v, "null", 4) == 0) {
        buf_append_str(out, "null");
        return;
    }
    size_t len = strcspn(++v, "\"");
    if (len > 12)
        buf_append_str(out, "#");
    else
        buf_append(out, v, len);
}

/* An ssed-gap notice as GAP(ASKED>FIRST), GAP/CHANNEL(ASKED>FIRST) when it
 * names its channel. */
static void append_gap(buf *out, const char *json) {
    buf_append_str(out, "GAP");
    if (strstr(json, "\"channel\":\""))
        append_field(out, json, "\"channel\":");
    buf_append_char(out, '(');
    append_field(out, json, "\"last_event_id\":");
    buf_append_char(out, '>');
    append_field(out, json, "\"oldest_retained_id\":");
    buf_append_str(out, ") ");
}

/* The data of an encoded event (its one data line). */
static void append_data(buf *out, const shared_event *e) {
    const char *d = strstr(e->bytes, "data: ");
    if (!d) {
        buf_append_str(out, "? ");
        return;
    }
    d += 6;
    if (strncmp(e->bytes, "event: ssed-gap\n", 16) == 0) {
        append_gap(out, d);
        return;
    }
    buf_append(out, d, strcspn(d, "\n"));
    buf_append_char(out, ' ');
}

/* Write out everything the subscriber is owed, window by window. */
size_t hub_fixture_drain(hub *h, subscriber *s, buf *out, size_t *largest_window) {
    size_t windows = 0;
    for (int guard = 0; guard < 10000; guard++) {
        if (s->replaying)
            subscriber_replay_more(&h->subs, s);
        if (s->q_len == 0)
            break;
        windows++;
        if (largest_window && s->pending_bytes > *largest_window)
            *largest_window = s->pending_bytes;
        while (s->q_len > 0) {
            shared_event *e = s->queue[s->q_head];
            append_data(out, e);
            subscriber_consume(s, e->len - s->head_offset, NULL, 0);
        }
    }
    return windows;
}

int hub_fixture_init(hub *h, size_t history, size_t max_history_bytes, size_t max_pending) {
    hub_limits limits = {history, max_history_bytes, max_pending, 100, 100};
    return hub_init(h, &limits);
}

void hub_fixture_publish_text(hub *h, channel *ch, const char *data) {
    sse_out_event ev = {NULL, 0, NULL, 0, 0, data, strlen(data), -1};
    CHECK(hub_publish_event(h, ch, &ev) == SSE_ENCODE_OK);
}

