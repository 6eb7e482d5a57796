#include "loop.h"

#include "clock.h"

#include <errno.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define LOOP_BATCH 256

int loop_init(loop *l) {
    l->turn_started_ms = l->stalled_ms = 0;
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

static uint64_t turn_overrun(const loop *l, uint64_t now_ms) {
    uint64_t ran = l->turn_started_ms && now_ms > l->turn_started_ms ? now_ms - l->turn_started_ms : 0;
    return ran > LOOP_STALL_MS ? ran - LOOP_STALL_MS : 0;
}

uint64_t loop_stalled_ms(const loop *l, uint64_t now_ms) { return l->stalled_ms + turn_overrun(l, now_ms); }

int loop_run_once(loop *l, int timeout_ms) {
    struct epoll_event ready[LOOP_BATCH];
    l->stalled_ms += turn_overrun(l, clock_now_ms());
    int n = epoll_wait(l->epfd, ready, LOOP_BATCH, timeout_ms);
    int wait_errno = errno;
    l->turn_started_ms = clock_now_ms();
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
    if (l->epfd >= 0)
        close(l->epfd);
    l->epfd = -1;
}

