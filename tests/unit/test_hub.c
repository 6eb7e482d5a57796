/* The hub's data structures: where a resume starts (one channel or several,
 * ids found, numeric, unknown, too long, with invalid UTF-8), gap detection,
 * history eviction (per channel and by the global byte cap), replay in
 * windows, channel holds, and what an allocation failure does. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "hub.h"

#define ID_BEFORE_THIS_RUN "5" /* far below any clock-based id of this run */

typedef struct publish_step {
    const char *channel;
    const char *id; /* NULL: the hub numbers it */
    const char *data;
} publish_step;

typedef struct resume_case {
    const char *name;
    size_t history;
    const char *channels; /* comma-separated */
    const char *last_id;  /* NULL: no Last-Event-ID */
    size_t replay;
    publish_step steps[8];
    const char *want; /* data in the order delivered; "GAP" for the gap notice */
} resume_case;

static const resume_case resume_cases[] = {
    {"hub: resume on several channels finds a gap in the one that evicted (a1 seen, b1 lost)",
     2, "a,b", "a1", 0,
     {{"a", "a1", "a1"}, {"b", "b1", "b1"}, {"b", "b2", "b2"}, {"b", "b3", "b3"}},
     "GAP b2 b3"},
    {"hub: resume on several channels with nothing lost: no gap, publish order",
     10, "a,b", "a1", 0,
     {{"b", "b0", "b0"}, {"a", "a1", "a1"}, {"b", "b1", "b1"}, {"a", "a2", "a2"}},
     "b1 a2"},
    {"hub: a publisher's own numeric ids, evicted but covered: no gap",
     2, "x", "1", 0,
     {{"x", "1", "one"}, {"x", "2", "two"}, {"x", "3", "three"}},
     "two three"},
    {"hub: a numeric id whose successors were evicted: gap",
     2, "x", "1", 0,
     {{"x", "1", "one"}, {"x", "2", "two"}, {"x", "3", "three"}, {"x", "4", "four"}},
     "GAP three four"},
    {"hub: an id from before this run, nothing covers it: gap, then all",
     10, "x", ID_BEFORE_THIS_RUN, 0,
     {{"x", NULL, "e1"}, {"x", NULL, "e2"}},
     "GAP e1 e2"},
    {"hub: an unknown id that is not a number: gap, then all",
     10, "x", "nope", 0,
     {{"x", "k1", "e1"}, {"x", "k2", "e2"}},
     "GAP e1 e2"},
    {"hub: the id found is the newest: nothing owed",
     10, "x", "k2", 0,
     {{"x", "k1", "e1"}, {"x", "k2", "e2"}},
     ""},
    {"hub: an id sent with invalid UTF-8 is matched as clients see it",
     10, "x", "\xEF\xBF\xBD" "1", 0,
     {{"x", "\xff" "1", "e1"}, {"x", "k2", "e2"}},
     "e2"},
    {"hub: no Last-Event-ID: the last N of several channels in publish order",
     10, "a,b", NULL, 2,
     {{"a", NULL, "a1"}, {"b", NULL, "b1"}, {"a", NULL, "a2"}},
     "b1 a2"},
    {"hub: no Last-Event-ID and no replay: nothing",
     10, "a", NULL, 0,
     {{"a", NULL, "a1"}},
     ""},
};

static void on_gap(void *ctx) { buf_append_str(ctx, "GAP "); }

/* The data of an encoded event (its one data line). */
static void append_data(buf *out, const shared_event *e) {
    const char *d = strstr(e->bytes, "data: ");
    if (!d) {
        buf_append_str(out, "? ");
        return;
    }
    d += 6;
    buf_append(out, d, strcspn(d, "\n"));
    buf_append_char(out, ' ');
}

