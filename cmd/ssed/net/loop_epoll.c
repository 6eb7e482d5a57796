/* The loop on Linux's epoll (loop.h): the events are epoll's own values,
 * and a watch is epoll's data pointer, so nothing is translated. */
#include "loop.h"
#include "loop_turn.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#define LOOP_BATCH 256

_Static_assert(LOOP_IN == EPOLLIN && LOOP_OUT == EPOLLOUT && LOOP_ERR == EPOLLERR && LOOP_HUP == EPOLLHUP &&
                   LOOP_RDHUP == EPOLLRDHUP && LOOP_QUIET == EPOLLET,
               "loop.h's events are epoll's");

const char loop_backend[] = "epoll";

int loop_init(loop *l) {
    l->turn_started_ms = l->stalled_ms = 0;
    l->table = NULL;
    l->fd = epoll_create1(EPOLL_CLOEXEC);
    return l->fd < 0 ? -1 : 0;
}

int loop_add(loop *l, int fd, uint32_t events, loop_watch *w) {
    struct epoll_event ev = {.events = events, .data.ptr = w};
    return epoll_ctl(l->fd, EPOLL_CTL_ADD, fd, &ev);
}

int loop_modify(loop *l, int fd, uint32_t events, loop_watch *w) {
    struct epoll_event ev = {.events = events, .data.ptr = w};
    return epoll_ctl(l->fd, EPOLL_CTL_MOD, fd, &ev);
}

int loop_remove(loop *l, int fd) { return epoll_ctl(l->fd, EPOLL_CTL_DEL, fd, NULL); }

uint64_t loop_stalled_ms(const loop *l, uint64_t now_ms) { return l->stalled_ms + loop_turn_overrun(l, now_ms); }

int loop_run_once(loop *l, int timeout_ms) {
    struct epoll_event ready[LOOP_BATCH];
    loop_turn_end(l);
    int n = epoll_wait(l->fd, ready, LOOP_BATCH, timeout_ms);
    int wait_errno = errno;
    loop_turn_begin(l);
    if (n < 0) {
        errno = wait_errno;
        return errno == EINTR ? 0 : -1;
    }
    for (int i = 0; i < n; i++) {
        loop_watch *w = ready[i].data.ptr;
        w->on_ready(w, ready[i].events);
    }
    return n;
}

void loop_close(loop *l) {
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
}
