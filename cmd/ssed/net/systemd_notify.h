/* Telling systemd how the service is doing (sd_notify(3), done by hand so
 * that ssed needs no libsystemd): under Type=notify the manager puts the
 * path of a datagram socket in NOTIFY_SOCKET ('@' first: Linux's abstract
 * namespace), and ssed sends "READY=1" once it listens and its inputs are
 * open, "STOPPING=1" when it begins to shut down, and, when WatchdogSec=
 * sets WATCHDOG_USEC (for this process: WATCHDOG_PID absent or ours),
 * "WATCHDOG=1" every half of that from the event loop, so a loop that
 * stops turning gets the service restarted. Without NOTIFY_SOCKET every
 * call does nothing. */
#ifndef SSED_SYSTEMD_NOTIFY_H
#define SSED_SYSTEMD_NOTIFY_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

typedef struct systemd_notifier {
    int fd; /* -1: not asked to notify */
    struct sockaddr_un addr;
    socklen_t addr_len;
    uint64_t watchdog_every_ms; /* 0: no watchdog */
    uint64_t watchdog_next_ms;
    int send_failed; /* a failure is logged once */
} systemd_notifier;

/* Read NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID. A malformed value is
 * logged as a warning and that part left off: ssed runs unnotified rather
 * than not at all. */
void systemd_notifier_open(systemd_notifier *n, uint64_t now_ms);
void systemd_notifier_close(systemd_notifier *n);

/* Send one state ("READY=1", "STOPPING=1") without blocking: when the
 * socket's queue is full the state is dropped. A failure is logged once. */
void systemd_notify(systemd_notifier *n, const char *state);

/* Milliseconds until the next WATCHDOG=1 is due (0: now); -1: no watchdog. */
int systemd_watchdog_timeout(const systemd_notifier *n, uint64_t now_ms);
/* Send WATCHDOG=1 if it is due. */
void systemd_watchdog_step(systemd_notifier *n, uint64_t now_ms);

#endif
