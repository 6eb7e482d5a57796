/* The event loop's contract (loop.h), the same for every backend: the unit
 * tests link the LOOP= one (make LOOP=poll unit, make LOOP=kqueue unit with
 * libkqueue on Linux). Each test uses a socket pair and waits at most 1 s. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "loop.h"

typedef struct probe {
    loop_watch watch;
    int calls;
    uint32_t events;
    /* A callback may act on the loop, as ssed's do. */
    loop *l;
    int remove_fd;       /* >= 0: loop_remove it (and close it) in the callback */
    struct probe *other; /* watched by remove_fd: must not be called after */
} probe;

static void on_ready(loop_watch *w, uint32_t events) {
    probe *p = (probe *)w;
    p->calls++;
    p->events |= events;
    if (p->remove_fd >= 0) {
        loop_remove(p->l, p->remove_fd);
        close(p->remove_fd);
        p->remove_fd = -1;
    }
}

static void probe_init(probe *p, loop *l) { *p = (probe){.watch.on_ready = on_ready, .l = l, .remove_fd = -1}; }

/* Run turns until one runs a callback or 1 s passes. */
static int run_until_ready(loop *l) {
    for (int i = 0; i < 10; i++) {
        int n = loop_run_once(l, 100);
        if (n != 0)
            return n;
    }
    return 0;
}

