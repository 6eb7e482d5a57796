/* The loop on kqueue (loop.h): macOS, FreeBSD, OpenBSD, NetBSD. A
 * descriptor is one read filter and one write filter, each added or
 * deleted as its watch's events change; a table from descriptor to watch
 * remembers which are registered, and merges the two filters' reports of
 * one turn into one callback, as epoll gives them. */
#include "loop.h"
#include "loop_turn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/event.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#define LOOP_BATCH 256

const char loop_backend[] = "kqueue";

typedef struct loop_slot {
    loop_watch *w; /* NULL: the descriptor is not watched */
    int reading, writing; /* the filters registered */
    uint32_t pending; /* this turn's events, not yet handed over */
} loop_slot;

struct loop_table {
    loop_slot *slots;
    int nslots;
};

int loop_init(loop *l) {
    l->turn_started_ms = l->stalled_ms = 0;
    l->table = calloc(1, sizeof *l->table);
    if (!l->table)
        return -1;
    l->fd = kqueue();
    if (l->fd < 0 || fcntl(l->fd, F_SETFD, FD_CLOEXEC) < 0)
        return -1;
    return 0;
}

/* The slot of fd, the table grown to hold it when grow is set. */
static loop_slot *slot_of(struct loop_table *t, int fd, int grow) {
    if (fd < 0) {
        errno = EBADF;
        return NULL;
    }
    if (fd >= t->nslots) {
        if (!grow) {
            errno = ENOENT;
            return NULL;
        }
        int n = t->nslots ? t->nslots : 64;
        while (n <= fd)
            n *= 2;
        loop_slot *s = realloc(t->slots, (size_t)n * sizeof *s);
        if (!s)
            return NULL;
        memset(s + t->nslots, 0, (size_t)(n - t->nslots) * sizeof *s);
        t->slots = s;
        t->nslots = n;
    }
    return &t->slots[fd];
}

/* Add or delete one filter. Each change is its own call, so its error is
 * its own (EV_RECEIPT would say the same in one call, but is not on every
 * system, and libkqueue mixes pending events into its answer); deleting a
 * filter already gone (its descriptor closed) is no error. */
static int change_filter(loop *l, int fd, short filter, int on) {
    struct kevent change;
    EV_SET(&change, (uintptr_t)fd, filter, on ? EV_ADD : EV_DELETE, 0, 0, NULL);
    if (kevent(l->fd, &change, 1, NULL, 0, NULL) == 0)
        return 0;
    return !on && (errno == ENOENT || errno == EBADF) ? 0 : -1;
}

/* Register the filters events ask for and delete the others. */
static int set_filters(loop *l, int fd, loop_slot *s, uint32_t events) {
    int read = (events & LOOP_IN) != 0, write = (events & LOOP_OUT) != 0;
    if (read != s->reading) {
        if (change_filter(l, fd, EVFILT_READ, read) < 0)
            return -1;
        s->reading = read;
    }
    if (write != s->writing) {
        if (change_filter(l, fd, EVFILT_WRITE, write) < 0)
            return -1;
        s->writing = write;
    }
    return 0;
}

int loop_add(loop *l, int fd, uint32_t events, loop_watch *w) {
    loop_slot *s = slot_of(l->table, fd, 1);
    if (!s)
        return -1;
    /* A descriptor closed unremoved lost its filters with it. */
    *s = (loop_slot){0};
    if (set_filters(l, fd, s, events) < 0)
        return -1;
    s->w = w;
    return 0;
}

int loop_modify(loop *l, int fd, uint32_t events, loop_watch *w) {
    loop_slot *s = slot_of(l->table, fd, 0);
    if (!s)
        return -1;
    if (!s->w) {
        errno = ENOENT;
        return -1;
    }
    if (set_filters(l, fd, s, events) < 0)
        return -1;
    s->w = w;
    return 0;
}

int loop_remove(loop *l, int fd) {
    loop_slot *s = slot_of(l->table, fd, 0);
    if (!s)
        return -1;
    if (!s->w) {
        errno = ENOENT;
        return -1;
    }
    int rc = set_filters(l, fd, s, 0);
    *s = (loop_slot){0};
    return rc;
}

uint64_t loop_stalled_ms(const loop *l, uint64_t now_ms) { return l->stalled_ms + loop_turn_overrun(l, now_ms); }

/* One filter's report in loop.h's events: an end of input is the peer's
 * shutdown (with the error it carries, if any); an end of output, a hang-up. */
static uint32_t report_events(const struct kevent *e) {
    uint32_t ev = 0;
    if (e->filter == EVFILT_READ)
        ev |= LOOP_IN | ((e->flags & EV_EOF) ? LOOP_RDHUP : 0);
    else if (e->filter == EVFILT_WRITE)
        ev |= LOOP_OUT | ((e->flags & EV_EOF) ? LOOP_HUP : 0);
    if ((e->flags & EV_ERROR) || ((e->flags & EV_EOF) && e->fflags))
        ev |= LOOP_ERR;
    return ev;
}

int loop_run_once(loop *l, int timeout_ms) {
    struct loop_table *t = l->table;
    struct kevent got[LOOP_BATCH];
    struct timespec wait = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
    loop_turn_end(l);
    int n = kevent(l->fd, NULL, 0, got, LOOP_BATCH, timeout_ms < 0 ? NULL : &wait);
    int wait_errno = errno;
    loop_turn_begin(l);
    if (n < 0) {
        errno = wait_errno;
        return errno == EINTR ? 0 : -1;
    }
    /* Both filters of one descriptor make one callback. */
    int fds[LOOP_BATCH], m = 0, ran = 0;
    for (int i = 0; i < n; i++) {
        loop_slot *s = slot_of(t, (int)got[i].ident, 0);
        if (!s || !s->w)
            continue;
        if (!s->pending)
            fds[m++] = (int)got[i].ident;
        s->pending |= report_events(&got[i]);
    }
    for (int i = 0; i < m; i++) {
        loop_slot *s = &t->slots[fds[i]]; /* looked up again: callbacks add */
        uint32_t events = s->pending;
        s->pending = 0;
        if (s->w && events) {
            s->w->on_ready(s->w, events);
            ran++;
        }
    }
    return ran;
}

void loop_close(loop *l) {
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    if (l->table)
        free(l->table->slots);
    free(l->table);
    l->table = NULL;
}
