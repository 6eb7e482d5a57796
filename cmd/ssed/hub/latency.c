#include "latency.h"

/* Prometheus' default buckets stretched down to 100 µs: a local delivery
 * takes tens of microseconds, a congested one seconds. */
const uint64_t latency_bound_us[LATENCY_BOUNDS] = {
    100,    250,    500,     1000,    2500,    5000,    10000,   25000,
    50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

void latency_observe(latency_histogram *h, uint64_t us) {
    size_t i = 0;
    while (i < LATENCY_BOUNDS && us > latency_bound_us[i])
        i++;
    h->buckets[i]++;
    h->count++;
    h->sum_us += us;
}