static int open_pair(loop *l, int sv[2]) {
    if (loop_init(l) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
        harness_fail(__FILE__, __LINE__, "setup: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static void close_pair(loop *l, int sv[2]) {
    close(sv[0]);
    close(sv[1]);
    loop_close(l);
}

/* Input is reported as LOOP_IN, once per turn while unread (level). */
static void input_is_reported(const void *arg) {
    (void)arg;
    loop l;
    int sv[2];
    probe p;
    if (open_pair(&l, sv) < 0)
        return;
    probe_init(&p, &l);
    CHECK(loop_add(&l, sv[0], LOOP_IN, &p.watch) == 0);
    CHECK(loop_run_once(&l, 0) == 0);
    CHECK(write(sv[1], "x", 1) == 1);
    CHECK(run_until_ready(&l) == 1);
    CHECK(p.calls == 1 && (p.events & LOOP_IN));
    CHECK(run_until_ready(&l) == 1); /* not read: reported again */
    CHECK(p.calls == 2);
    close_pair(&l, sv);
}

/* Asked for both, a socket ready both ways makes one callback with both. */
static void both_directions_make_one_callback(const void *arg) {
    (void)arg;
    loop l;
    int sv[2];
    probe p;
    if (open_pair(&l, sv) < 0)
        return;
    probe_init(&p, &l);
    CHECK(write(sv[1], "x", 1) == 1);
    CHECK(loop_add(&l, sv[0], LOOP_IN | LOOP_OUT, &p.watch) == 0);
    CHECK(run_until_ready(&l) == 1);
    CHECK(p.calls == 1);
    CHECK((p.events & (LOOP_IN | LOOP_OUT)) == (LOOP_IN | LOOP_OUT));
    close_pair(&l, sv);
}

/* loop_modify changes what is asked: output only, then nothing at all. */
static void modify_changes_the_events(const void *arg) {
    (void)arg;
    loop l;
    int sv[2];
    probe p;
    if (open_pair(&l, sv) < 0)
        return;
    probe_init(&p, &l);
    CHECK(write(sv[1], "x", 1) == 1);
    CHECK(loop_add(&l, sv[0], LOOP_IN, &p.watch) == 0);
    CHECK(loop_modify(&l, sv[0], LOOP_OUT, &p.watch) == 0);
    CHECK(run_until_ready(&l) == 1);
    CHECK(p.events == LOOP_OUT);
    CHECK(loop_modify(&l, sv[0], LOOP_QUIET, &p.watch) == 0);
    p.calls = 0;
    CHECK(loop_run_once(&l, 50) == 0 && p.calls == 0);
    CHECK(loop_modify(&l, sv[0], LOOP_IN, &p.watch) == 0);
    CHECK(run_until_ready(&l) == 1 && (p.events & LOOP_IN));
    close_pair(&l, sv);
}

/* A removed descriptor is not reported; removing one not watched is ENOENT
 * (as epoll says), and modifying it too. */
static void remove_stops_reports(const void *arg) {
    (void)arg;
    loop l;
    int sv[2];
    probe p;
    if (open_pair(&l, sv) < 0)
        return;
    probe_init(&p, &l);
    CHECK(write(sv[1], "x", 1) == 1);
    CHECK(loop_add(&l, sv[0], LOOP_IN, &p.watch) == 0);
    CHECK(loop_remove(&l, sv[0]) == 0);
    CHECK(loop_run_once(&l, 50) == 0 && p.calls == 0);
    errno = 0;
    CHECK(loop_remove(&l, sv[0]) < 0 && errno == ENOENT);
    errno = 0;
    CHECK(loop_modify(&l, sv[0], LOOP_IN, &p.watch) < 0 && errno == ENOENT);
    close_pair(&l, sv);
}

/* The peer's close is seen with input (read to its end), as LOOP_IN and
 * one of LOOP_RDHUP or LOOP_HUP. */
static void peer_close_is_reported(const void *arg) {
    (void)arg;
    loop l;
    int sv[2];
    probe p;
    if (open_pair(&l, sv) < 0)
        return;
    probe_init(&p, &l);
    CHECK(loop_add(&l, sv[0], LOOP_IN | LOOP_RDHUP, &p.watch) == 0);
    close(sv[1]);
    sv[1] = -1;
    CHECK(run_until_ready(&l) == 1);
    CHECK((p.events & LOOP_IN) && (p.events & (LOOP_RDHUP | LOOP_HUP)));
    close(sv[0]);
    loop_close(&l);
}

/* A callback that removes and closes another ready descriptor in the same
 * turn: with poll and kqueue that one's watch is not called with what the
 * turn found. epoll promises no such thing (its batch is already out), which
 * is why ssed frees a closed connection only after the turn. */
static void removed_in_the_turn_is_not_called(const void *arg) {
    (void)arg;
    if (strcmp(loop_backend, "epoll") == 0)
        return;
    loop l;
    int a[2], b[2];
    probe pa, pb;
    if (open_pair(&l, a) < 0)
        return;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, b) < 0) {
        close_pair(&l, a);
        return;
    }
    probe_init(&pa, &l);
    probe_init(&pb, &l);
    pa.remove_fd = b[0];
    pb.remove_fd = a[0];
    CHECK(write(a[1], "x", 1) == 1 && write(b[1], "x", 1) == 1);
    CHECK(loop_add(&l, a[0], LOOP_IN, &pa.watch) == 0);
    CHECK(loop_add(&l, b[0], LOOP_IN, &pb.watch) == 0);
    CHECK(run_until_ready(&l) == 1);
    CHECK(pa.calls + pb.calls == 1);
    /* Whichever ran closed the other's socket; close what is left. */
    if (pa.calls)
        close(a[0]);
    else
        close(b[0]);
    close(a[1]);
    close(b[1]);
    loop_close(&l);
}

void loop_tests_register(void) {
    static char names[6][96];
    const char *what[] = {"input is reported, again while unread", "ready both ways: one callback with both events",
                          "loop_modify changes the events (LOOP_QUIET: none)",
                          "a removed descriptor is not reported; ENOENT after",
                          "the peer's close comes with input and a hang-up",
                          "a descriptor removed by a callback is not reported in that turn (not epoll)"};
    test_fn fns[] = {input_is_reported,      both_directions_make_one_callback, modify_changes_the_events,
                     remove_stops_reports,   peer_close_is_reported,            removed_in_the_turn_is_not_called};
    for (int i = 0; i < 6; i++) {
        snprintf(names[i], sizeof names[i], "loop (%s): %s", loop_backend, what[i]);
        harness_add(names[i], fns[i], NULL);
    }
}
