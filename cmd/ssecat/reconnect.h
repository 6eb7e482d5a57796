/* Staying subscribed as EventSource does: after an open stream ends, wait
 * the reconnection time (the server's retry: or --retry-delay) and ask again
 * with Last-Event-ID; after failures in a row, back off exponentially with
 * jitter up to --max-delay. A failure is any attempt that neither delivered
 * an event nor stayed open a while, so a dead server, or one that answers
 * "retry: 0" and hangs up, is never asked again in a busy loop. */
#ifndef SSECAT_RECONNECT_H
#define SSECAT_RECONNECT_H

#include <stdint.h>

#include "limits.h"
#include "options.h"
#include "sink.h"
#include "sse_parser.h"

/* Where the backoff starts when the reconnection time is shorter (0 from
 * retry: 0 or --retry-delay 0), and the least cap it can have: a failing
 * server is asked at most about a dozen times a second. */
#define RECONNECT_FLOOR_MS 100

/* The wait before attempt `attempt` (1 = the first since a stream did any
 * good): exactly `base` for the first, even 0, as the spec asks; then twice
 * the one before but at least RECONNECT_FLOOR_MS, capped at `max` (or base,
 * or the floor, if more), less up to a quarter at random so many clients cut
 * off together do not come back together, but never below base. */
uint64_t reconnect_delay_ms(uint64_t base, uint64_t max, unsigned attempt, uint32_t random);

/* Subscribe to o->url until done; returns ssecat's exit status. */
int reconnect_run(const ssecat_options *o, sse_parser *p, sink *s, limits *l);

#endif
