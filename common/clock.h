/* Time for deadlines and durations: the monotonic clock, which no change of
 * the wall clock moves. */
#ifndef SSETOOLS_CLOCK_H
#define SSETOOLS_CLOCK_H

#include <stdint.h>

/* Milliseconds on the monotonic clock. */
uint64_t clock_now_ms(void);
/* Microseconds on the monotonic clock: for latencies. */
uint64_t clock_now_us(void);

#endif
