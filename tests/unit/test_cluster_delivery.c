/* The cluster's per-channel continuity (cmd/ssed/cluster_delivery.c) over
 * recording hooks: events in order, duplicates, holes filled, fills that
 * come back empty or fail, a channel first seen mid-stream, a resync's
 * quiet first read, the bound on held messages, and the script's messages
 * (cmd/ssed/cluster_message.c; one per call, a range of numbers): split in
 * order, a lost one filled from entries that hold many events, a cut or
 * garbled one, a tail read kept to --history, and the formats of the
 * version before (single-event entries, "*" batches). */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "cluster_check_budget.h"
#include "cluster_delivery.h"

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

/* One event's framed encoding ("LEN\n" then an event without id). */
static int framed(char *out, size_t cap, uint64_t n) {
    char enc[48];
    int len = snprintf(enc, sizeof enc, "-1 0 -1\nx%llu", (unsigned long long)n);
    return snprintf(out, cap, "%d\n%s", len, enc);
}

/* A script call's message (and stream entry): events first..last, the
 * first following `prev`; `cut` bytes are left off its end. */
static size_t range_text(char *text, size_t cap, uint64_t first, uint64_t last, uint64_t prev, size_t cut) {
    int len = snprintf(text, cap, "#%llu %llu %llu\n", (unsigned long long)first, (unsigned long long)prev,
                       (unsigned long long)(last - first + 1));
    for (uint64_t n = first; n <= last; n++)
        len += framed(text + len, cap - (size_t)len, n);
    return (size_t)len - cut;
}

static void batch(delivery *d, uint64_t first, uint64_t last, uint64_t prev, size_t cut) {
    char text[2048];
    size_t len = range_text(text, sizeof text, first, last, prev, cut);
    delivery_message(d, "c", 1, text, len);
}

/* A call of one event. */
static void message(delivery *d, uint64_t n, uint64_t prev) { batch(d, n, n, prev, 0); }

/* A fill's answer holding events first..last, each following the one
 * before, one per entry, as a call of one event stores it. */
static void filled(delivery *d, uint64_t first, uint64_t last, uint64_t read_on_after) {
    const char *msgs[16];
    size_t lens[16], count = 0;
    char keep[16][64];
    for (uint64_t n = first; n && n <= last && count < 16; n++, count++) {
        lens[count] = range_text(keep[count], sizeof keep[count], n, n, n - 1, 0);
        msgs[count] = keep[count];
    }
    delivery_filled(d, "c", 1, msgs, lens, count, read_on_after);
}

/* A fill's answer of whole entries, each a call's range: {first, last}
 * pairs, each entry following the one before. */
static void filled_entries(delivery *d, const uint64_t (*ranges)[2], size_t count) {
    const char *msgs[8];
    size_t lens[8];
    char keep[8][1024];
    for (size_t i = 0; i < count && i < 8; i++) {
        uint64_t prev = ranges[i][0] - 1;
        lens[i] = range_text(keep[i], sizeof keep[i], ranges[i][0], ranges[i][1], prev, 0);
        msgs[i] = keep[i];
    }
    delivery_filled(d, "c", 1, msgs, lens, count, 0);
}

static void start_with_history(delivery *d, recorder *r, uint64_t history) {
    memset(r, 0, sizeof *r);
    delivery_hooks h = {on_deliver, on_gap, on_fill, r};
    CHECK(delivery_init(d, &h, history) == 0);
}

static void start(delivery *d, recorder *r) { start_with_history(d, r, 0); }

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

/* After Redis lost its data the publish script finds no previous number
 * (prev 0): such an event, found in the stream, follows what was
 * delivered, as written back; one that the stream does not hold is still
 * a gap. */
