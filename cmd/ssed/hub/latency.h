/* The delivery-latency histogram of /_ssed/metrics: how long an event took
 * from its publish (or its arrival from an input or the cluster) to the
 * write that completed it on a subscriber's socket. Fixed buckets, so an
 * observation is a short scan and two additions, and the histogram is a
 * few cache lines with no allocation. */
#ifndef SSED_LATENCY_H
#define SSED_LATENCY_H

#include <stddef.h>
#include <stdint.h>

/* Upper bounds in microseconds, 100 µs to 10 s; one more bucket (+Inf)
 * counts the rest. */
#define LATENCY_BOUNDS 16
extern const uint64_t latency_bound_us[LATENCY_BOUNDS];

typedef struct latency_histogram {
    uint64_t buckets[LATENCY_BOUNDS + 1]; /* not cumulative; the last is +Inf */
    uint64_t count;
    uint64_t sum_us;
} latency_histogram;

void latency_observe(latency_histogram *h, uint64_t us);

#endif
