/* Non-blocking, close-on-exec sockets on any system (sockets.h). */
#include "sockets.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC) && !defined(__APPLE__)
int sockets_open(int domain, int type, int protocol) {
    return socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
}

int sockets_accept(int listen_fd) { return accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }
#else
/* Made non-blocking and close-on-exec after the fact: ssed starts no
 * program, so no exec can come between. */
static int prepare(int fd) {
    int flags = fcntl(fd, F_GETFL);
    int ok = flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
#ifdef SO_NOSIGPIPE
    int one = 1;
    ok = ok && setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one) == 0;
#endif
    if (!ok) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int sockets_open(int domain, int type, int protocol) {
    int fd = socket(domain, type, protocol);
    return fd < 0 ? -1 : prepare(fd);
}

int sockets_accept(int listen_fd) {
    int fd = accept(listen_fd, NULL, NULL);
    return fd < 0 ? -1 : prepare(fd);
}
#endif