/* Write out everything the subscriber is owed, window by window. */
static size_t drain(hub *h, subscriber *s, buf *out, size_t *largest_window) {
    size_t windows = 0;
    for (int guard = 0; guard < 10000; guard++) {
        if (s->replaying)
            hub_replay_more(h, s);
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

static int test_hub_init(hub *h, size_t history, size_t max_history_bytes, size_t max_pending) {
    hub_limits limits = {history, max_history_bytes, max_pending, 100, 100};
    return hub_init(h, &limits);
}

static void check_resume(const void *arg) {
    const resume_case *c = arg;
    hub h;
    CHECK(test_hub_init(&h, c->history, 0, 1 << 20) == 0);
    for (size_t i = 0; i < 8 && c->steps[i].channel; i++) {
        const publish_step *p = &c->steps[i];
        channel *ch = hub_channel_acquire(&h, p->channel, strlen(p->channel), HUB_FOR_PUBLISHING);
        CHECK(ch != NULL);
        sse_out_event ev = {NULL, 0, p->id, p->id ? strlen(p->id) : 0, p->id != NULL, p->data, strlen(p->data), -1};
        CHECK(hub_publish_event(&h, ch, &ev) == SSE_ENCODE_OK);
        hub_channel_release(&h, ch);
    }
    channel *chans[8];
    size_t n = 0;
    char names[64];
    strcpy(names, c->channels);
    for (char *name = strtok(names, ","); name; name = strtok(NULL, ","))
        chans[n++] = hub_channel_acquire(&h, name, strlen(name), HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h, s, chans, n) == 0);
    buf got = BUF_INIT;
    hub_queue_history(&h, s, c->last_id, c->last_id ? strlen(c->last_id) : 0, c->replay, on_gap, &got);
    drain(&h, s, &got, NULL);
    if (got.len)
        got.len--; /* the last space */
    buf_append_char(&got, '\0');
    CHECK_STR(got.data, c->want);
    subscriber_detach(&h, s);
    free(s);
    buf_free(&got);
    hub_free(&h);
}

static void publish_text(hub *h, channel *ch, const char *data) {
    sse_out_event ev = {NULL, 0, NULL, 0, 0, data, strlen(data), -1};
    CHECK(hub_publish_event(h, ch, &ev) == SSE_ENCODE_OK);
}

/* 40 events of 200 bytes owed to a subscriber allowed 4 KiB: it gets them
 * all, in windows of about half that, never overflowing. */
static void check_replay_windows(const void *arg) {
    (void)arg;
    hub h;
    CHECK(test_hub_init(&h, 100, 0, 4096) == 0);
    channel *ch = hub_channel_acquire(&h, "w", 1, HUB_FOR_PUBLISHING);
    char data[201];
    memset(data, 'x', 200);
    data[200] = '\0';
    for (int i = 0; i < 40; i++)
        publish_text(&h, ch, data);
    channel *sub_ch = hub_channel_acquire(&h, "w", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h, s, &sub_ch, 1) == 0);
    hub_queue_history(&h, s, NULL, 0, 100, NULL, NULL);
    buf got = BUF_INIT;
    size_t largest = 0;
    size_t windows = drain(&h, s, &got, &largest);
    CHECK(!s->overflowed);
    CHECK(!s->replaying);
    CHECK(windows >= 4);
    CHECK(largest <= 2048 + 300);
    CHECK(got.len == 40 * 201);
    /* Live from now on: the next event is queued at publish. */
    publish_text(&h, ch, "live");
    CHECK(s->q_len == 1);
    subscriber_detach(&h, s);
    free(s);
    buf_free(&got);
    hub_channel_release(&h, ch);
    hub_free(&h);
}

/* While it replays, live events reach it through history, in order. */
static void check_publish_during_replay(const void *arg) {
    (void)arg;
    hub h;
    CHECK(test_hub_init(&h, 100, 0, 1024) == 0);
    channel *ch = hub_channel_acquire(&h, "r", 1, HUB_FOR_PUBLISHING);
    char data[301];
    memset(data, 'y', 300);
    data[300] = '\0';
    for (int i = 0; i < 5; i++)
        publish_text(&h, ch, data);
    channel *sub_ch = hub_channel_acquire(&h, "r", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h, s, &sub_ch, 1) == 0);
    hub_queue_history(&h, s, NULL, 0, 5, NULL, NULL);
    CHECK(s->replaying);
    publish_text(&h, ch, "late");
    buf got = BUF_INIT;
    drain(&h, s, &got, NULL);
    buf_append_char(&got, '\0');
    CHECK(strstr(got.data, "late ") == got.data + 5 * 301);
    subscriber_detach(&h, s);
    free(s);
    buf_free(&got);
    hub_channel_release(&h, ch);
    hub_free(&h);
}

