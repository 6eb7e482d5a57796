/* libFuzzer target for what a cluster node reads from Redis: pub/sub
 * messages and stream entries in every format cluster_message.h names (a
 * call's range "#FIRST PREV COUNT\n" and its framed events; the version
 * before's single events and "*" batches), through the per-channel
 * continuity check (cluster_delivery.c) with --history 5, so tail reads
 * are cut too. Whatever arrives, delivered numbers only grow, and nothing
 * crashes or leaks.
 * Input: records split at 0xff; a record starting with 'F' answers the
 * channel's fill with the records up to the next 'E' record (that was
 * all) or 'N' record (read on after the number N's digits give, as a read
 * stopped at its count). */
/* fuzz-sources: cmd/ssed/cluster/cluster_delivery.c cmd/ssed/cluster/cluster_message.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_delivery.h"

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
    if (delivery_init(&d, &h, 5) < 0)
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
        } else if (filling && len && (p[0] == 'E' || p[0] == 'N')) {
            uint64_t read_on_after = 0;
            for (size_t i = 1; p[0] == 'N' && i < len && i < 19 && p[i] >= '0' && p[i] <= '9'; i++)
                read_on_after = read_on_after * 10 + (uint64_t)(p[i] - '0');
            delivery_filled(&d, "c", 1, fill_msgs, fill_lens, fill_count, read_on_after);
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