static void test_no_previous_after_a_loss(const void *arg) {
    (void)arg;
    delivery d;
    recorder r;
    start(&d, &r);
    message(&d, 1, 0);
    message(&d, 2, 1);
    message(&d, 900, 0); /* the first event after the loss */
    message(&d, 901, 900);
    const char *msgs[1];
    size_t lens[1];
    char keep[64];
    lens[0] = range_text(keep, sizeof keep, 900, 900, 0, 0);
    msgs[0] = keep;
    delivery_filled(&d, "c", 1, msgs, lens, 1, 0);
    CHECK_STR(r.log, "d1 d2 f(2) d900 d901 ");
    CHECK(d.stats.gaps == 0); /* the held 900 is dropped, delivered by the fill */
    message(&d, 950, 0); /* not in the stream: the fill finds nothing */
    filled(&d, 0, 0, 0);
    CHECK_STR(r.log, "d1 d2 f(2) d900 d901 f(901) g(901>950) d950 ");
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
    static const char *const garbled[] = {
        "#", "#5 4", "#5 4 2\n", "#5 4 2\n99\nshort", "#5 4 -1\n", "#5 4 0\n", "#0 0 1\n8\n-1 0 -1\n",
        /* a range past what a number holds */
        "#9223372036854775807 4 2\n8\n-1 0 -1\n8\n-1 0 -1\n", "#99999999999999999999 4 1\n8\n-1 0 -1\n",
        /* numbers the script never writes (2^53 on, or not after the
         * previous one), from any Redis client: trusted, they would put the
         * channel out of reach of every real event */
        "#9007199254740992 4 1\n8\n-1 0 -1\n", "#9007199254740991 4 2\n8\n-1 0 -1\n8\n-1 0 -1\n",
        "#5 5 1\n8\n-1 0 -1\n", "#5 9 1\n8\n-1 0 -1\n", "9 9 -1 0 -1\n", "9007199254740993 4 -1 0 -1\n",
        "#5 4 1\n0\n", "#5 4 1\n-3\nabc",
        /* a valid first event (seen already), then garbage, or fewer than counted */
        "#4 3 1\n8\n-1 0 -1\nextra", "#4 3 9999999999\n8\n-1 0 -1\n",
        /* the version before's batches, and what is no format at all */
        "*", "*2\n99\nshort", "*-1\n", "", "5", "x y z",
    };
    for (size_t i = 0; i < sizeof garbled / sizeof *garbled; i++)
        delivery_message(&d, "c", 1, garbled[i], strlen(garbled[i]));
    CHECK(d.stats.malformed == 1 + sizeof garbled / sizeof *garbled);
    CHECK(d.stats.delivered == 4);
    delivery_free(&d);
}

/* Only when an event is next is its encoding parsed: a call's bad one is
 * dropped and the rest of the call goes on. */
static void test_bad_encoding_in_a_call(const void *arg) {
    (void)arg;
    delivery d;
    recorder r;
    start(&d, &r);
    const char text[] = "#1 0 3\n9\n-1 0 -1\nx15\nno numbers here9\n-1 0 -1\ny";
    delivery_message(&d, "c", 1, text, sizeof text - 1);
    CHECK(d.stats.malformed == 1);
    /* 3 does not follow 1: the stream is read, and holds nothing more */
    filled(&d, 0, 0, 0);
    CHECK_STR(r.log, "d1 f(1) g(1>3) d3 ");
    delivery_free(&d);
}

/* An entry holds a whole call: the read for a hole after 5 starts at the
 * entry holding 6, which may begin before it. */
static void test_fill_entry_starts_before_the_hole(const void *arg) {
    (void)arg;
    delivery d;
    recorder r;
    start(&d, &r);
    batch(&d, 1, 5, 0, 0);
    batch(&d, 9, 10, 8, 0); /* the call of 4..8 was heard only in part: 6..8 lost */
    static const uint64_t entries[][2] = {{4, 8}, {9, 10}};
    filled_entries(&d, entries, 2);
    CHECK_STR(r.log, "d1 d2 d3 d4 d5 f(5) d6 d7 d8 d9 d10 ");
    CHECK(d.stats.duplicates_dropped == 2 && d.stats.filled == 5 && d.stats.gaps == 0);
    delivery_free(&d);
}

/* A tail read of whole entries: only the newest --history events go to
 * subscribers; of the older ones only the newest, to history only (where
 * --history lets it go and remembers it, as a single ssed does). */
static void test_tail_read_keeps_history(const void *arg) {
    (void)arg;
    delivery d;
    recorder r;
    start_with_history(&d, &r, 4);
    message(&d, 12, 11); /* a channel first seen mid-stream */
    static const uint64_t entries[][2] = {{1, 3}, {4, 9}, {10, 12}};
    filled_entries(&d, entries, 3);
    CHECK_STR(r.log, "f(0) q8 d9 d10 d11 d12 ");
    CHECK(delivery_caught_up(&d));
    delivery_free(&d);
}

/* A read that stopped at its count goes on after its last entry, even when
 * that entry was garbled, and stops when the stream does not advance. */
static void test_read_on_after_the_last_entry(const void *arg) {
    (void)arg;
    delivery d;
    recorder r;
    start(&d, &r);
    message(&d, 1, 0);
    message(&d, 9, 8);
    const char *msgs[] = {"#2 1 1\n9\n-1 0 -1\nx", "garbled"};
    size_t lens[] = {strlen(msgs[0]), strlen(msgs[1])};
    delivery_filled(&d, "c", 1, msgs, lens, 2, 5); /* the garbled entry was 5-0 */
    CHECK_STR(r.log, "d1 f(1) d2 f(5) ");
    delivery_filled(&d, "c", 1, msgs, lens, 0, 5); /* 5 again: no progress, done */
    CHECK_STR(r.log, "d1 f(1) d2 f(5) g(2>9) d9 ");
    CHECK(delivery_caught_up(&d));
    delivery_free(&d);
}

