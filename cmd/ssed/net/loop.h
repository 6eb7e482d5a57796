/* The event loop: one interface, one backend chosen at build time (make
 * LOOP=epoll|kqueue|poll; loop_epoll.c, loop_kqueue.c, loop_poll.c, as
 * redis' ae_*.c). Every watched descriptor is registered with a loop_watch
 * embedded in its owner, whose callback says what to do when it is ready.
 * Deadlines (header timeouts, keep-alives) are kept by their owners on
 * clock_now_ms(); the loop only sleeps until the earliest one.
 *
 * Readiness is level-triggered on every backend. LOOP_ERR and LOOP_HUP are
 * reported whether asked for or not (as epoll does), except that kqueue sees
 * them only on a descriptor watched for input or output. LOOP_RDHUP (the peer
 * shut its side) is seen by epoll, and by poll where the system has
 * POLLRDHUP (Linux); kqueue reports it with input. */
#ifndef SSED_LOOP_H
#define SSED_LOOP_H

#include <stdint.h>

/* The events a watch asks for and is told of. They have epoll's values, so
 * the epoll backend passes them on untranslated; the others translate. */
#define LOOP_IN 0x001u
#define LOOP_OUT 0x004u
#define LOOP_ERR 0x008u
#define LOOP_HUP 0x010u
#define LOOP_RDHUP 0x2000u
/* Alone: keep the descriptor registered but ask for nothing, not even a
 * repeated hang-up (epoll's EPOLLET; the other backends stop watching it). */
#define LOOP_QUIET (1u << 31)

typedef struct loop_watch loop_watch;
struct loop_watch {
    void (*on_ready)(loop_watch *w, uint32_t events);
};

/* A turn (from the wait returning to the next call) longer than this is
 * the loop stalling: a long round of writes, a large read. */
#define LOOP_STALL_MS 50

struct loop_table; /* the poll and kqueue backends' descriptor table */

typedef struct loop {
    int fd; /* epoll's or kqueue's descriptor; -1 for poll */
    struct loop_table *table;
    /* When the current turn began (0: none yet), and what every turn so far
     * ran over LOOP_STALL_MS. A deadline on someone else's silence (Redis's
     * answers) does not count that time: nothing was read meanwhile. */
    uint64_t turn_started_ms, stalled_ms;
} loop;

/* Which backend this build has: "epoll", "kqueue" or "poll". */
extern const char loop_backend[];

/* Each returns 0, or -1 with errno set. */
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
