/* The hiredis event adapter over ssed's event loop (see redis_loop.h). */
#include "redis_loop.h"

#include <errno.h>
#include <string.h>

#include "log.h"

/* hiredis asks for events; the loop is asked for them, less reading while
 * held. */
static void set_events(redis_watch *w, uint32_t events) {
    uint32_t registered = w->held ? events & ~(uint32_t)LOOP_IN : events;
    w->events = events;
    if (w->registered == registered || !w->ac)
        return;
    if (loop_modify(w->loop, w->fd, registered, &w->watch) < 0) {
        /* Nothing to hand the error to: hiredis' hooks return nothing. The
         * link notices the silence when its commands go unanswered. */
        log_error("redis: watching the socket: %s", strerror(errno));
        return;
    }
    w->registered = registered;
}

void redis_loop_hold_reading(redis_watch *w, int held) {
    w->held = held;
    set_events(w, w->events);
}

static void add_read(void *data) {
    redis_watch *w = data;
    set_events(w, w->events | LOOP_IN);
}

static void del_read(void *data) {
    redis_watch *w = data;
    set_events(w, w->events & ~(uint32_t)LOOP_IN);
}

static void add_write(void *data) {
    redis_watch *w = data;
    set_events(w, w->events | LOOP_OUT);
}

static void del_write(void *data) {
    redis_watch *w = data;
    set_events(w, w->events & ~(uint32_t)LOOP_OUT);
}

/* hiredis is freeing the context; its socket is still open. */
static void cleanup(void *data) {
    redis_watch *w = data;
    if (!w->ac)
        return;
    loop_remove(w->loop, w->fd);
    w->ac = NULL;
    w->events = w->registered = 0;
    if (w->gone)
        w->gone(w->ctx, w);
}

static void on_ready(loop_watch *lw, uint32_t events) {
    redis_watch *w = (redis_watch *)lw;
    if (w->ac && (events & (LOOP_IN | LOOP_ERR | LOOP_HUP))) {
        if (!w->may_read || w->may_read(w->ctx))
            redisAsyncHandleRead(w->ac);
        else
            redis_loop_hold_reading(w, 1); /* until the owner says it may read */
    }
    /* Reading may have freed the context (w->ac is then NULL). */
    if (w->ac && (events & (LOOP_OUT | LOOP_ERR | LOOP_HUP)))
        redisAsyncHandleWrite(w->ac);
}

int redis_loop_attach(redisAsyncContext *ac, loop *l, redis_watch *w, void (*gone)(void *ctx, redis_watch *w),
                       void *ctx) {
    memset(w, 0, sizeof *w);
    w->watch.on_ready = on_ready;
    w->loop = l;
    w->fd = ac->c.fd;
    w->gone = gone;
    w->ctx = ctx;
    /* Both at first: writable says a non-blocking connect finished. */
    if (loop_add(l, w->fd, LOOP_IN | LOOP_OUT, &w->watch) < 0)
        return -1;
    w->ac = ac;
    w->events = w->registered = LOOP_IN | LOOP_OUT;
    ac->ev.data = w;
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    return 0;
}