/* A live subscriber that owes nothing always gets the next event, however
 * large; one that owes and would pass the limit is dropped, and flushed so
 * its connection closes. */
static void check_live_limit(const void *arg) {
    (void)arg;
    hub h;
    CHECK(test_hub_init(&h, 0, 0, 1000) == 0);
    channel *ch = hub_channel_acquire(&h, "l", 1, HUB_FOR_PUBLISHING);
    channel *held = hub_channel_acquire(&h, "l", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h, s, &held, 1) == 0);
    hub_queue_history(&h, s, NULL, 0, 0, NULL, NULL);
    char data[900];
    memset(data, 'z', sizeof data - 1);
    data[sizeof data - 1] = '\0';
    publish_text(&h, ch, data);
    CHECK(s->q_len == 1 && !s->overflowed);
    publish_text(&h, ch, data); /* the first is being written: it does not count */
    CHECK(s->q_len == 2 && !s->overflowed);
    publish_text(&h, ch, data);
    CHECK(s->overflowed);
    CHECK(s->dirty_link.next != NULL);
    CHECK(h.stats.slow_drops == 1);
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
    subscriber_detach(&h, s);
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
    CHECK(test_hub_init(&h, 0, 0, 1000) == 0);
    channel *ch = hub_channel_acquire(&h, "t", 1, HUB_FOR_PUBLISHING);
    channel *held = hub_channel_acquire(&h, "t", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h, s, &held, 1) == 0);
    hub_queue_history(&h, s, NULL, 0, 0, NULL, NULL);
    char data[300];
    memset(data, 'q', sizeof data - 1);
    data[sizeof data - 1] = '\0';
    publish_text(&h, ch, data);
    publish_text(&h, ch, data); /* 300 owed besides the first, nothing held: fits */
    CHECK(s->q_len == 2 && !s->overflowed);
    s->held_bytes = 600;
    publish_text(&h, ch, data);
    CHECK(s->overflowed);
    CHECK(h.stats.slow_drops == 1);
    subscriber_detach(&h, s);
    CHECK(s->held_bytes == 0);
    free(s);
    hub_channel_release(&h, ch);
    hub_free(&h);
}

/* A channel lives while anything holds it or it has history: a HEAD or a
 * refused subscription that lets go of it cannot free it under a publisher. */
static void check_channel_holds(const void *arg) {
    (void)arg;
    hub h;
    CHECK(test_hub_init(&h, 0, 0, 1 << 20) == 0);
    channel *pub = hub_channel_acquire(&h, "victim", 6, HUB_FOR_PUBLISHING);
    channel *head = hub_channel_acquire(&h, "victim", 6, HUB_FOR_SUBSCRIBING);
    CHECK(pub == head && pub->holders == 2);
    hub_channel_release(&h, head);
    CHECK(hub_channel_find(&h, "victim", 6) == pub);
    publish_text(&h, pub, "still here");
    CHECK(pub->events_in == 1);
    hub_channel_release(&h, pub);
    CHECK(hub_channel_find(&h, "victim", 6) == NULL);
    CHECK(h.channel_count == 0);
    hub_free(&h);
}

/* Subscribers waiting on channels nothing published to have their own
 * budget; publishers keep theirs. */
