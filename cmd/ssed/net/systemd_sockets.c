#include "systemd_sockets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "units.h"

/* A whole decimal number in [0, max] from the environment; -1 if unset,
 * -2 if malformed. */
static long long env_number(const char *name, unsigned long long max) {
    const char *text = getenv(name);
    if (!text)
        return -1;
    uint64_t n;
    char ignored[128];
    if (units_parse_count(text, 0, max, &n, ignored, sizeof ignored) < 0)
        return -2;
    return (long long)n;
}

/* The i-th ':'-separated name of LISTEN_FDNAMES, or "". */
static void name_at(const char *names, size_t i, char *out, size_t size) {
    out[0] = '\0';
    for (; names && i > 0; i--) {
        names = strchr(names, ':');
        if (names)
            names++;
    }
    if (names)
        snprintf(out, size, "%.*s", (int)strcspn(names, ":"), names);
}

/* A passed descriptor must be a stream socket that listens: ListenStream=
 * with Accept=no, not a datagram socket or an accepted connection. */
static int check_listening(int fd, const char *name, char *err, size_t errlen) {
    struct stat st;
    int type = 0, listening = 0;
    socklen_t len = sizeof type;
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "socket activation: descriptor %d (%s): %s", fd, name, strerror(errno));
        return -1;
    }
    int ok = S_ISSOCK(st.st_mode) && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
    len = sizeof listening;
    ok = ok && getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening;
    if (!ok) {
        snprintf(err, errlen,
                 "socket activation: descriptor %d (%s) is not a listening stream socket "
                 "(the socket unit needs ListenStream= and Accept=no)",
                 fd, name);
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        snprintf(err, errlen, "socket activation: descriptor %d (%s): fcntl: %s", fd, name, strerror(errno));
        return -1;
    }
    return 0;
}

/* How many ':'-separated names there are in names. */
static size_t name_count(const char *names) {
    size_t n = 1;
    for (; *names; names++)
        n += *names == ':';
    return n;
}

static int take_passed(long long count, systemd_socket *out, size_t max, char *err, size_t errlen) {
    if ((unsigned long long)count > max) {
        snprintf(err, errlen, "socket activation: %lld sockets passed, at most %zu can be served", count, max);
        return -1;
    }
    const char *names = getenv("LISTEN_FDNAMES");
    /* Names that do not pair up with the sockets cannot be matched to any
     * of them; the sockets are still good (names only label the log), so
     * they are served unnamed rather than refused. */
    if (names && count > 0 && name_count(names) != (size_t)count) {
        log_warn("socket activation: LISTEN_FDNAMES has %zu name%s for %lld socket%s; ignoring the names",
                 name_count(names), name_count(names) == 1 ? "" : "s", count, count == 1 ? "" : "s");
        names = NULL;
    }
    for (long long i = 0; i < count; i++) {
        out[i].fd = SYSTEMD_LISTEN_FDS_START + (int)i;
        name_at(names, (size_t)i, out[i].name, sizeof out[i].name);
        if (check_listening(out[i].fd, out[i].name[0] ? out[i].name : "unnamed", err, errlen) < 0)
            return -1;
    }
    return (int)count;
}

int systemd_sockets_take(systemd_socket *out, size_t max, char *err, size_t errlen) {
    long long pid = env_number("LISTEN_PID", INT32_MAX);
    long long count = env_number("LISTEN_FDS", INT32_MAX - SYSTEMD_LISTEN_FDS_START);
    int taken = 0;
    /* LISTEN_FDS unset (-1) means no sockets, as sd_listen_fds(3) reads it. */
    if (pid == -2 || (pid == (long long)getpid() && count == -2)) {
        snprintf(err, errlen, "socket activation: LISTEN_PID or LISTEN_FDS is not a number");
        taken = -1;
    } else if (pid == (long long)getpid() && count > 0) {
        taken = take_passed(count, out, max, err, errlen);
    }
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    return taken;
}
