/* Staying subscribed as EventSource does: after an open stream ends, wait
 * the reconnection time (the server's retry: or --retry-delay) and ask again
 * with Last-Event-ID; after failures in a row, back off exponentially with
 * jitter up to --max-delay. */
#ifndef SSECAT_RECONNECT_H
#define SSECAT_RECONNECT_H

#include <stdint.h>

#include "limits.h"
#include "options.h"
#include "sink.h"
#include "sse_parser.h"

/* The wait before attempt `attempt` (1 = the first since a stream was
 * open): exactly `base` for the first, then base * 2^(attempt-1) capped at
 * `max` (but never below base), less up to a quarter at random so many
 * clients cut off together do not come back together. */
uint64_t reconnect_delay_ms(uint64_t base, uint64_t max, unsigned attempt, uint32_t random);

/* Subscribe to o->url until done; returns ssecat's exit status. */
int reconnect_run(const ssecat_options *o, sse_parser *p, sink *s, limits *l);

#endif
