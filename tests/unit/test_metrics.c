/* /_ssed/metrics' pieces: the latency histogram's buckets, label escaping,
 * and which deliveries are timed (live ones, not history replays). */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "harness.h"
#include "hub.h"
#include "metrics.h"

static void latency_buckets(const void *arg) {
    (void)arg;
    latency_histogram h;
    memset(&h, 0, sizeof h);
    latency_observe(&h, 0);        /* first bucket */
    latency_observe(&h, 100);      /* le="0.0001" is inclusive */
    latency_observe(&h, 101);      /* second */
    latency_observe(&h, 10000000); /* the last bound */
    latency_observe(&h, 10000001); /* +Inf */
    CHECK(h.buckets[0] == 2);
    CHECK(h.buckets[1] == 1);
    CHECK(h.buckets[LATENCY_BOUNDS - 1] == 1);
    CHECK(h.buckets[LATENCY_BOUNDS] == 1);
    CHECK(h.count == 5);
    CHECK(h.sum_us == 100 + 101 + 10000000 + 10000001);
    for (size_t i = 1; i < LATENCY_BOUNDS; i++)
        CHECK(latency_bound_us[i] > latency_bound_us[i - 1]);
}

static void label_escaping(const void *arg) {
    (void)arg;
    const struct {
        const char *in, *want;
    } cases[] = {
        {"news/eu-1.x~y_z", "news/eu-1.x~y_z"},
        {"a\\b", "a\\\\b"},
        {"say \"hi\"", "say \\\"hi\\\""},
        {"two\nlines", "two\\nlines"},
        {"", ""},
    };
    buf out = BUF_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_clear(&out);
        metrics_append_label_value(&out, cases[i].in, strlen(cases[i].in));
        buf_append_char(&out, '\0');
        CHECK_STR(out.data, cases[i].want);
    }
    buf_free(&out);
}

static void publish(hub *h, channel *ch, const char *data) {
    sse_out_event ev = {NULL, 0, NULL, 0, 0, data, strlen(data), -1};
    CHECK(hub_publish_event(h, ch, &ev) == SSE_ENCODE_OK);
}

/* Write out the whole queue as one write at now_us. */
static void write_all(subscriber *s, latency_histogram *lat, uint64_t now_us) {
    CHECK(subscriber_consume(s, s->pending_bytes, lat, now_us) > 0);
}

static void only_live_deliveries_are_timed(const void *arg) {
    (void)arg;
    hub h;
    hub_limits limits = {10, 0, 1 << 20, 100, 100};
    CHECK(hub_init(&h, &limits) == 0);
    channel *ch = hub_channel_acquire(&h, "x", 1, HUB_FOR_PUBLISHING);
    publish(&h, ch, "old1");
    publish(&h, ch, "old2");
    subscriber *s = calloc(1, sizeof *s);
    channel *sub_ch = hub_channel_acquire(&h, "x", 1, HUB_FOR_SUBSCRIBING);
    CHECK(subscriber_attach(&h.subs, s, &sub_ch, 1) == 0);
    subscriber_resume(&h.subs, s, NULL, 0, 2, NULL, NULL);
    latency_histogram lat;
    memset(&lat, 0, sizeof lat);
    subscriber_replay_more(&h.subs, s); /* the two old events, then caught up */
    CHECK(s->q_len == 2);
    write_all(s, &lat, clock_now_us() + 5000000);
    CHECK(lat.count == 0); /* replayed: not timed */
    publish(&h, ch, "live");
    CHECK(s->q_len == 1);
    uint64_t born = s->queue[s->q_head]->born_us;
    CHECK(s->queue[s->q_head]->seq >= s->live_from_seq);
    write_all(s, &lat, born + 300);
    CHECK(lat.count == 1);
    CHECK(lat.sum_us == 300);
    CHECK(lat.buckets[2] == 1); /* 250 µs < 300 µs <= 500 µs */
    subscriber_detach(&h.subs, s);
    free(s);
    hub_channel_release(&h, ch);
    hub_free(&h);
}

void metrics_tests_register(void) {
    harness_add("metrics: latency observations land in the right bucket; bounds increase", latency_buckets, NULL);
    harness_add("metrics: label values escape backslash, quote and newline; channel names pass as they are",
                label_escaping, NULL);
    harness_add("metrics: delivery latency times live events, not history replays", only_live_deliveries_are_timed,
                NULL);
}