static void check_channel_budgets(const void *arg) {
    (void)arg;
    hub h;
    hub_limits limits = {10, 0, 1 << 20, 2, 2};
    CHECK(hub_init(&h, &limits) == 0);
    channel *w1 = hub_channel_acquire(&h, "w1", 2, HUB_FOR_SUBSCRIBING);
    channel *w2 = hub_channel_acquire(&h, "w2", 2, HUB_FOR_SUBSCRIBING);
    CHECK(w1 && w2);
    CHECK(hub_channel_acquire(&h, "w3", 2, HUB_FOR_SUBSCRIBING) == NULL);
    channel *p1 = hub_channel_acquire(&h, "p1", 2, HUB_FOR_PUBLISHING);
    channel *p2 = hub_channel_acquire(&h, "p2", 2, HUB_FOR_PUBLISHING);
    CHECK(p1 && p2);
    CHECK(hub_channel_acquire(&h, "p3", 2, HUB_FOR_PUBLISHING) == NULL);
    CHECK(hub_channel_acquire(&h, "w1", 2, HUB_FOR_PUBLISHING) == NULL); /* would be a third published */
    hub_channel_release(&h, p2);
    channel *now_published = hub_channel_acquire(&h, "w1", 2, HUB_FOR_PUBLISHING);
    CHECK(now_published == w1 && !w1->waiting && h.waiting_count == 1);
    hub_channel_release(&h, now_published);
    hub_channel_release(&h, w1);
    hub_channel_release(&h, w2);
    hub_channel_release(&h, p1);
    CHECK(h.channel_count == 0 && h.waiting_count == 0);
    hub_free(&h);
}

/* Over the global byte cap the oldest events of any channel go first, and
 * a channel left with no history and no holder is freed. */
static void check_history_bytes(const void *arg) {
    (void)arg;
    hub h;
    size_t cap = 3 * (sizeof(shared_event) + 200);
    CHECK(test_hub_init(&h, 100, cap, 1 << 20) == 0);
    channel *a = hub_channel_acquire(&h, "a", 1, HUB_FOR_PUBLISHING);
    publish_text(&h, a, "a-old");
    hub_channel_release(&h, a); /* kept by its history alone */
    CHECK(hub_channel_find(&h, "a", 1) == a);
    channel *b = hub_channel_acquire(&h, "b", 1, HUB_FOR_PUBLISHING);
    for (int i = 0; i < 5; i++)
        publish_text(&h, b, "b-event-with-some-bytes-in-it-to-fill-the-cap");
    CHECK(h.history_bytes <= cap);
    CHECK(hub_channel_find(&h, "a", 1) == NULL);
    CHECK(b->ring_len >= 1 && b->ring_len < 5);
    CHECK(b->evicted_any);
    CHECK(h.stats.history_evicted_for_memory >= 2);
    hub_channel_release(&h, b);
    hub_free(&h);
}

/* A channel freed by the byte cap and made again must not claim it lost
 * nothing: a resume from before gets a gap notice. So must a channel
 * with no history at all. */
static void check_gap_after_channel_forgotten(const void *arg) {
    (void)arg;
    hub h;
    size_t cap = 3 * (sizeof(shared_event) + 120);
    CHECK(test_hub_init(&h, 100, cap, 1 << 20) == 0);
    channel *a = hub_channel_acquire(&h, "a", 1, HUB_FOR_PUBLISHING);
    sse_out_event first = {NULL, 0, "1001", 4, 1, "a1", 2, -1};
    CHECK(hub_publish_event(&h, a, &first) == SSE_ENCODE_OK);
    publish_text(&h, a, "a2");
    hub_channel_release(&h, a);
    channel *b = hub_channel_acquire(&h, "b", 1, HUB_FOR_PUBLISHING);
    for (int i = 0; i < 6; i++)
        publish_text(&h, b, "b-event-with-some-bytes-in-it-to-fill-the-cap");
    CHECK(hub_channel_find(&h, "a", 1) == NULL);
    a = hub_channel_acquire(&h, "a", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h, s, &a, 1) == 0);
    buf got = BUF_INIT;
    hub_queue_history(&h, s, "1001", 4, 0, on_gap, &got);
    buf_append_char(&got, '\0');
    CHECK_STR(got.data, "GAP ");
    subscriber_detach(&h, s);
    free(s);
    buf_free(&got);
    hub_channel_release(&h, b);
    hub_free(&h);

    CHECK(test_hub_init(&h, 0, 0, 1 << 20) == 0);
    channel *z = hub_channel_acquire(&h, "z", 1, HUB_FOR_PUBLISHING);
    CHECK(hub_publish_event(&h, z, &first) == SSE_ENCODE_OK);
    publish_text(&h, z, "missed");
    s = calloc(1, sizeof *s);
    channel *held = hub_channel_acquire(&h, "z", 1, HUB_FOR_SUBSCRIBING);
    CHECK(subscriber_attach(&h, s, &held, 1) == 0);
    buf got0 = BUF_INIT;
    hub_queue_history(&h, s, "1001", 4, 0, on_gap, &got0);
    buf_append_char(&got0, '\0');
    CHECK_STR(got0.data, "GAP ");
    subscriber_detach(&h, s);
    free(s);
    buf_free(&got0);
    hub_channel_release(&h, z);
    hub_free(&h);
}

