/* The hub's fan-out to live subscribers: the --max-pending limit, HTTP/2
 * stream frames counted with the queue, envelopes and tagged variants and
 * what they cost, the last event of a finished stream, allocation
 * failures, and fan-out held for a store (released, withdrawn, deferred). */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "hub_fixture.h"

/* A live subscriber that owes nothing always gets the next event, however
 * large; one that owes and would pass the limit is dropped, and flushed so
 * its connection closes. */
static void check_live_limit(const void *arg) {
    (void)arg;
    hub h;
    CHECK(hub_fixture_init(&h, 0, 0, 1000) == 0);
    channel *ch = hub_channel_acquire(&h, "l", 1, HUB_FOR_PUBLISHING);
    channel *held = hub_channel_acquire(&h, "l", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h.subs, s, &held, 1) == 0);
    subscriber_resume(&h.subs, s, NULL, 0, 0, NULL, NULL);
    char data[900];
    memset(data, 'z', sizeof data - 1);
    data[sizeof data - 1] = '\0';
    hub_fixture_publish_text(&h, ch, data);
    CHECK(s->q_len == 1 && !s->overflowed);
    hub_fixture_publish_text(&h, ch, data); /* the first is being written: it does not count */
    CHECK(s->q_len == 2 && !s->overflowed);
    hub_fixture_publish_text(&h, ch, data);
    CHECK(s->overflowed);
    CHECK(s->dirty_link.next != NULL);
    CHECK(h.subs.slow_drops == 1);
    /* An event that could never be sent is refused at publish. */
    char huge[1200];
    memset(huge, 'h', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    sse_out_event ev = {NULL, 0, NULL, 0, 0, huge, strlen(huge), -1};
    CHECK(hub_publish_event(&h, ch, &ev) == HUB_EVENT_TOO_LARGE);
    char long_id[HUB_MAX_ID_LEN + 2];
    memset(long_id, '7', sizeof long_id - 1);
    sse_out_event id_ev = {NULL, 0, long_id, HUB_MAX_ID_LEN + 1, 1, "d", 1, -1};
    CHECK(hub_publish_event(&h, ch, &id_ev) == HUB_ID_TOO_LONG);
    subscriber_detach(&h.subs, s);
    free(s);
    hub_channel_release(&h, ch);
    hub_free(&h);
}

/* What the subscriber's transport holds unsent (an HTTP/2 stream's frames)
 * is owed as much as its queue: with 600 of 1000 held, one queued event of
 * 300 besides the one being written passes the limit. */
static void check_held_bytes_count(const void *arg) {
    (void)arg;
    hub h;
    CHECK(hub_fixture_init(&h, 0, 0, 1000) == 0);
    channel *ch = hub_channel_acquire(&h, "t", 1, HUB_FOR_PUBLISHING);
    channel *held = hub_channel_acquire(&h, "t", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h.subs, s, &held, 1) == 0);
    subscriber_resume(&h.subs, s, NULL, 0, 0, NULL, NULL);
    char data[300];
    memset(data, 'q', sizeof data - 1);
    data[sizeof data - 1] = '\0';
    hub_fixture_publish_text(&h, ch, data);
    hub_fixture_publish_text(&h, ch, data); /* 300 owed besides the first, nothing held: fits */
    CHECK(s->q_len == 2 && !s->overflowed);
    s->held_bytes = 600;
    hub_fixture_publish_text(&h, ch, data);
    CHECK(s->overflowed);
    CHECK(h.subs.slow_drops == 1);
    subscriber_detach(&h.subs, s);
    CHECK(s->held_bytes == 0);
    free(s);
    hub_channel_release(&h, ch);
    hub_free(&h);
}

