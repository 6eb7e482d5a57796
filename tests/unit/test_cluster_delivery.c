/* The cluster's per-channel continuity (cmd/ssed/cluster_delivery.c) over
 * recording hooks: events in order, duplicates, holes filled, fills that
 * come back empty or fail, a channel first seen mid-stream, a resync's
 * quiet first read, the bound on held messages, and batch messages (one
 * per script call): split in order, a lost batch filled, a cut one. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "../../cmd/ssed/cluster_delivery.h"

typedef struct recorder {
    char log[4096]; /* "d1 d2 q3 g(1>3) f(0) ..." in order */
    size_t len;
    int fill_rc;    /* what the fill hook answers */
    int fills;
} recorder;

static void note(recorder *r, const char *fmt, unsigned long long a, unsigned long long b) {
    int n = snprintf(r->log + r->len, sizeof r->log - r->len, fmt, a, b);
    if (n > 0 && (size_t)n < sizeof r->log - r->len)
        r->len += (size_t)n;
}

static void on_deliver(void *ctx, const char *chan, size_t len, const cluster_event *ev, int live) {
    (void)chan, (void)len;
    note(ctx, live ? "d%llu " : "q%llu ", (unsigned long long)ev->n, 0);
}

static void on_gap(void *ctx, const char *chan, size_t len, uint64_t last, const cluster_event *ev) {
    (void)chan, (void)len;
    note(ctx, "g(%llu>%llu) ", (unsigned long long)last, (unsigned long long)ev->n);
}

static int on_fill(void *ctx, const char *chan, size_t len, uint64_t after) {
    recorder *r = ctx;
    (void)chan, (void)len;
    r->fills++;
    note(r, "f(%llu) ", (unsigned long long)after, 0);
    return r->fill_rc;
}

/* A message as the script makes it: "N PREV " and an event without id. */
static const char *msg(uint64_t n, uint64_t prev) {
    static char text[8][64];
    static unsigned slot;
    char *t = text[slot++ % 8];
    snprintf(t, 64, "%llu %llu -1 0 -1\nx", (unsigned long long)n, (unsigned long long)prev);
    return t;
}

static void message(delivery *d, uint64_t n, uint64_t prev) {
    const char *m = msg(n, prev);
    delivery_message(d, "c", 1, m, strlen(m));
}

/* A fill's answer holding events first..last, each following the one before. */
static void filled(delivery *d, uint64_t first, uint64_t last, int more) {
    const char *msgs[16];
    size_t lens[16], count = 0;
    char keep[16][64];
    for (uint64_t n = first; n && n <= last && count < 16; n++, count++) {
        snprintf(keep[count], sizeof keep[count], "%s", msg(n, n - 1));
        msgs[count] = keep[count];
        lens[count] = strlen(keep[count]);
    }
    delivery_filled(d, "c", 1, msgs, lens, count, more);
}

static void start(delivery *d, recorder *r) {
    memset(r, 0, sizeof *r);
    delivery_hooks h = {on_deliver, on_gap, on_fill, r};
    CHECK(delivery_init(d, &h) == 0);
}

static void test_in_order_and_duplicates(const void *arg) {
    (void)arg;
    delivery d;
    recorder r;
    start(&d, &r);
    message(&d, 1, 0);
    message(&d, 2, 1);
    message(&d, 2, 1);
    message(&d, 1, 0);
    CHECK_STR(r.log, "d1 d2 ");
    CHECK(d.stats.duplicates_dropped == 2);
    CHECK(delivery_caught_up(&d));
    delivery_free(&d);
}

static void test_hole_filled(const void *arg) {
    (void)arg;
    delivery d;
    recorder r;
    start(&d, &r);
    message(&d, 1, 0);
    message(&d, 3, 2); /* 2 was lost: read it, hold 3 and 4 meanwhile */
    message(&d, 4, 3);
    CHECK(!delivery_caught_up(&d));
    filled(&d, 2, 3, 0);
    CHECK_STR(r.log, "d1 f(1) d2 d3 d4 ");
    CHECK(d.stats.gaps == 0 && d.stats.filled == 2);
    delivery_free(&d);
}

