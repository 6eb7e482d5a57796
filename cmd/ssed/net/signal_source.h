/* Signals as a descriptor the loop can watch, on any system: signalfd(2) on
 * Linux (the signals blocked, so they wait to be read), a pipe written by a
 * handler elsewhere (the classic self-pipe). Either way a signal is acted on
 * between two turns of the loop, never inside one. */
#ifndef SSED_SIGNAL_SOURCE_H
#define SSED_SIGNAL_SOURCE_H

#include <signal.h>

/* Take over the signals in set: a non-blocking, close-on-exec descriptor,
 * readable when one has arrived; -1 with errno. At most one per process. */
int signal_source_open(const sigset_t *set);
/* The next signal that arrived (its number); 0 when none waits. */
int signal_source_next(int fd);

#endif