/* Envelopes made for retained events count against the byte cap. */
static void check_envelopes_count(const void *arg) {
    (void)arg;
    hub h;
    size_t cap = 64 * 1024;
    CHECK(hub_fixture_init(&h, 1000, cap, 1 << 20) == 0);
    channel *ch = hub_channel_acquire(&h, "e", 1, HUB_FOR_PUBLISHING);
    char data[2001];
    memset(data, 1, 2000); /* control bytes: six-fold in an envelope */
    data[2000] = '\0';
    for (int i = 0; i < 20; i++)
        hub_fixture_publish_text(&h, ch, data);
    channel *held = hub_channel_acquire(&h, "e", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    s->envelope = 1;
    CHECK(subscriber_attach(&h.subs, s, &held, 1) == 0);
    subscriber_resume(&h.subs, s, NULL, 0, 20, NULL, NULL);
    buf got = BUF_INIT;
    hub_fixture_drain(&h, s, &got, NULL);
    CHECK(h.history.bytes <= cap);
    size_t sum = 0;
    for (list_node *n = h.history.order.next; n != &h.history.order; n = n->next)
        sum += history_retained_size(list_entry(n, shared_event, history_link));
    CHECK(sum == h.history.bytes);
    subscriber_detach(&h.subs, s);
    free(s);
    buf_free(&got);
    hub_channel_release(&h, ch);
    hub_free(&h);
}

/* A subscriber of several channels is sent each event after a comment
 * naming its channel: one tagged copy per event, shared, counted against
 * the byte cap like an envelope; ssed's own notices go untagged, and a
 * subscriber of one channel gets the event itself. */
static void check_tagged_variants(const void *arg) {
    (void)arg;
    hub h;
    size_t cap = 64 * 1024;
    CHECK(hub_fixture_init(&h, 1000, cap, 1 << 20) == 0);
    channel *t = hub_channel_acquire(&h, "t", 1, HUB_FOR_PUBLISHING);
    channel *u = hub_channel_acquire(&h, "u", 1, HUB_FOR_PUBLISHING);
    char data[2001];
    memset(data, 'x', 2000);
    data[2000] = '\0';
    for (int i = 0; i < 20; i++)
        hub_fixture_publish_text(&h, i % 2 ? u : t, data); /* 20 events fit the cap; tagged too, they would not */
    CHECK(h.history.evicted_for_memory == 0);
    channel *both[2] = {hub_channel_acquire(&h, "t", 1, HUB_FOR_SUBSCRIBING),
                        hub_channel_acquire(&h, "u", 1, HUB_FOR_SUBSCRIBING)};
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h.subs, s, both, 2) == 0);
    subscriber_resume(&h.subs, s, NULL, 0, 20, NULL, NULL);
    CHECK(s->q_len == 20 && !s->overflowed && !s->replaying);
    const shared_event *first = s->queue[s->q_head];
    static const char tag_t[] = ": ssed-channel /t\n";
    CHECK(first->len > sizeof tag_t && memcmp(first->bytes, tag_t, sizeof tag_t - 1) == 0);
    CHECK(strncmp(first->bytes + sizeof tag_t - 1, "id: ", 4) == 0);
    CHECK(strncmp(s->queue[(s->q_head + 1) & (s->q_cap - 1)]->bytes, ": ssed-channel /u\n", 18) == 0);
    /* Retained events now cost their tagged copies too, within the cap. */
    CHECK(h.history.evicted_for_memory > 0);
    CHECK(h.history.bytes <= cap);
    size_t sum = 0, tagged = 0;
    for (list_node *n = h.history.order.next; n != &h.history.order; n = n->next) {
        const shared_event *e = list_entry(n, shared_event, history_link);
        sum += history_retained_size(e);
        if (e->tagged) {
            tagged++;
            CHECK(e->tagged->len == e->len + 18);
        }
    }
    CHECK(sum == h.history.bytes);
    CHECK(tagged > 0);
    /* ssed's own notice: from no channel, sent as it is. */
    shared_event *notice = shared_event_raw(": notice\n\n", 10);
    subscriber_enqueue_owed(&h.subs, s, notice);
    CHECK(s->queue[(s->q_head + s->q_len - 1) & (s->q_cap - 1)] == notice);
    shared_event_unref(notice);
    /* One channel: the event itself, live as from history. */
    channel *one = hub_channel_acquire(&h, "t", 1, HUB_FOR_SUBSCRIBING);
    subscriber *single = calloc(1, sizeof *single);
    CHECK(subscriber_attach(&h.subs, single, &one, 1) == 0);
    subscriber_resume(&h.subs, single, NULL, 0, 0, NULL, NULL);
    hub_fixture_publish_text(&h, t, "live");
    CHECK(single->q_len == 1 && strncmp(single->queue[single->q_head]->bytes, "id: ", 4) == 0);
    CHECK(strncmp(s->queue[(s->q_head + s->q_len - 1) & (s->q_cap - 1)]->bytes, tag_t, sizeof tag_t - 1) == 0);
    buf got = BUF_INIT;
    hub_fixture_drain(&h, s, &got, NULL);
    hub_fixture_drain(&h, single, &got, NULL);
    subscriber_detach(&h.subs, s);
    subscriber_detach(&h.subs, single);
    free(s);
    free(single);
    buf_free(&got);
    hub_channel_release(&h, t);
    hub_channel_release(&h, u);
    hub_free(&h);
}