static void test_empty_fill_is_a_gap(const void *arg) {
    (void)arg;
    delivery d;
    recorder r;
    start(&d, &r);
    message(&d, 1, 0);
    message(&d, 5, 4);
    filled(&d, 0, 0, 0); /* the stream no longer has 2..4 */
    CHECK_STR(r.log, "d1 f(1) g(1>5) d5 ");
    CHECK(d.stats.gaps == 1);
    delivery_free(&d);
}

static void test_first_seen_mid_stream(const void *arg) {
    (void)arg;
    delivery d;
    recorder r;
    start(&d, &r);
    message(&d, 7, 6);
    filled(&d, 5, 7, 0);
    CHECK_STR(r.log, "f(0) d5 d6 d7 ");
    CHECK(d.stats.gaps == 0);
    delivery_free(&d);
}

static void test_failed_fill_is_retried(const void *arg) {
    (void)arg;
    delivery d;
    recorder r;
    start(&d, &r);
    message(&d, 1, 0);
    message(&d, 3, 2);
    delivery_fill_failed(&d, "c", 1);
    message(&d, 4, 3); /* still held behind the fill */
    CHECK_STR(r.log, "d1 f(1) ");
    CHECK(d.stats.fills_failed == 1);
    delivery_retry_fills(&d);
    filled(&d, 2, 4, 0);
    CHECK_STR(r.log, "d1 f(1) f(1) d2 d3 d4 ");
    CHECK(delivery_caught_up(&d));
    delivery_free(&d);
}

static void test_resync_first_read_is_quiet(const void *arg) {
    (void)arg;
    delivery d;
    recorder r;
    start(&d, &r);
    const char *names[] = {"c"};
    size_t lens[] = {1};
    delivery_resync(&d, names, lens, 1);
    CHECK(!delivery_caught_up(&d));
    filled(&d, 1, 2, 0);
    message(&d, 3, 2);
    CHECK_STR(r.log, "f(0) q1 q2 d3 ");
    CHECK(delivery_caught_up(&d));
    delivery_free(&d);
}

/* Pub/sub dropped before the node delivered anything of a channel: the
 * resync's read is of events its subscribers are waiting for. */
static void test_later_resync_is_live(const void *arg) {
    (void)arg;
    delivery d;
    recorder r;
    start(&d, &r);
    const char *names[] = {"c"};
    size_t lens[] = {1};
    delivery_resync(&d, names, lens, 1);
    filled(&d, 1, 0, 0); /* at start the stream is empty */
    delivery_resync(&d, names, lens, 1);
    filled(&d, 1, 2, 0);
    CHECK_STR(r.log, "f(0) f(0) d1 d2 ");
    delivery_free(&d);
}

static void test_held_messages_are_bounded(const void *arg) {
    (void)arg;
    delivery d;
    recorder r;
    start(&d, &r);
    r.fill_rc = -1; /* Redis down: the fill cannot even be sent */
    message(&d, 1, 0);
    for (uint64_t n = 3; n < 3 + DELIVERY_HELD_MAX + 10; n++)
        message(&d, n, n - 1);
    CHECK(d.stats.held_dropped == DELIVERY_HELD_MAX);
    CHECK(d.stats.delivered == 1);
    r.fill_rc = 0;
    delivery_retry_fills(&d);
    filled(&d, 2, 3, 0); /* the stream still has them; what was dropped is read back */
    CHECK(d.stats.gaps == 0);
    delivery_free(&d);
}

/* A batch message as the script publishes it: events first..last of one
 * call, the first following `prev`; `cut` bytes are left off its end. */
