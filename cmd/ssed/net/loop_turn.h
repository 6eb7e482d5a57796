/* What every loop backend does around its wait: count the time the last
 * turn ran over LOOP_STALL_MS before waiting, and note when the next turn
 * begins after. Inline, so the epoll path costs what it did in one file. */
#ifndef SSED_LOOP_TURN_H
#define SSED_LOOP_TURN_H

#include "clock.h"
#include "loop.h"

static inline uint64_t loop_turn_overrun(const loop *l, uint64_t now_ms) {
    uint64_t ran = l->turn_started_ms && now_ms > l->turn_started_ms ? now_ms - l->turn_started_ms : 0;
    return ran > LOOP_STALL_MS ? ran - LOOP_STALL_MS : 0;
}

static inline void loop_turn_end(loop *l) { l->stalled_ms += loop_turn_overrun(l, clock_now_ms()); }

static inline void loop_turn_begin(loop *l) { l->turn_started_ms = clock_now_ms(); }

#endif
