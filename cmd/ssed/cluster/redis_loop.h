/* hiredis' async API driven by ssed's event loop: the small adapter hiredis
 * expects (as its adapters/ae.h and adapters/libevent.h are for those
 * loops). hiredis says when it wants to read or write; the loop calls back
 * when the socket is ready.
 *
 * Lifetime: the redis_watch is the caller's and outlives the context; when
 * hiredis frees the context (disconnect, failure) it calls cleanup, which
 * unregisters the socket, forgets the context and tells the owner through
 * `gone`. A stale readiness report in the same loop iteration then finds
 * no context and does nothing. */
#ifndef SSED_REDIS_LOOP_H
#define SSED_REDIS_LOOP_H

#include <hiredis/async.h>
#include <stdint.h>

#include "loop.h"

typedef struct redis_watch redis_watch;
struct redis_watch {
    loop_watch watch;
    loop *loop;
    redisAsyncContext *ac; /* NULL once hiredis freed it */
    int fd;
    uint32_t events;     /* what hiredis asked for */
    uint32_t registered; /* what the loop is asked for: events, less LOOP_IN while held */
    int held;
    void (*gone)(void *ctx, redis_watch *w);
    void *ctx;
    /* 0: do not read now: reading is held (the loop is not asked for input)
     * until redis_loop_hold_reading(w, 0); NULL: always read. */
    int (*may_read)(void *ctx);
};

/* Stop asking the loop for input (held != 0), or ask again. */
void redis_loop_hold_reading(redis_watch *w, int held);

/* Register the context's socket; -1 with errno when the loop refuses. */
int redis_loop_attach(redisAsyncContext *ac, loop *l, redis_watch *w, void (*gone)(void *ctx, redis_watch *w),
                       void *ctx);

#endif
