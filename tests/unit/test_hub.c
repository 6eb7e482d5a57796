/* The hub's data structures: where a resume starts (one channel or several,
 * ids found, numeric, unknown, too long, with invalid UTF-8), the gap
 * decision and notice per channel, history eviction (per channel and by
 * the global byte cap), replay in windows, and channel holds. Fan-out to
 * live subscribers is in test_hub_fanout.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "hub_fixture.h"

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
    /* "[/NAME] " for each channel a gap was logged for, then the data in
     * the order delivered, a gap notice as GAP(ASKED>FIRST), or
     * GAP/NAME(ASKED>FIRST) on a stream of several channels */
    const char *want;
} resume_case;

static const resume_case resume_cases[] = {
    {"hub: resume on several channels finds a gap in the one that evicted (a1 seen, b1 lost)",
     2, "a,b", "a1", 0,
     {{"a", "a1", "a1"}, {"b", "b1", "b1"}, {"b", "b2", "b2"}, {"b", "b3", "b3"}},
     "[/b] GAP/b(a1>b2) b2 b3"},
    {"hub: the same, channels listed the other way round: the notice still names b and b's first event",
     2, "b,a", "a1", 0,
     {{"a", "a1", "a1"}, {"b", "b1", "b1"}, {"b", "b2", "b2"}, {"b", "b3", "b3"}},
     "[/b] GAP/b(a1>b2) b2 b3"},
    {"hub: the first channel listed lost events, the second nothing: the notice names the first",
     2, "a,b", "b1", 0,
     {{"b", "b1", "b1"}, {"a", "a1", "a1"}, {"a", "a2", "a2"}, {"a", "a3", "a3"}},
     "[/a] GAP/a(b1>a2) a2 a3"},
    {"hub: the second channel listed lost nothing, the first did (b,a): the notice names a, never b",
     2, "b,a", "b1", 0,
     {{"b", "b1", "b1"}, {"a", "a1", "a1"}, {"a", "a2", "a2"}, {"a", "a3", "a3"}},
     "[/a] GAP/a(b1>a2) a2 a3"},
    {"hub: both channels lost events: one notice each, in the order listed, each with its first event",
     1, "a,b", "a1", 0,
     {{"a", "a1", "a1"}, {"b", "b1", "b1"}, {"a", "a2", "a2"}, {"b", "b2", "b2"}},
     "[/a] [/b] GAP/a(a1>a2) GAP/b(a1>b2) a2 b2"},
    {"hub: an id from before this run on several channels, one never published to: its notice names null",
     10, "a,e", ID_BEFORE_THIS_RUN, 0,
     {{"a", "k1", "a1"}},
     "[/a] [/e] GAP/a(5>k1) GAP/e(5>null) a1"},
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
     "[/x] GAP(1>3) three four"},
    {"hub: an id from before this run, nothing covers it: gap, then all",
     10, "x", ID_BEFORE_THIS_RUN, 0,
     {{"x", NULL, "e1"}, {"x", NULL, "e2"}},
     "[/x] GAP(5>#) e1 e2"},
    {"hub: Last-Event-ID 0 on a channel that evicted nothing: nothing was lost, no gap, then all",
     10, "x", "0", 0,
     {{"x", NULL, "e1"}, {"x", NULL, "e2"}},
     "e1 e2"},
    {"hub: Last-Event-ID 0 on a fresh channel: no gap",
     10, "x", "0", 0,
     {{"y", NULL, "e1"}},
     ""},
    {"hub: Last-Event-ID 0 on a channel that evicted: gap, then what it holds",
     1, "x", "0", 0,
     {{"x", NULL, "e1"}, {"x", NULL, "e2"}},
     "[/x] GAP(0>#) e2"},
    {"hub: an unknown id that is not a number: gap, then all",
     10, "x", "nope", 0,
     {{"x", "k1", "e1"}, {"x", "k2", "e2"}},
     "[/x] GAP(nope>k1) e1 e2"},
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

/* The channels a resume logged a gap for (subscriber_resume's on_gap). */
static void on_gap(void *ctx, const channel *ch) {
    buf_append_str(ctx, "[/");
    buf_append(ctx, ch->name, ch->name_len);
    buf_append_str(ctx, "] ");
}

