#include "interrupt.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "signals.h"

#ifndef __APPLE__
/* The wait proper, with the caller's signal mask (the stop signals
 * unblocked) in force only while ppoll() sleeps. */
static enum interrupt_wait_result poll_unblocked(int fd, int timeout_ms, const sigset_t *mask) {
    struct pollfd p = {fd, POLLIN, 0};
    struct timespec ts = {(time_t)(timeout_ms / 1000), (long)(timeout_ms % 1000) * 1000000L};
    int ready = ppoll(&p, 1, timeout_ms < 0 ? NULL : &ts, mask);
    if (ready > 0)
        return WAIT_READY;
    if (ready == 0)
        return WAIT_TIMEOUT;
    if (errno != EINTR)
        return WAIT_FAILED;
    return signals_stop_requested() ? WAIT_STOPPED : WAIT_TIMEOUT;
}
#else
/* macOS has no ppoll (and its pselect is not atomic): the stop signals
 * are unblocked around poll() in slices of at most this long, so one that
 * comes between the check and the sleep is seen within a slice. */
#define STOP_SLICE_MS 100

static enum interrupt_wait_result poll_unblocked(int fd, int timeout_ms, const sigset_t *mask) {
    struct pollfd p = {fd, POLLIN, 0};
    sigset_t blocked;
    if (pthread_sigmask(SIG_SETMASK, mask, &blocked) != 0)
        return WAIT_FAILED;
    enum interrupt_wait_result result = WAIT_TIMEOUT;
    for (int left = timeout_ms; result == WAIT_TIMEOUT && left != 0;) {
        if (signals_stop_requested()) {
            result = WAIT_STOPPED;
            break;
        }
        int slice = left < 0 || left > STOP_SLICE_MS ? STOP_SLICE_MS : left;
        int ready = poll(&p, 1, slice);
        if (ready > 0)
            result = WAIT_READY;
        else if (ready < 0 && errno != EINTR)
            result = WAIT_FAILED;
        else if (ready < 0 || signals_stop_requested())
            result = signals_stop_requested() ? WAIT_STOPPED : WAIT_TIMEOUT;
        if (left > 0)
            left -= slice;
    }
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &blocked, NULL);
    errno = saved;
    return result;
}
#endif

enum interrupt_wait_result interrupt_wait(int fd, int timeout_ms) {
    sigset_t stop, old;
    /* sigemptyset and sigaddset fail only for an invalid signal number. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    int rc = pthread_sigmask(SIG_BLOCK, &stop, &old);
    if (rc != 0) {
        errno = rc; /* pthread_sigmask returns the error instead of setting errno */
        return WAIT_FAILED;
    }
    enum interrupt_wait_result result =
        signals_stop_requested() ? WAIT_STOPPED : poll_unblocked(fd, timeout_ms, &old);
    /* A stop signal that came after ppoll() returned is delivered here, and
     * seen by the next wait. */
    rc = pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0 && result != WAIT_FAILED) {
        errno = rc;
        result = WAIT_FAILED;
    }
    return result;
}
