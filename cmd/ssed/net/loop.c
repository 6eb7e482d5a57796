#include "loop.h"

#include <errno.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define LOOP_BATCH 256

int loop_init(loop *l) {
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    return l->epfd < 0 ? -1 : 0;
}

int loop_add(loop *l, int fd, uint32_t events, loop_watch *w) {
    struct epoll_event ev = {.events = events, .data.ptr = w};
    return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
}

int loop_modify(loop *l, int fd, uint32_t events, loop_watch *w) {
    struct epoll_event ev = {.events = events, .data.ptr = w};
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
}

int loop_remove(loop *l, int fd) { return epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL); }

int loop_run_once(loop *l, int timeout_ms) {
    struct epoll_event ready[LOOP_BATCH];
    int n = epoll_wait(l->epfd, ready, LOOP_BATCH, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        loop_watch *w = ready[i].data.ptr;
        w->on_ready(w, ready[i].events);
    }
    return n;
}

void loop_close(loop *l) {
    if (l->epfd >= 0)
        close(l->epfd);
    l->epfd = -1;
}