/* Entries and messages of the version before: one event per stream entry
 * ("N PREV " and its encoding, field e), and "*" batches of such events. */
static void test_formats_of_the_version_before(const void *arg) {
    (void)arg;
    delivery d;
    recorder r;
    start(&d, &r);
    const char old_batch[] = "*2\n13\n1 0 -1 0 -1\na13\n2 1 -1 0 -1\nb";
    delivery_message(&d, "c", 1, old_batch, sizeof old_batch - 1);
    message(&d, 6, 5);
    const char *msgs[] = {"3 2 -1 0 -1\nc", "4 3 -1 0 -1\nd", "#5 4 1\n9\n-1 0 -1\ne"};
    size_t lens[] = {strlen(msgs[0]), strlen(msgs[1]), strlen(msgs[2])};
    delivery_filled(&d, "c", 1, msgs, lens, 3, 0);
    const char old_single[] = "7 6 -1 0 -1\nf";
    delivery_message(&d, "c", 1, old_single, sizeof old_single - 1);
    CHECK_STR(r.log, "d1 d2 f(2) d3 d4 d5 d6 d7 ");
    CHECK(d.stats.malformed == 0 && d.stats.gaps == 0);
    delivery_free(&d);
}

/* Messages waiting for their check: capped by count and by bytes; a
 * message over the byte cap alone passes when nothing else waits; what
 * is given back may be taken again. */
static void test_check_budget_caps(const void *arg) {
    (void)arg;
    check_budget b;
    check_budget_init(&b, 3, 100);
    CHECK(check_budget_take(&b, 40) == 0 && check_budget_take(&b, 40) == 0);
    CHECK(check_budget_take(&b, 30) < 0); /* 110 bytes */
    CHECK(check_budget_take(&b, 20) == 0);
    CHECK(check_budget_take(&b, 1) < 0); /* a fourth message */
    CHECK(b.messages == 3 && b.bytes == 100);
    check_budget_give(&b, 40);
    CHECK(check_budget_take(&b, 40) == 0 && b.messages == 3 && b.bytes == 100);
    check_budget_give(&b, 40), check_budget_give(&b, 40), check_budget_give(&b, 20);
    CHECK(b.messages == 0 && b.bytes == 0);
    CHECK(check_budget_take(&b, 500) == 0);  /* alone, however large */
    CHECK(check_budget_take(&b, 1) < 0);
    check_budget_init(&b, CLUSTER_CHECK_MAX_MESSAGES, CLUSTER_CHECK_MAX_BYTES);
    size_t taken = 0;
    while (taken < 2 * CLUSTER_CHECK_MAX_MESSAGES && check_budget_take(&b, 64) == 0)
        taken++;
    CHECK(taken == CLUSTER_CHECK_MAX_MESSAGES);
}

typedef struct entry_record {
    char log[256];
    size_t len;
} entry_record;

static void record_entry(void *ctx, uint64_t number, const char *text, size_t len) {
    entry_record *r = ctx;
    int n = snprintf(r->log + r->len, sizeof r->log - r->len, "%llu=[%.*s] ", (unsigned long long)number, (int)len,
                     text);
    if (n > 0 && (size_t)n < sizeof r->log - r->len)
        r->len += (size_t)n;
}

/* The stream entries a message must match (cluster_link_verify.c): a
 * call's message is one (LAST-0, all of it), the version before's batch
 * one per piece, each piece's own text; a malformed one none. */
