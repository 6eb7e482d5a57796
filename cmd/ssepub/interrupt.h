/* Waiting that Ctrl-C always cuts short. The handlers in common/signals.c
 * only set a flag, and a flag tested before poll() misses a SIGINT that
 * lands after the test and before poll() blocks: ssepub would notice it only
 * when more input came. Here SIGINT and SIGTERM stay blocked from before the
 * test until ppoll() unblocks them atomically, so one that came in between
 * is still pending and ends the wait at once. */
#ifndef SSEPUB_INTERRUPT_H
#define SSEPUB_INTERRUPT_H

enum interrupt_wait_result {
    WAIT_READY,   /* fd is readable, at its end or in error: read() says which */
    WAIT_TIMEOUT, /* the time passed, or a signal other than a stop cut it short */
    WAIT_STOPPED, /* SIGINT or SIGTERM came, now or before */
    WAIT_FAILED,  /* the wait itself failed; errno says why */
};

/* Wait until fd is readable (fd < 0: nothing to read, only wait),
 * timeout_ms passes (-1: no limit), or a stop signal comes. */
enum interrupt_wait_result interrupt_wait(int fd, int timeout_ms);

#endif