static void check_resume(const void *arg) {
    const resume_case *c = arg;
    hub h;
    CHECK(hub_fixture_init(&h, c->history, 0, 1 << 20) == 0);
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
    CHECK(subscriber_attach(&h.subs, s, chans, n) == 0);
    buf got = BUF_INIT;
    subscriber_resume(&h.subs, s, c->last_id, c->last_id ? strlen(c->last_id) : 0, c->replay, on_gap, &got);
    hub_fixture_drain(&h, s, &got, NULL);
    if (got.len)
        got.len--; /* the last space */
    buf_append_char(&got, '\0');
    CHECK_STR(got.data, c->want);
    subscriber_detach(&h.subs, s);
    free(s);
    buf_free(&got);
    hub_free(&h);
}

/* A cluster's hole in history (hub_mark_hole): x holds 10, 11, then, after
 * a hole that lost the events up to 14, 15, 16 (and 17 for the case with
 * history 2). A replay that crosses the hole is told where it is; a
 * resume at or after its last lost event is past it. */
typedef struct hole_case {
    const char *name;
    size_t history;
    const char *last_id; /* NULL: no Last-Event-ID */
    size_t replay;
    const char *want;
} hole_case;

static const hole_case hole_cases[] = {
    {"hub: a cluster's hole in history: a resume from before it is told where it is", 10, "10", 0,
     "e11 GAP(11>15) e15 e16 e17"},
    {"hub: a cluster's hole: a resume from the last event before it is told at once", 10, "11", 0,
     "GAP(11>15) e15 e16 e17"},
    {"hub: a cluster's hole: a numeric resume inside it, before its last lost event, is told", 10, "12", 0,
     "GAP(11>15) e15 e16 e17"},
    {"hub: a cluster's hole: a numeric resume at its last lost event is past it: no gap", 10, "14", 0,
     "e15 e16 e17"},
    {"hub: a cluster's hole: a replay of the newest events that starts after it: no gap", 10, NULL, 3,
     "e15 e16 e17"},
    {"hub: a cluster's hole: a replay of the newest events across it is told", 10, NULL, 4,
     "e11 GAP(11>15) e15 e16 e17"},
    {"hub: a cluster's hole evicted with its event: a resume from before it is a gap by eviction", 2, "11", 0,
     "[/x] GAP(11>16) e16 e17"},
};

static void check_hole(const void *arg) {
    const hole_case *c = arg;
    static const char *const ids[] = {"10", "11", "15", "16", "17"};
    hub h;
    CHECK(hub_fixture_init(&h, c->history, 0, 1 << 20) == 0);
    channel *ch = hub_channel_acquire(&h, "x", 1, HUB_FOR_PUBLISHING);
    CHECK(ch != NULL);
    for (size_t i = 0; i < 5; i++) {
        char data[8];
        snprintf(data, sizeof data, "e%s", ids[i]);
        sse_out_event ev = {NULL, 0, ids[i], strlen(ids[i]), 1, data, strlen(data), -1};
        CHECK(hub_publish_event(&h, ch, &ev) == SSE_ENCODE_OK);
        if (strcmp(ids[i], "15") == 0)
            hub_mark_hole(&h, ch, 11, 14);
    }
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h.subs, s, &ch, 1) == 0);
    buf got = BUF_INIT;
    subscriber_resume(&h.subs, s, c->last_id, c->last_id ? strlen(c->last_id) : 0, c->replay, on_gap, &got);
    hub_fixture_drain(&h, s, &got, NULL);
    if (got.len)
        got.len--; /* the last space */
    buf_append_char(&got, '\0');
    CHECK_STR(got.data, c->want);
    subscriber_detach(&h.subs, s);
    free(s);
    buf_free(&got);
    hub_free(&h);
}

/* 40 events of 200 bytes owed to a subscriber allowed 4 KiB: it gets them
 * all, in windows of about half that, never overflowing. */