static void test_entries_a_message_must_match(const void *arg) {
    (void)arg;
    entry_record r = {{0}, 0};
    const char old_batch[] = "*2\n13\n1 0 -1 0 -1\na13\n2 1 -1 0 -1\nb";
    CHECK(cluster_message_entries(old_batch, sizeof old_batch - 1, record_entry, &r) == 2);
    CHECK_STR(r.log, "1=[1 0 -1 0 -1\na] 2=[2 1 -1 0 -1\nb] ");
    r.len = 0;
    const char call[] = "#5 4 2\n9\n-1 0 -1\ne9\n-1 0 -1\nf";
    CHECK(cluster_message_entries(call, sizeof call - 1, record_entry, &r) == 1);
    CHECK(strncmp(r.log, "6=[#5 4 2", 9) == 0);
    const char *bad[] = {"*3\n13\n1 0 -1 0 -1\na", "*1\n99\n1 0 -1 0 -1\na", "*1\n4\nx y ", "#0 0 1\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(cluster_message_entries(bad[i], strlen(bad[i]), record_entry, &r) < 0);
}

/* What a node frames (cluster_batch_add) is what it reads back once the
 * script put its header before it: type, id, data (any byte) and retry. */
typedef struct split_record {
    cluster_event ev[3];
    char copy[3][64];
    size_t count;
} split_record;

static void record_event(void *ctx, uint64_t n, uint64_t prev, const char *enc, size_t len) {
    split_record *rec = ctx;
    if (rec->count < 3 && len <= sizeof rec->copy[0]) {
        memcpy(rec->copy[rec->count], enc, len);
        if (cluster_event_parse(rec->copy[rec->count], len, n, prev, &rec->ev[rec->count]) == 0)
            rec->count++;
    }
}

static void test_framed_events_round_trip(const void *arg) {
    (void)arg;
    cluster_batch b = {0};
    sse_out_event in[3] = {
        {"tick", 4, "own-7", 5, 1, "a\nb", 3, 1500},
        {NULL, 0, NULL, 0, 0, "\0\xff\n\n", 4, -1},
        {NULL, 0, "", 0, 1, "", 0, -1},
    };
    for (size_t i = 0; i < 3; i++)
        CHECK(cluster_batch_add(&b, &in[i]) == 0);
    CHECK(b.count == 3 && b.ends[2] == b.bytes.len);
    buf msg = BUF_INIT;
    buf_printf(&msg, "#40 38 3\n");
    buf_append(&msg, b.bytes.data, b.bytes.len);
    split_record rec = {0};
    CHECK(cluster_message_split(msg.data, msg.len, record_event, &rec) == 0);
    CHECK(cluster_message_count(msg.data, msg.len) == 3);
    CHECK(rec.count == 3);
    for (size_t i = 0; i < rec.count; i++) {
        const sse_out_event *got = &rec.ev[i].ev;
        CHECK(rec.ev[i].n == 40 + i && rec.ev[i].prev == (i ? 39 + i : 38));
        CHECK(got->data_len == in[i].data_len && memcmp(got->data, in[i].data, in[i].data_len) == 0);
        CHECK(got->retry_ms == in[i].retry_ms && got->type_len == in[i].type_len);
    }
    CHECK(rec.ev[0].ev.id_len == 5 && memcmp(rec.ev[0].ev.id, "own-7", 5) == 0);
    CHECK(rec.ev[1].ev.id_len == 2 && memcmp(rec.ev[1].ev.id, "41", 2) == 0); /* none of its own: its number */
    CHECK(rec.ev[2].ev.has_id && rec.ev[2].ev.id_len == 0);
    buf_free(&msg);
    cluster_batch_free(&b);
}

void cluster_delivery_tests_register(void) {
    harness_add("cluster message: framed events come back as they were, numbered "
                "as a range",
                test_framed_events_round_trip, NULL);
    harness_add("cluster delivery: a batch message is split, its events checked in order", test_batch_split_in_order,
                NULL);
    harness_add("cluster delivery: a lost batch is a hole, filled from the stream", test_lost_batch_is_filled, NULL);
    harness_add("cluster delivery: a cut or garbled batch loses only what is cut", test_cut_batch, NULL);
    harness_add("cluster delivery: a call's badly encoded event is dropped, the "
                "rest delivered",
                test_bad_encoding_in_a_call, NULL);
    harness_add("cluster delivery: a fill's first entry may start before the hole",
                test_fill_entry_starts_before_the_hole, NULL);
    harness_add("cluster delivery: a tail read sends only the newest --history "
                "events live",
                test_tail_read_keeps_history, NULL);
    harness_add("cluster delivery: a read stopped at its count goes on after its "
                "last entry",
                test_read_on_after_the_last_entry, NULL);
    harness_add("cluster delivery: entries and batches of the version before are read",
                test_formats_of_the_version_before, NULL);
    harness_add("cluster check budget: messages waiting for their check are capped by count and bytes",
                test_check_budget_caps, NULL);
    harness_add("cluster message: the stream entries a message must match, piece by piece for the version "
                "before's batch",
                test_entries_a_message_must_match, NULL);
    harness_add("cluster delivery: in order, duplicates dropped", test_in_order_and_duplicates, NULL);
    harness_add("cluster delivery: a hole is filled, later messages held", test_hole_filled, NULL);
    harness_add("cluster delivery: an empty fill announces the gap", test_empty_fill_is_a_gap, NULL);
    harness_add("cluster delivery: an event with no previous one, found in the stream after Redis lost its data, "
                "is no gap",
                test_no_previous_after_a_loss, NULL);
    harness_add("cluster delivery: a channel first seen mid-stream reads its tail", test_first_seen_mid_stream, NULL);
    harness_add("cluster delivery: a failed fill is asked again, messages still held", test_failed_fill_is_retried,
                NULL);
    harness_add("cluster delivery: a resync's first read goes to history only", test_resync_first_read_is_quiet, NULL);
    harness_add("cluster delivery: a later resync's read goes to subscribers", test_later_resync_is_live, NULL);
    harness_add("cluster delivery: held messages are bounded", test_held_messages_are_bounded, NULL);
}
