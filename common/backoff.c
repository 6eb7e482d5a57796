#include "backoff.h"

uint64_t backoff_next_ms(uint64_t delay, uint64_t floor, uint64_t ceiling) {
    uint64_t next = delay > ceiling / 2 ? ceiling : delay * 2;
    if (next < floor)
        next = floor;
    return next > ceiling && ceiling >= floor ? ceiling : next;
}

uint64_t backoff_jitter_ms(uint64_t delay, uint32_t random) {
    uint64_t quarter = delay / 4;
    return quarter ? delay - random % (quarter + 1) : delay;
}
