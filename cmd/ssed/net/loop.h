/* The event loop: one epoll instance; every watched descriptor's epoll data
 * points at a loop_watch embedded in its owner, whose callback says what to
 * do when it is ready. Deadlines (header timeouts, keep-alives) are kept by
 * their owners on clock_now_ms(); the loop only sleeps until the earliest one. */
#ifndef SSED_LOOP_H
#define SSED_LOOP_H

#include <stdint.h>

typedef struct loop_watch loop_watch;
struct loop_watch {
    void (*on_ready)(loop_watch *w, uint32_t events);
};

/* A turn (from epoll_wait returning to the next call) longer than this is
 * the loop stalling: a long round of writes, a large read. */
#define LOOP_STALL_MS 50

typedef struct loop {
    int epfd;
    /* When the current turn began (0: none yet), and what every turn so far
     * ran over LOOP_STALL_MS. A deadline on someone else's silence (Redis's
     * answers) does not count that time: nothing was read meanwhile. */
    uint64_t turn_started_ms, stalled_ms;
} loop;

int loop_init(loop *l);
int loop_add(loop *l, int fd, uint32_t events, loop_watch *w);
int loop_modify(loop *l, int fd, uint32_t events, loop_watch *w);
int loop_remove(loop *l, int fd);
/* Wait up to timeout_ms (-1: forever) and run the ready callbacks.
 * Returns the number run, or -1 with errno (EINTR is not an error). */
int loop_run_once(loop *l, int timeout_ms);
/* How long the loop has stalled in all, up to now_ms (the current turn's
 * overrun included): a silence deadline set at stall S0 is moved on by
 * loop_stalled_ms(l, now) - S0. */
uint64_t loop_stalled_ms(const loop *l, uint64_t now_ms);
void loop_close(loop *l);

#endif