/* A finished stream ends with its last event: a keep-alive or a notice
 * owed later is not queued after it. */
static void check_nothing_after_finish(const void *arg) {
    (void)arg;
    hub h;
    CHECK(hub_fixture_init(&h, 10, 0, 1 << 20) == 0);
    channel *held = hub_channel_acquire(&h, "f", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h.subs, s, &held, 1) == 0);
    subscriber_resume(&h.subs, s, NULL, 0, 0, NULL, NULL);
    shared_event *last = shared_event_raw(": token expired\n\n", 17);
    shared_event *keepalive = shared_event_raw(":\n\n", 3);
    subscriber_finish(&h.subs, s, 0, last);
    subscriber_enqueue_owed(&h.subs, s, keepalive);
    CHECK(s->q_len == 1 && s->queue[s->q_head] == last);
    shared_event_unref(last);
    shared_event_unref(keepalive);
    subscriber_detach(&h.subs, s);
    free(s);
    hub_free(&h);
}

static void *failing_grow(void *ptr, size_t size) {
    (void)ptr;
    (void)size;
    return NULL;
}

/* Out of memory while queueing: the subscriber is dropped and flushed (so
 * its connection is closed), never left connected and silent. */
static void check_out_of_memory(const void *arg) {
    (void)arg;
    hub h;
    CHECK(hub_fixture_init(&h, 10, 0, 1 << 20) == 0);
    channel *ch = hub_channel_acquire(&h, "m", 1, HUB_FOR_PUBLISHING);
    channel *held = hub_channel_acquire(&h, "m", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h.subs, s, &held, 1) == 0);
    subscriber_resume(&h.subs, s, NULL, 0, 0, NULL, NULL);
    h.subs.grow = failing_grow;
    hub_fixture_publish_text(&h, ch, "no room");
    CHECK(s->overflowed);
    CHECK(s->dirty_link.next != NULL);
    h.subs.grow = realloc;
    subscriber_detach(&h.subs, s);
    free(s);
    hub_channel_release(&h, ch);
    hub_free(&h);
}

/* With fan-out held (a store commits first), a live subscriber gets an
 * event only once it is released; a withdrawn one is gone from history and
 * its channel's count, and the next event takes its place. */
static void check_held_fanout(const void *arg) {
    (void)arg;
    hub h;
    CHECK(hub_fixture_init(&h, 10, 0, 1 << 20) == 0);
    hub_hold_fanout(&h);
    channel *ch = hub_channel_acquire(&h, "h", 1, HUB_FOR_PUBLISHING);
    channel *sub_ch = hub_channel_acquire(&h, "h", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h.subs, s, &sub_ch, 1) == 0);
    subscriber_resume(&h.subs, s, NULL, 0, 0, NULL, NULL);
    CHECK(!s->replaying);
    buf got = BUF_INIT;
    hub_fixture_publish_text(&h, ch, "one");
    CHECK(s->q_len == 0 && ch->ring_len == 1);
    hub_release_held(&h);
    hub_fixture_publish_text(&h, ch, "two");
    hub_fixture_publish_text(&h, ch, "three");
    CHECK(hub_withdraw_held(&h) == 2);
    CHECK(ch->ring_len == 1 && ch->events_in == 1);
    hub_fixture_publish_text(&h, ch, "four");
    CHECK(channel_history_at(ch, 1)->chan_seq == 1);
    hub_release_held(&h);
    hub_fixture_drain(&h, s, &got, NULL);
    buf_append_char(&got, '\0');
    CHECK_STR(got.data, "one four ");
    subscriber_detach(&h.subs, s);
    free(s);
    buf_free(&got);
    hub_channel_release(&h, ch);
    hub_free(&h);
}

