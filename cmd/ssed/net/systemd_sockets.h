/* Socket activation, as systemd does it (sd_listen_fds(3), done by hand so
 * that ssed needs no libsystemd): the service manager opens the listening
 * sockets of ssed.socket and passes them from descriptor 3 on, saying how
 * many in LISTEN_FDS, for which process in LISTEN_PID, and their names
 * (FileDescriptorName=, by default the socket unit's name) in
 * LISTEN_FDNAMES, separated by ':'. ssed shows the names in its log only. */
#ifndef SSED_SYSTEMD_SOCKETS_H
#define SSED_SYSTEMD_SOCKETS_H

#include <stddef.h>

/* The first descriptor passed. */
#define SYSTEMD_LISTEN_FDS_START 3

typedef struct systemd_socket {
    int fd;
    char name[256]; /* "" when systemd gave none */
} systemd_socket;

/* The listening sockets passed to this process, made non-blocking and
 * close-on-exec, in out (at most max). Returns how many; 0 when none were
 * passed (LISTEN_FDS unset or 0), or passed to another process (LISTEN_PID
 * is not ours: an inherited environment). -1 with a message in err when the
 * variables are malformed, there are more than max, or one is not a
 * listening stream socket. LISTEN_FDNAMES with another count of names than
 * sockets is warned about and its names left out. The three variables are removed from the environment in every
 * case, so that nothing started later takes them for its own. */
int systemd_sockets_take(systemd_socket *out, size_t max, char *err, size_t errlen);

#endif
