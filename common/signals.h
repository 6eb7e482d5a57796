/* Ctrl-C and SIGTERM end ssecat and ssepub cleanly: the handler only sets
 * a flag that the read loops test, so output already written stays whole
 * and events already read are still sent or reported. */
#ifndef SSETOOLS_SIGNALS_H
#define SSETOOLS_SIGNALS_H

/* Install the handlers and ignore SIGPIPE (a closed pipe shows up as EPIPE
 * from write). 0, or -1 with errno. */
int signals_install(void);
int signals_stop_requested(void);

#endif