/* Input withdrawn is deferred, not dropped: published again (a copy, in
 * order, after what was committed) when the store can write, while a
 * withdrawn publish is gone. */
static void check_input_deferred(const void *arg) {
    (void)arg;
    hub h;
    CHECK(hub_fixture_init(&h, 10, 0, 1 << 20) == 0);
    hub_hold_fanout(&h);
    channel *ch = hub_channel_acquire(&h, "i", 1, HUB_FOR_PUBLISHING);
    channel *sub_ch = hub_channel_acquire(&h, "i", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h.subs, s, &sub_ch, 1) == 0);
    subscriber_resume(&h.subs, s, NULL, 0, 0, NULL, NULL);
    sse_out_event line1 = {NULL, 0, NULL, 0, 0, "line1", 5, -1};
    sse_out_event line2 = {NULL, 0, NULL, 0, 0, "line2", 5, -1};
    CHECK(hub_publish_input_event(&h, ch, &line1) == SSE_ENCODE_OK);
    hub_fixture_publish_text(&h, ch, "posted");
    CHECK(hub_publish_input_event(&h, ch, &line2) == SSE_ENCODE_OK);
    CHECK(hub_withdraw_held(&h) == 3);
    CHECK(ch->ring_len == 0 && h.deferred_count == 2);
    CHECK(hub_republish_deferred(&h) == 0);
    CHECK(h.held_count == 2 && ch->ring_len == 2 && s->q_len == 0);
    hub_release_held(&h);
    buf got = BUF_INIT;
    hub_fixture_drain(&h, s, &got, NULL);
    buf_append_char(&got, '\0');
    CHECK_STR(got.data, "line1 line2 ");
    subscriber_detach(&h.subs, s);
    free(s);
    buf_free(&got);
    hub_channel_release(&h, ch);
    hub_free(&h);
}

/* A subscriber that joins while events are held replays up to them, and
 * gets them once, live, when they are released. */
static void check_join_while_held(const void *arg) {
    (void)arg;
    hub h;
    CHECK(hub_fixture_init(&h, 10, 0, 1 << 20) == 0);
    hub_hold_fanout(&h);
    channel *ch = hub_channel_acquire(&h, "j", 1, HUB_FOR_PUBLISHING);
    hub_fixture_publish_text(&h, ch, "a");
    hub_release_held(&h);
    hub_fixture_publish_text(&h, ch, "b");
    channel *sub_ch = hub_channel_acquire(&h, "j", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h.subs, s, &sub_ch, 1) == 0);
    subscriber_resume(&h.subs, s, NULL, 0, 10, NULL, NULL);
    buf got = BUF_INIT;
    hub_fixture_drain(&h, s, &got, NULL);
    CHECK(!s->replaying);
    hub_release_held(&h);
    hub_fixture_drain(&h, s, &got, NULL);
    buf_append_char(&got, '\0');
    CHECK_STR(got.data, "a b ");
    subscriber_detach(&h.subs, s);
    free(s);
    buf_free(&got);
    hub_channel_release(&h, ch);
    hub_free(&h);
}

void hub_fanout_tests_register(void) {
    harness_add("hub: one event always fits; a subscriber owing more than the limit besides it is dropped",
                check_live_limit, NULL);
    harness_add("hub: bytes an HTTP/2 stream holds for its frames count against the limit with the queue",
                check_held_bytes_count, NULL);
    harness_add("hub: out of memory while queueing drops and flushes the subscriber", check_out_of_memory, NULL);
    harness_add("hub: nothing is queued after the last event of a finished stream", check_nothing_after_finish, NULL);
    harness_add("hub: envelopes of retained events count against the history byte cap", check_envelopes_count, NULL);
    harness_add("hub: several channels: events tagged with their channel, once each, counted against the byte cap",
                check_tagged_variants, NULL);
    harness_add("hub: held fan-out: sent when released; withdrawn events leave history and reach no one",
                check_held_fanout, NULL);
    harness_add("hub: a subscriber joining while events are held replays up to them and gets them once",
                check_join_while_held, NULL);
    harness_add("hub: withdrawn input is published again in order when released; a withdrawn publish is gone",
                check_input_deferred, NULL);
}