static void check_replay_windows(const void *arg) {
    (void)arg;
    hub h;
    CHECK(hub_fixture_init(&h, 100, 0, 4096) == 0);
    channel *ch = hub_channel_acquire(&h, "w", 1, HUB_FOR_PUBLISHING);
    char data[201];
    memset(data, 'x', 200);
    data[200] = '\0';
    for (int i = 0; i < 40; i++)
        hub_fixture_publish_text(&h, ch, data);
    channel *sub_ch = hub_channel_acquire(&h, "w", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h.subs, s, &sub_ch, 1) == 0);
    subscriber_resume(&h.subs, s, NULL, 0, 100, NULL, NULL);
    buf got = BUF_INIT;
    size_t largest = 0;
    size_t windows = hub_fixture_drain(&h, s, &got, &largest);
    CHECK(!s->overflowed);
    CHECK(!s->replaying);
    CHECK(windows >= 4);
    CHECK(largest <= 2048 + 300);
    CHECK(got.len == 40 * 201);
    /* Live from now on: the next event is queued at publish. */
    hub_fixture_publish_text(&h, ch, "live");
    CHECK(s->q_len == 1);
    subscriber_detach(&h.subs, s);
    free(s);
    buf_free(&got);
    hub_channel_release(&h, ch);
    hub_free(&h);
}

/* While it replays, live events reach it through history, in order. */
static void check_publish_during_replay(const void *arg) {
    (void)arg;
    hub h;
    CHECK(hub_fixture_init(&h, 100, 0, 1024) == 0);
    channel *ch = hub_channel_acquire(&h, "r", 1, HUB_FOR_PUBLISHING);
    char data[301];
    memset(data, 'y', 300);
    data[300] = '\0';
    for (int i = 0; i < 5; i++)
        hub_fixture_publish_text(&h, ch, data);
    channel *sub_ch = hub_channel_acquire(&h, "r", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h.subs, s, &sub_ch, 1) == 0);
    subscriber_resume(&h.subs, s, NULL, 0, 5, NULL, NULL);
    CHECK(s->replaying);
    hub_fixture_publish_text(&h, ch, "late");
    buf got = BUF_INIT;
    hub_fixture_drain(&h, s, &got, NULL);
    buf_append_char(&got, '\0');
    CHECK(strstr(got.data, "late ") == got.data + 5 * 301);
    subscriber_detach(&h.subs, s);
    free(s);
    buf_free(&got);
    hub_channel_release(&h, ch);
    hub_free(&h);
}

/* A channel lives while anything holds it or it has history: a HEAD or a
 * refused subscription that lets go of it cannot free it under a publisher. */
