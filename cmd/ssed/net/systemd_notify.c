#include "systemd_notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sockets.h"
#include "units.h"

/* NOTIFY_SOCKET as an address: a path, or '@' and an abstract name. */
static int notify_address(systemd_notifier *n, const char *where) {
    size_t len = strlen(where);
    if ((where[0] != '/' && where[0] != '@') || len < 2 || len >= sizeof n->addr.sun_path) {
        log_warn("NOTIFY_SOCKET '%s': not a socket path or @name; not notifying systemd", where);
        return -1;
    }
    n->addr.sun_family = AF_UNIX;
    memcpy(n->addr.sun_path, where, len);
    if (where[0] == '@')
        n->addr.sun_path[0] = '\0';
    /* An abstract name is exactly its bytes; a path ends with its NUL. */
    n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (where[0] == '/'));
    return 0;
}

/* WATCHDOG_USEC, when it is meant for this process: half of it, in ms. */
static uint64_t watchdog_interval(void) {
    const char *usec = getenv("WATCHDOG_USEC");
    const char *pid = getenv("WATCHDOG_PID");
    if (!usec)
        return 0;
    uint64_t n, owner;
    char err[128];
    if (pid && (units_parse_count(pid, 1, INT32_MAX, &owner, err, sizeof err) < 0 || owner != (uint64_t)getpid()))
        return 0;
    if (units_parse_count(usec, 1, UINT64_MAX, &n, err, sizeof err) < 0) {
        log_warn("WATCHDOG_USEC '%s': %s; no watchdog", usec, err);
        return 0;
    }
    uint64_t half_ms = n / 2000;
    return half_ms ? half_ms : 1;
}

void systemd_notifier_open(systemd_notifier *n, uint64_t now_ms) {
    memset(n, 0, sizeof *n);
    n->fd = -1;
    const char *where = getenv("NOTIFY_SOCKET");
    if (!where || notify_address(n, where) < 0)
        return;
    /* Non-blocking: a manager that stops reading fills the socket's queue,
     * and a blocking sendto would then stop the event loop for good (no
     * SIGTERM handled, no request served). A notification is dropped instead. */
    n->fd = sockets_open(AF_UNIX, SOCK_DGRAM, 0);
    if (n->fd < 0) {
        log_warn("NOTIFY_SOCKET %s: socket: %s; not notifying systemd", where, strerror(errno));
        return;
    }
    n->watchdog_every_ms = watchdog_interval();
    n->watchdog_next_ms = now_ms + n->watchdog_every_ms;
}

void systemd_notifier_close(systemd_notifier *n) {
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
}

void systemd_notify(systemd_notifier *n, const char *state) {
    if (n->fd < 0)
        return;
    ssize_t sent =
        sendto(n->fd, state, strlen(state), SOCKETS_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&n->addr, n->addr_len);
    if (sent < 0 && !n->send_failed) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            log_warn("notifying systemd (%s): its socket is full (nobody reading?); dropping notifications", state);
        else
            log_warn("notifying systemd (%s): %s", state, strerror(errno));
        n->send_failed = 1;
    }
}

int systemd_watchdog_timeout(const systemd_notifier *n, uint64_t now_ms) {
    if (n->fd < 0 || !n->watchdog_every_ms)
        return -1;
    if (n->watchdog_next_ms <= now_ms)
        return 0;
    uint64_t wait = n->watchdog_next_ms - now_ms;
    return wait > 60000 ? 60000 : (int)wait;
}

void systemd_watchdog_step(systemd_notifier *n, uint64_t now_ms) {
    if (n->fd < 0 || !n->watchdog_every_ms || now_ms < n->watchdog_next_ms)
        return;
    systemd_notify(n, "WATCHDOG=1");
    n->watchdog_next_ms = now_ms + n->watchdog_every_ms;
}
