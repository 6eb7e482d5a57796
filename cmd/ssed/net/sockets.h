/* Sockets that are non-blocking and closed on exec from birth, and raise no
 * SIGPIPE, on any system: Linux and the BSDs say so in one call (socket's
 * SOCK_NONBLOCK, accept4); macOS takes fcntl after, and SO_NOSIGPIPE. ssed
 * ignores SIGPIPE besides; the socket option also covers a library's send. */
#ifndef SSED_SOCKETS_H
#define SSED_SOCKETS_H

#include <sys/socket.h>

/* send(2)'s flag for no SIGPIPE where there is one; elsewhere (macOS)
 * sockets_open's SO_NOSIGPIPE does it. */
#ifdef MSG_NOSIGNAL
#define SOCKETS_NOSIGNAL MSG_NOSIGNAL
#else
#define SOCKETS_NOSIGNAL 0
#endif

/* socket(2) with type SOCK_STREAM or SOCK_DGRAM: the descriptor, or -1
 * with errno. */
int sockets_open(int domain, int type, int protocol);
/* accept(2) on a listener, the peer's address not asked: the descriptor,
 * or -1 with errno (EAGAIN when none waits). */
int sockets_accept(int listen_fd);

#endif