static void check_channel_holds(const void *arg) {
    (void)arg;
    hub h;
    CHECK(hub_fixture_init(&h, 0, 0, 1 << 20) == 0);
    channel *pub = hub_channel_acquire(&h, "victim", 6, HUB_FOR_PUBLISHING);
    channel *head = hub_channel_acquire(&h, "victim", 6, HUB_FOR_SUBSCRIBING);
    CHECK(pub == head && pub->holders == 2);
    hub_channel_release(&h, head);
    CHECK(hub_channel_find(&h, "victim", 6) == pub);
    hub_fixture_publish_text(&h, pub, "still here");
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
    CHECK(hub_fixture_init(&h, 100, cap, 1 << 20) == 0);
    channel *a = hub_channel_acquire(&h, "a", 1, HUB_FOR_PUBLISHING);
    hub_fixture_publish_text(&h, a, "a-old");
    hub_channel_release(&h, a); /* kept by its history alone */
    CHECK(hub_channel_find(&h, "a", 1) == a);
    channel *b = hub_channel_acquire(&h, "b", 1, HUB_FOR_PUBLISHING);
    for (int i = 0; i < 5; i++)
        hub_fixture_publish_text(&h, b, "b-event-with-some-bytes-in-it-to-fill-the-cap");
    CHECK(h.history.bytes <= cap);
    CHECK(hub_channel_find(&h, "a", 1) == NULL);
    CHECK(b->ring_len >= 1 && b->ring_len < 5);
    CHECK(b->evicted_any);
    CHECK(h.history.evicted_for_memory >= 2);
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
    CHECK(hub_fixture_init(&h, 100, cap, 1 << 20) == 0);
    channel *a = hub_channel_acquire(&h, "a", 1, HUB_FOR_PUBLISHING);
    sse_out_event first = {NULL, 0, "1001", 4, 1, "a1", 2, -1};
    CHECK(hub_publish_event(&h, a, &first) == SSE_ENCODE_OK);
    hub_fixture_publish_text(&h, a, "a2");
    hub_channel_release(&h, a);
    channel *b = hub_channel_acquire(&h, "b", 1, HUB_FOR_PUBLISHING);
    for (int i = 0; i < 6; i++)
        hub_fixture_publish_text(&h, b, "b-event-with-some-bytes-in-it-to-fill-the-cap");
    CHECK(hub_channel_find(&h, "a", 1) == NULL);
    a = hub_channel_acquire(&h, "a", 1, HUB_FOR_SUBSCRIBING);
    subscriber *s = calloc(1, sizeof *s);
    CHECK(subscriber_attach(&h.subs, s, &a, 1) == 0);
    buf got = BUF_INIT;
    subscriber_resume(&h.subs, s, "1001", 4, 0, on_gap, &got);
    hub_fixture_drain(&h, s, &got, NULL);
    buf_append_char(&got, '\0');
    CHECK_STR(got.data, "[/a] GAP(1001>null) ");
    subscriber_detach(&h.subs, s);
    free(s);
    buf_free(&got);
    hub_channel_release(&h, b);
    hub_free(&h);

    CHECK(hub_fixture_init(&h, 0, 0, 1 << 20) == 0);
    channel *z = hub_channel_acquire(&h, "z", 1, HUB_FOR_PUBLISHING);
    CHECK(hub_publish_event(&h, z, &first) == SSE_ENCODE_OK);
    hub_fixture_publish_text(&h, z, "missed");
    s = calloc(1, sizeof *s);
    channel *held = hub_channel_acquire(&h, "z", 1, HUB_FOR_SUBSCRIBING);
    CHECK(subscriber_attach(&h.subs, s, &held, 1) == 0);
    buf got0 = BUF_INIT;
    subscriber_resume(&h.subs, s, "1001", 4, 0, on_gap, &got0);
    hub_fixture_drain(&h, s, &got0, NULL);
    buf_append_char(&got0, '\0');
    CHECK_STR(got0.data, "[/z] GAP(1001>null) ");
    subscriber_detach(&h.subs, s);
    free(s);
    buf_free(&got0);
    hub_channel_release(&h, z);
    hub_free(&h);
}

/* Publish events with these ids, each to the channel named by its first
 * letter (a1 to a, b2 to b). */
static void publish_ids(hub *h, const char *const *ids) {
    for (; *ids; ids++) {
        channel *ch = hub_channel_acquire(h, *ids, 1, HUB_FOR_PUBLISHING);
        CHECK(ch != NULL);
        sse_out_event ev = {NULL, 0, *ids, strlen(*ids), 1, *ids, strlen(*ids), -1};
        CHECK(hub_publish_event(h, ch, &ev) == SSE_ENCODE_OK);
        hub_channel_release(h, ch);
    }
}

/* The gap decision is each channel's own: a resume over a and b where only
 * b evicted what followed the id has a gap in b alone, and a starts after
 * the id. */
