/* libFuzzer target for what a cluster node reads from Redis: pub/sub
 * messages (single events and batches, cluster_message.c) and stream reads,
 * through the per-channel continuity check (cluster_delivery.c). Whatever
 * arrives, delivered numbers only grow, and nothing crashes or leaks.
 * Input: records split at 0xff; a record starting with 'F' answers the
 * channel's fill with the records up to the next 'E' record. */
/* fuzz-sources: cmd/ssed/cluster_delivery.c cmd/ssed/cluster_message.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../cmd/ssed/cluster_delivery.h"

static uint64_t last_delivered;

static void on_deliver(void *ctx, const char *chan, size_t len, const cluster_event *ev, int live) {
    (void)ctx, (void)chan, (void)len, (void)live;
    if (ev->n <= last_delivered)
        abort();
    last_delivered = ev->n;
}

static void on_gap(void *ctx, const char *chan, size_t len, uint64_t last, const cluster_event *ev) {
    (void)ctx, (void)chan, (void)len;
    if (ev->n <= last)
        abort();
}

static int on_fill(void *ctx, const char *chan, size_t len, uint64_t after) {
    (void)ctx, (void)chan, (void)len, (void)after;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    delivery d;
    delivery_hooks h = {on_deliver, on_gap, on_fill, NULL};
    last_delivered = 0;
    if (delivery_init(&d, &h) < 0)
        return 0;
    const char *p = (const char *)data, *end = p + size;
    const char *fill_msgs[64];
    size_t fill_lens[64], fill_count = 0;
    int filling = 0;
    while (p <= end) {
        const char *stop = memchr(p, 0xff, (size_t)(end - p));
        size_t len = (size_t)((stop ? stop : end) - p);
        if (len && p[0] == 'F') {
            filling = 1;
            fill_count = 0;
        } else if (filling && len == 1 && p[0] == 'E') {
            delivery_filled(&d, "c", 1, fill_msgs, fill_lens, fill_count, 0);
            filling = 0;
        } else if (filling) {
            if (fill_count < 64) {
                fill_msgs[fill_count] = p;
                fill_lens[fill_count++] = len;
            }
        } else {
            delivery_message(&d, "c", 1, p, len);
        }
        if (!stop)
            break;
        p = stop + 1;
    }
    delivery_free(&d);
    return 0;
}
