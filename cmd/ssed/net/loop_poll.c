/* The loop on poll(2) (loop.h), for any POSIX system: one pollfd per
 * watched descriptor, and a table from descriptor to its watch and its
 * place in the pollfd array. Each wait costs time in the number of
 * descriptors watched, not the number ready: fine for some thousands of
 * connections, slower past them (README, "Event loops"). */
#include "loop.h"
#include "loop_turn.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define LOOP_BATCH 256

const char loop_backend[] = "poll";

typedef struct loop_slot {
    loop_watch *w; /* NULL: the descriptor is not watched */
    uint32_t events;
    int index; /* in the pollfd array */
    /* Moved on by each add and remove: what a turn found ready is not
     * handed to a watch that took the descriptor's number since. */
    unsigned generation;
} loop_slot;

/* fds[i] watches owner[i] (fds[i].fd is -1 while it asks for nothing);
 * slots[fd] says where. Removal moves the last pollfd into the hole. */
struct loop_table {
    loop_slot *slots;
    int nslots;
    struct pollfd *fds;
    int *owner;
    int count, cap;
    int scan; /* where the next turn's scan for ready ones starts */
};

int loop_init(loop *l) {
    l->turn_started_ms = l->stalled_ms = 0;
    l->fd = -1;
    l->table = calloc(1, sizeof *l->table);
    return l->table ? 0 : -1;
}

static short poll_events(uint32_t events) {
    short ev = 0;
    if (events & LOOP_IN)
        ev |= POLLIN;
    if (events & LOOP_OUT)
        ev |= POLLOUT;
#ifdef POLLRDHUP
    if (events & LOOP_RDHUP)
        ev |= POLLRDHUP;
#endif
    return ev;
}

static uint32_t loop_events(short revents) {
    uint32_t ev = 0;
    if (revents & POLLIN)
        ev |= LOOP_IN;
    if (revents & POLLOUT)
        ev |= LOOP_OUT;
    if (revents & POLLERR)
        ev |= LOOP_ERR;
    if (revents & POLLHUP)
        ev |= LOOP_HUP;
#ifdef POLLRDHUP
    if (revents & POLLRDHUP)
        ev |= LOOP_RDHUP;
#endif
    return ev;
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

static void set_events(struct loop_table *t, loop_slot *s, int fd, uint32_t events, loop_watch *w) {
    s->w = w;
    s->events = events;
    /* LOOP_QUIET alone: not polled at all, so no hang-up is repeated. */
    int quiet = !(events & ~LOOP_QUIET) && (events & LOOP_QUIET);
    t->fds[s->index] = (struct pollfd){.fd = quiet ? -1 : fd, .events = poll_events(events)};
}

int loop_add(loop *l, int fd, uint32_t events, loop_watch *w) {
    struct loop_table *t = l->table;
    loop_slot *s = slot_of(t, fd, 1);
    if (!s)
        return -1;
    if (!s->w) { /* a descriptor closed unremoved keeps its place */
        if (t->count == t->cap) {
            int cap = t->cap ? t->cap * 2 : 64;
            struct pollfd *fds = realloc(t->fds, (size_t)cap * sizeof *fds);
            if (!fds)
                return -1;
            t->fds = fds;
            int *owner = realloc(t->owner, (size_t)cap * sizeof *owner);
            if (!owner)
                return -1;
            t->owner = owner;
            t->cap = cap;
        }
        s->index = t->count++;
        t->owner[s->index] = fd;
    }
    s->generation++;
    set_events(t, s, fd, events, w);
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
    set_events(l->table, s, fd, events, w);
    return 0;
}

int loop_remove(loop *l, int fd) {
    struct loop_table *t = l->table;
    loop_slot *s = slot_of(t, fd, 0);
    if (!s)
        return -1;
    if (!s->w) {
        errno = ENOENT;
        return -1;
    }
    int last = --t->count;
    if (s->index != last) {
        t->fds[s->index] = t->fds[last];
        t->owner[s->index] = t->owner[last];
        t->slots[t->owner[last]].index = s->index;
    }
    s->w = NULL;
    s->generation++;
    return 0;
}

uint64_t loop_stalled_ms(const loop *l, uint64_t now_ms) { return l->stalled_ms + loop_turn_overrun(l, now_ms); }

typedef struct ready_fd {
    int fd;
    short revents;
    unsigned generation;
} ready_fd;

/* Up to LOOP_BATCH ready descriptors, taken from where the last turn's
 * scan stopped so that none waits behind a crowd that is always ready.
 * Taken before any callback runs: callbacks add and remove. */
static int take_ready(struct loop_table *t, int polled, ready_fd *ready) {
    int n = 0, start = t->scan < t->count ? t->scan : 0;
    for (int k = 0; k < t->count && n < polled && n < LOOP_BATCH; k++) {
        int i = (start + k) % t->count;
        if (t->fds[i].fd >= 0 && t->fds[i].revents) {
            ready[n++] = (ready_fd){t->owner[i], t->fds[i].revents, t->slots[t->owner[i]].generation};
            t->scan = i + 1;
        }
    }
    return n;
}

int loop_run_once(loop *l, int timeout_ms) {
    struct loop_table *t = l->table;
    loop_turn_end(l);
    int polled = poll(t->fds, (nfds_t)t->count, timeout_ms);
    int wait_errno = errno;
    loop_turn_begin(l);
    if (polled < 0) {
        errno = wait_errno;
        return errno == EINTR ? 0 : -1;
    }
    ready_fd ready[LOOP_BATCH];
    int n = take_ready(t, polled, ready), ran = 0;
    for (int i = 0; i < n; i++) {
        loop_slot *s = &t->slots[ready[i].fd];
        if (!s->w || s->generation != ready[i].generation) /* removed (or replaced) this turn */
            continue;
        if (ready[i].revents & POLLNVAL) { /* closed unremoved: stop polling it */
            t->fds[s->index].fd = -1;
            continue;
        }
        s->w->on_ready(s->w, loop_events(ready[i].revents));
        ran++;
    }
    return ran;
}

void loop_close(loop *l) {
    if (l->table) {
        free(l->table->slots);
        free(l->table->fds);
        free(l->table->owner);
        free(l->table);
    }
    l->table = NULL;
}