/* Envelopes made for retained events count against the byte cap. */
static void check_envelopes_count(const void *arg) {
    (void)arg;
    hub h;
    size_t cap = 64 * 1024;
    CHECK(test_hub_init(&h, 1000, cap, 1 << 20) == 0);
    channel *ch = hub_channel_acquire(&h, "e", 1, HUB_FOR_PUBLISHING);
    char data[2001];
    memset(data, 1, 2000); /* control bytes: six-fold in an envelope */
    data[2000] = '\0';
    for (int i = 0; i < 20; i++)
        publish_text(&h, ch, data);
    channel *held = hub_channel_acquire(&h, "e", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    s->envelope = 1;
    CHECK(subscriber_attach(&h, s, &held, 1) == 0);
    hub_queue_history(&h, s, NULL, 0, 20, NULL, NULL);
    buf got = BUF_INIT;
    drain(&h, s, &got, NULL);
    CHECK(h.history_bytes <= cap);
    size_t sum = 0;
    for (list_node *n = h.history_order.next; n != &h.history_order; n = n->next)
        sum += history_retained_size(list_entry(n, shared_event, history_link));
    CHECK(sum == h.history_bytes);
    subscriber_detach(&h, s);
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
    CHECK(test_hub_init(&h, 1000, cap, 1 << 20) == 0);
    channel *t = hub_channel_acquire(&h, "t", 1, HUB_FOR_PUBLISHING);
    channel *u = hub_channel_acquire(&h, "u", 1, HUB_FOR_PUBLISHING);
    char data[2001];
    memset(data, 'x', 2000);
    data[2000] = '\0';
    for (int i = 0; i < 20; i++)
        publish_text(&h, i % 2 ? u : t, data); /* 20 events fit the cap; tagged too, they would not */
    CHECK(h.stats.history_evicted_for_memory == 0);
    channel *both[2] = {hub_channel_acquire(&h, "t", 1, HUB_FOR_SUBSCRIBING),
                        hub_channel_acquire(&h, "u", 1, HUB_FOR_SUBSCRIBING)};
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h, s, both, 2) == 0);
    hub_queue_history(&h, s, NULL, 0, 20, NULL, NULL);
    CHECK(s->q_len == 20 && !s->overflowed && !s->replaying);
    const shared_event *first = s->queue[s->q_head];
    static const char tag_t[] = ": ssed-channel /t\n";
    CHECK(first->len > sizeof tag_t && memcmp(first->bytes, tag_t, sizeof tag_t - 1) == 0);
    CHECK(strncmp(first->bytes + sizeof tag_t - 1, "id: ", 4) == 0);
    CHECK(strncmp(s->queue[(s->q_head + 1) & (s->q_cap - 1)]->bytes, ": ssed-channel /u\n", 18) == 0);
    /* Retained events now cost their tagged copies too, within the cap. */
    CHECK(h.stats.history_evicted_for_memory > 0);
    CHECK(h.history_bytes <= cap);
    size_t sum = 0, tagged = 0;
    for (list_node *n = h.history_order.next; n != &h.history_order; n = n->next) {
        const shared_event *e = list_entry(n, shared_event, history_link);
        sum += history_retained_size(e);
        if (e->tagged) {
            tagged++;
            CHECK(e->tagged->len == e->len + 18);
        }
    }
    CHECK(sum == h.history_bytes);
    CHECK(tagged > 0);
    /* ssed's own notice: from no channel, sent as it is. */
    shared_event *notice = shared_event_raw(": notice\n\n", 10);
    subscriber_enqueue_owed(&h, s, notice);
    CHECK(s->queue[(s->q_head + s->q_len - 1) & (s->q_cap - 1)] == notice);
    shared_event_unref(notice);
    /* One channel: the event itself, live as from history. */
    channel *one = hub_channel_acquire(&h, "t", 1, HUB_FOR_SUBSCRIBING);
    subscriber *single = calloc(1, sizeof *single);
    CHECK(subscriber_attach(&h, single, &one, 1) == 0);
    hub_queue_history(&h, single, NULL, 0, 0, NULL, NULL);
    publish_text(&h, t, "live");
    CHECK(single->q_len == 1 && strncmp(single->queue[single->q_head]->bytes, "id: ", 4) == 0);
    CHECK(strncmp(s->queue[(s->q_head + s->q_len - 1) & (s->q_cap - 1)]->bytes, tag_t, sizeof tag_t - 1) == 0);
    buf got = BUF_INIT;
    drain(&h, s, &got, NULL);
    drain(&h, single, &got, NULL);
    subscriber_detach(&h, s);
    subscriber_detach(&h, single);
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
    CHECK(test_hub_init(&h, 10, 0, 1 << 20) == 0);
    channel *held = hub_channel_acquire(&h, "f", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h, s, &held, 1) == 0);
    hub_queue_history(&h, s, NULL, 0, 0, NULL, NULL);
    shared_event *last = shared_event_raw(": token expired\n\n", 17);
    shared_event *keepalive = shared_event_raw(":\n\n", 3);
    subscriber_finish(&h, s, last);
    subscriber_enqueue_owed(&h, s, keepalive);
    CHECK(s->q_len == 1 && s->queue[s->q_head] == last);
    shared_event_unref(last);
    shared_event_unref(keepalive);
    subscriber_detach(&h, s);
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
    CHECK(test_hub_init(&h, 10, 0, 1 << 20) == 0);
    channel *ch = hub_channel_acquire(&h, "m", 1, HUB_FOR_PUBLISHING);
    channel *held = hub_channel_acquire(&h, "m", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h, s, &held, 1) == 0);
    hub_queue_history(&h, s, NULL, 0, 0, NULL, NULL);
    h.grow = failing_grow;
    publish_text(&h, ch, "no room");
    CHECK(s->overflowed);
    CHECK(s->dirty_link.next != NULL);
    h.grow = realloc;
    subscriber_detach(&h, s);
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
    CHECK(test_hub_init(&h, 10, 0, 1 << 20) == 0);
    hub_hold_fanout(&h);
    channel *ch = hub_channel_acquire(&h, "h", 1, HUB_FOR_PUBLISHING);
    channel *sub_ch = hub_channel_acquire(&h, "h", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h, s, &sub_ch, 1) == 0);
    hub_queue_history(&h, s, NULL, 0, 0, NULL, NULL);
    CHECK(!s->replaying);
    buf got = BUF_INIT;
    publish_text(&h, ch, "one");
    CHECK(s->q_len == 0 && ch->ring_len == 1);
    hub_release_held(&h);
    publish_text(&h, ch, "two");
    publish_text(&h, ch, "three");
    CHECK(hub_withdraw_held(&h) == 2);
    CHECK(ch->ring_len == 1 && ch->events_in == 1);
    publish_text(&h, ch, "four");
    CHECK(channel_history_at(ch, 1)->chan_seq == 1);
    hub_release_held(&h);
    drain(&h, s, &got, NULL);
    buf_append_char(&got, '\0');
    CHECK_STR(got.data, "one four ");
    subscriber_detach(&h, s);
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
    CHECK(test_hub_init(&h, 10, 0, 1 << 20) == 0);
    hub_hold_fanout(&h);
    channel *ch = hub_channel_acquire(&h, "i", 1, HUB_FOR_PUBLISHING);
    channel *sub_ch = hub_channel_acquire(&h, "i", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h, s, &sub_ch, 1) == 0);
    hub_queue_history(&h, s, NULL, 0, 0, NULL, NULL);
    sse_out_event line1 = {NULL, 0, NULL, 0, 0, "line1", 5, -1};
    sse_out_event line2 = {NULL, 0, NULL, 0, 0, "line2", 5, -1};
    CHECK(hub_publish_input_event(&h, ch, &line1) == SSE_ENCODE_OK);
    publish_text(&h, ch, "posted");
    CHECK(hub_publish_input_event(&h, ch, &line2) == SSE_ENCODE_OK);
    CHECK(hub_withdraw_held(&h) == 3);
    CHECK(ch->ring_len == 0 && h.deferred_count == 2);
    CHECK(hub_republish_deferred(&h) == 0);
    CHECK(h.held_count == 2 && ch->ring_len == 2 && s->q_len == 0);
    hub_release_held(&h);
    buf got = BUF_INIT;
    drain(&h, s, &got, NULL);
    buf_append_char(&got, '\0');
    CHECK_STR(got.data, "line1 line2 ");
    subscriber_detach(&h, s);
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
    CHECK(test_hub_init(&h, 10, 0, 1 << 20) == 0);
    hub_hold_fanout(&h);
    channel *ch = hub_channel_acquire(&h, "j", 1, HUB_FOR_PUBLISHING);
    publish_text(&h, ch, "a");
    hub_release_held(&h);
    publish_text(&h, ch, "b");
    channel *sub_ch = hub_channel_acquire(&h, "j", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h, s, &sub_ch, 1) == 0);
    hub_queue_history(&h, s, NULL, 0, 10, NULL, NULL);
    buf got = BUF_INIT;
    drain(&h, s, &got, NULL);
    CHECK(!s->replaying);
    hub_release_held(&h);
    drain(&h, s, &got, NULL);
    buf_append_char(&got, '\0');
    CHECK_STR(got.data, "a b ");
    subscriber_detach(&h, s);
    free(s);
    buf_free(&got);
    hub_channel_release(&h, ch);
    hub_free(&h);
}