static void check_find_start(const void *arg) {
    (void)arg;
    hub h;
    CHECK(hub_fixture_init(&h, 2, 0, 1 << 20) == 0);
    publish_ids(&h, (const char *const[]){"a1", "b1", "b2", "b3", NULL});
    channel *chans[2] = {hub_channel_find(&h, "a", 1), hub_channel_find(&h, "b", 1)};
    history_start start[2];
    history_find_start(&h.history, chans, 2, "a1", 2, 0, start);
    CHECK(start[0].offset == 1 && !start[0].gap); /* a: after a1, nothing lost */
    CHECK(start[1].offset == 0 && start[1].gap);  /* b: b1 evicted */
    history_find_start(&h.history, chans, 2, "b2", 2, 0, start);
    CHECK(start[0].offset == 1 && !start[0].gap);
    CHECK(start[1].offset == 1 && !start[1].gap); /* b3 next */
    /* b1 is no longer held: an unknown id, a gap in each */
    history_find_start(&h.history, chans, 2, "b1", 2, 0, start);
    CHECK(start[0].offset == 0 && start[0].gap && start[1].offset == 0 && start[1].gap);
    /* too long to be an id ssed holds: a gap in each */
    char long_id[HUB_MAX_ID_LEN + 1];
    memset(long_id, '9', sizeof long_id);
    history_find_start(&h.history, chans, 2, long_id, sizeof long_id, 0, start);
    CHECK(start[0].gap && start[1].gap);
    /* no id: the last two in publish order, never a gap */
    history_find_start(&h.history, chans, 2, NULL, 0, 2, start);
    CHECK(start[0].offset == 1 && !start[0].gap && start[1].offset == 0 && !start[1].gap);
    hub_free(&h);
}

/* A hole the cluster could not fill is told to each live subscriber of its
 * channel with the same notice: naming the channel on a stream of several,
 * as documented for one; a subscriber still replaying is not told (its
 * replay reads history). */
static void check_announce_gap(const void *arg) {
    (void)arg;
    hub h;
    CHECK(hub_fixture_init(&h, 10, 0, 1 << 20) == 0);
    publish_ids(&h, (const char *const[]){"c1", "d1", NULL});
    channel *one = hub_channel_acquire(&h, "c", 1, HUB_FOR_SUBSCRIBING);
    channel *two[2] = {hub_channel_acquire(&h, "d", 1, HUB_FOR_SUBSCRIBING),
                       hub_channel_acquire(&h, "c", 1, HUB_FOR_SUBSCRIBING)};
    subscriber *single = calloc(1, sizeof *single), *multi = calloc(1, sizeof *multi);
    CHECK(subscriber_attach(&h.subs, single, &one, 1) == 0);
    CHECK(subscriber_attach(&h.subs, multi, two, 2) == 0);
    subscriber_resume(&h.subs, single, "c1", 2, 0, NULL, NULL);
    subscriber_resume(&h.subs, multi, "d1", 2, 0, NULL, NULL);
    hub_announce_gap(&h, hub_channel_find(&h, "c", 1), "7", 1, "c9", 2);
    buf got = BUF_INIT;
    hub_fixture_drain(&h, single, &got, NULL);
    buf_append_str(&got, "| ");
    hub_fixture_drain(&h, multi, &got, NULL);
    buf_append_char(&got, '\0');
    CHECK_STR(got.data, "GAP(7>c9) | GAP/c(7>c9) ");
    subscriber_detach(&h.subs, single);
    subscriber_detach(&h.subs, multi);
    free(single);
    free(multi);
    buf_free(&got);
    hub_free(&h);
}

void hub_tests_register(void) {
    for (size_t i = 0; i < sizeof resume_cases / sizeof resume_cases[0]; i++)
        harness_add(resume_cases[i].name, check_resume, &resume_cases[i]);
    for (size_t i = 0; i < sizeof hole_cases / sizeof hole_cases[0]; i++)
        harness_add(hole_cases[i].name, check_hole, &hole_cases[i]);
    harness_add("hub: history owed beyond --max-pending is replayed in windows", check_replay_windows, NULL);
    harness_add("hub: events published during a replay come after it, in order", check_publish_during_replay, NULL);
    harness_add("hub: a channel held by a publisher survives others letting go", check_channel_holds, NULL);
    harness_add("hub: waiting subscribers and publishers have separate channel budgets", check_channel_budgets,
                NULL);
    harness_add("hub: the global history byte cap evicts the oldest of any channel", check_history_bytes, NULL);
    harness_add("hub: a channel freed with evictions and made again still reports the gap",
                check_gap_after_channel_forgotten, NULL);
    harness_add("hub: the gap decision is per channel: only the channel that evicted has a gap", check_find_start,
                NULL);
    harness_add("hub: a cluster's hole is told to each live subscriber with the one notice, naming its channel on "
                "streams of several",
                check_announce_gap, NULL);
}
