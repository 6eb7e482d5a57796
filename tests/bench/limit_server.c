/* limit_server: the ceiling of this machine for the server comparison.
 *
 * The least an SSE server can do: read lines from a FIFO, encode each once
 * as "id: N\ndata: LINE\n\n" into one buffer per read, and write that buffer
 * to every accepted socket. A socket that cannot take it all keeps the rest
 * in a backlog of its own, written when it drains. No channels, no history,
 * no keep-alive, no request parsing beyond the blank line, no limits.
 *
 * Usage: limit_server FIFO   (prints "limit: serving http://127.0.0.1:PORT/") */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define INPUT_TOKEN UINT64_MAX
#define LISTEN_TOKEN (UINT64_MAX - 1)

static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
                           "Connection: close\r\n\r\n: limit stream\n\n";

typedef struct client {
    int fd;
    int streaming; /* the request head was read and the reply head sent */
    char *backlog;
    size_t len, cap;
} client;

static client *clients;
static size_t client_cap;
static int *streaming_fds; /* fds of streaming clients, dense, for the fan-out loop */
static size_t streaming_count;

static void die(const char *what) {
    fprintf(stderr, "limit: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void drop(int ep, int fd) {
    client *c = &clients[fd];
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    if (c->streaming)
        for (size_t i = 0; i < streaming_count; i++)
            if (streaming_fds[i] == fd) {
                streaming_fds[i] = streaming_fds[--streaming_count];
                break;
            }
    free(c->backlog);
    memset(c, 0, sizeof *c);
}

static void keep(int ep, client *c, const char *bytes, size_t len) {
    if (c->len + len > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4096;
        while (cap < c->len + len)
            cap *= 2;
        if (!(c->backlog = realloc(c->backlog, cap)))
            die("realloc");
        c->cap = cap;
    }
    if (c->len == 0) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u64 = (uint64_t)c->fd};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    }
    memcpy(c->backlog + c->len, bytes, len);
    c->len += len;
}

/* Write bytes to one socket, or queue them behind its backlog. */
static void send_to(int ep, int fd, const char *bytes, size_t len) {
    client *c = &clients[fd];
    if (c->len) {
        keep(ep, c, bytes, len);
        return;
    }
    ssize_t n = write(fd, bytes, len);
    if (n < 0) {
        if (errno != EAGAIN) {
            drop(ep, fd);
            return;
        }
        n = 0;
    }
    if ((size_t)n < len)
        keep(ep, c, bytes + n, len - (size_t)n);
}

static void flush_backlog(int ep, int fd) {
    client *c = &clients[fd];
    ssize_t n = write(fd, c->backlog, c->len);
    if (n < 0) {
        if (errno != EAGAIN)
            drop(ep, fd);
        return;
    }
    memmove(c->backlog, c->backlog + n, c->len - (size_t)n);
    c->len -= (size_t)n;
    if (c->len == 0) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)fd};
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "Usage: limit_server FIFO\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (mkfifo(argv[1], 0600) < 0 && errno != EEXIST)
        die(argv[1]);
    int in = open(argv[1], O_RDWR | O_NONBLOCK | O_CLOEXEC);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (in < 0 || lfd < 0 || ep < 0)
        die("start-up");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t salen = sizeof sa;
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 4096) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0)
        die("listen");
    fprintf(stderr, "limit: serving http://127.0.0.1:%d/\n", ntohs(sa.sin_port));
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = INPUT_TOKEN};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, in, &ev) < 0)
        die("epoll_ctl");
    ev.data.u64 = LISTEN_TOKEN;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
        die("epoll_ctl");

    static char chunk[65536], carry[8192], wire[32 * 65536];
    size_t carry_len = 0;
    unsigned long long id = 0;
    struct epoll_event evs[1024];
    for (;;) {
        int n = epoll_wait(ep, evs, 1024, -1);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            uint64_t t = evs[i].data.u64;
            if (t == LISTEN_TOKEN) {
                for (int k = 0; k < 256; k++) {
                    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0 && errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
                        /* Out of descriptors: stop accepting rather than spin. */
                        fprintf(stderr, "limit: accept: %s; no more connections\n", strerror(errno));
                        epoll_ctl(ep, EPOLL_CTL_DEL, lfd, NULL);
                    }
                    if (fd < 0)
                        break;
                    if ((size_t)fd >= client_cap) {
                        size_t cap = client_cap ? client_cap * 2 : 4096;
                        while (cap <= (size_t)fd)
                            cap *= 2;
                        clients = realloc(clients, cap * sizeof *clients);
                        streaming_fds = realloc(streaming_fds, cap * sizeof *streaming_fds);
                        if (!clients || !streaming_fds)
                            die("realloc");
                        memset(clients + client_cap, 0, (cap - client_cap) * sizeof *clients);
                        client_cap = cap;
                    }
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    clients[fd].fd = fd;
                    struct epoll_event cev = {.events = EPOLLIN, .data.u64 = (uint64_t)fd};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
            } else if (t == INPUT_TOKEN) {
                ssize_t r = read(in, chunk, sizeof chunk);
                if (r <= 0)
                    continue;
                /* Encode every complete line once into wire. */
                size_t w = 0, start = 0;
                for (size_t k = 0; k < (size_t)r; k++) {
                    if (chunk[k] != '\n')
                        continue;
                    w += (size_t)snprintf(wire + w, 64, "id: %llu\ndata: ", ++id);
                    memcpy(wire + w, carry, carry_len);
                    w += carry_len;
                    carry_len = 0;
                    memcpy(wire + w, chunk + start, k - start);
                    w += k - start;
                    wire[w++] = '\n';
                    wire[w++] = '\n';
                    start = k + 1;
                }
                size_t rest = (size_t)r - start;
                if (carry_len + rest <= sizeof carry) {
                    memcpy(carry + carry_len, chunk + start, rest);
                    carry_len += rest;
                }
                for (size_t k = streaming_count; w > 0 && k-- > 0;)
                    send_to(ep, streaming_fds[k], wire, w);
            } else {
                int fd = (int)t;
                client *c = &clients[fd];
                if (evs[i].events & EPOLLOUT)
                    flush_backlog(ep, fd);
                if (c->fd != fd || !(evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                    continue;
                char sink[4096];
                ssize_t r = read(fd, sink, sizeof sink);
                if (r == 0 || (r < 0 && errno != EAGAIN)) {
                    drop(ep, fd);
                } else if (r > 0 && !c->streaming && memmem(sink, (size_t)r, "\r\n\r\n", 4)) {
                    c->streaming = 1;
                    streaming_fds[streaming_count++] = fd;
                    send_to(ep, fd, head, sizeof head - 1);
                }
            }
        }
    }
}