static void batch(delivery *d, uint64_t first, uint64_t last, uint64_t prev, size_t cut) {
    char text[1024];
    int len = snprintf(text, sizeof text, "*%llu\n", (unsigned long long)(last - first + 1));
    for (uint64_t n = first; n <= last; n++) {
        const char *m = msg(n, n == first ? prev : n - 1);
        len += snprintf(text + len, sizeof text - (size_t)len, "%zu\n%s", strlen(m), m);
    }
    delivery_message(d, "c", 1, text, (size_t)len - cut);
}

static void test_batch_split_in_order(const void *arg) {
    (void)arg;
    delivery d;
    recorder r;
    start(&d, &r);
    batch(&d, 1, 3, 0, 0);
    batch(&d, 4, 5, 3, 0);
    message(&d, 6, 5); /* a single event's message still works */
    batch(&d, 4, 5, 3, 0); /* a batch seen twice */
    CHECK_STR(r.log, "d1 d2 d3 d4 d5 d6 ");
    CHECK(d.stats.duplicates_dropped == 2 && d.stats.holes == 0 && d.stats.malformed == 0);
    delivery_free(&d);
}

static void test_lost_batch_is_filled(const void *arg) {
    (void)arg;
    delivery d;
    recorder r;
    start(&d, &r);
    batch(&d, 1, 3, 0, 0);
    batch(&d, 7, 9, 6, 0); /* the batch of 4..6 was lost: a hole between batches */
    batch(&d, 10, 11, 9, 0);
    CHECK(!delivery_caught_up(&d));
    filled(&d, 4, 9, 0); /* the stream has every event of both */
    CHECK_STR(r.log, "d1 d2 d3 f(3) d4 d5 d6 d7 d8 d9 d10 d11 ");
    CHECK(d.stats.holes == 1 && d.stats.filled == 6 && d.stats.gaps == 0);
    CHECK(delivery_caught_up(&d));
    delivery_free(&d);
}

static void test_cut_batch(const void *arg) {
    (void)arg;
    delivery d;
    recorder r;
    start(&d, &r);
    batch(&d, 1, 3, 0, 4); /* the third event is cut short */
    CHECK(d.stats.malformed == 1);
    batch(&d, 4, 4, 3, 0);
    filled(&d, 3, 3, 0);
    CHECK_STR(r.log, "d1 d2 f(2) d3 d4 ");
    delivery_message(&d, "c", 1, "*", 1);
    delivery_message(&d, "c", 1, "*2\n99\nshort", 11);
    delivery_message(&d, "c", 1, "*-1\n", 4);
    CHECK(d.stats.malformed == 4 && d.stats.delivered == 4);
    delivery_free(&d);
}

void cluster_delivery_tests_register(void) {
    harness_add("cluster delivery: a batch message is split, its events checked in order", test_batch_split_in_order,
                NULL);
    harness_add("cluster delivery: a lost batch is a hole, filled from the stream", test_lost_batch_is_filled, NULL);
    harness_add("cluster delivery: a cut or garbled batch loses only what is cut", test_cut_batch, NULL);
    harness_add("cluster delivery: in order, duplicates dropped", test_in_order_and_duplicates, NULL);
    harness_add("cluster delivery: a hole is filled, later messages held", test_hole_filled, NULL);
    harness_add("cluster delivery: an empty fill announces the gap", test_empty_fill_is_a_gap, NULL);
    harness_add("cluster delivery: a channel first seen mid-stream reads its tail", test_first_seen_mid_stream, NULL);
    harness_add("cluster delivery: a failed fill is asked again, messages still held", test_failed_fill_is_retried,
                NULL);
    harness_add("cluster delivery: a resync's first read goes to history only", test_resync_first_read_is_quiet, NULL);
    harness_add("cluster delivery: a later resync's read goes to subscribers", test_later_resync_is_live, NULL);
    harness_add("cluster delivery: held messages are bounded", test_held_messages_are_bounded, NULL);
}