void hub_tests_register(void) {
    for (size_t i = 0; i < sizeof resume_cases / sizeof resume_cases[0]; i++)
        harness_add(resume_cases[i].name, check_resume, &resume_cases[i]);
    harness_add("hub: history owed beyond --max-pending is replayed in windows", check_replay_windows, NULL);
    harness_add("hub: events published during a replay come after it, in order", check_publish_during_replay, NULL);
    harness_add("hub: one event always fits; a subscriber owing more than the limit besides it is dropped",
                check_live_limit, NULL);
    harness_add("hub: bytes an HTTP/2 stream holds for its frames count against the limit with the queue",
                check_held_bytes_count, NULL);
    harness_add("hub: a channel held by a publisher survives others letting go", check_channel_holds, NULL);
    harness_add("hub: waiting subscribers and publishers have separate channel budgets", check_channel_budgets,
                NULL);
    harness_add("hub: the global history byte cap evicts the oldest of any channel", check_history_bytes, NULL);
    harness_add("hub: out of memory while queueing drops and flushes the subscriber", check_out_of_memory, NULL);
    harness_add("hub: nothing is queued after the last event of a finished stream", check_nothing_after_finish, NULL);
    harness_add("hub: a channel freed with evictions and made again still reports the gap",
                check_gap_after_channel_forgotten, NULL);
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
