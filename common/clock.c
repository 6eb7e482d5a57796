#include "clock.h"

#include <time.h>

uint64_t clock_now_ms(void) {
    struct timespec ts;
    /* CLOCK_MONOTONIC cannot fail on Linux: the clock id is valid and ts
     * is ours. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t clock_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
