/* Exponential backoff with jitter, for clients that retry a server: each
 * failure in a row doubles the wait up to a ceiling, and a random part of
 * up to a quarter is taken off so that many clients do not retry in step. */
#ifndef SSETOOLS_BACKOFF_H
#define SSETOOLS_BACKOFF_H

#include <stdint.h>

/* The wait after `delay`: doubled, at least floor, at most ceiling. */
uint64_t backoff_next_ms(uint64_t delay, uint64_t floor, uint64_t ceiling);

/* delay less a random part of up to a quarter of it. */
uint64_t backoff_jitter_ms(uint64_t delay, uint32_t random);

#endif
