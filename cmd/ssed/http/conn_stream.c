/* A connection's life as a stream: it starts once a subscription is
 * accepted, and ends by one path (conn_end_stream) whatever ends it, so
 * that what the transport owes is written before the stream's last words
 * and the TLS close_notify. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "conn.h"
#include "log.h"

void conn_start_stream(conn *c) {
    server *srv = c->srv;
    c->state = CONN_STREAMING;
    free(c->head); /* a subscriber reads no more requests */
    c->head = NULL;
    c->head_len = c->head_cap = 0;
    srv->subscriber_count++;
    srv->stats.subscribers_total++;
    list_remove(&c->timer_link);
    c->since_ms = clock_now_ms();
    list_push_back(&srv->streaming, &c->timer_link);
    if (log_enabled(LOG_SEV_DEBUG)) {
        char name[256];
        conn_stream_name(c, name, sizeof name);
        log_event(LOG_SEV_DEBUG, "connect", LOG_STR("peer", c->peer), LOG_STR("channel", name));
    }
    subscriber_mark_dirty(&srv->hub.subs, &c->sub); /* headers and history go out with the next flush */
}

/* The stream is cut short only above the transport: what a write handed
 * over is the transport's (transport.h) and goes out first, whatever is
 * dropped here. It leaves srv->streaming (no more keep-alives) for
 * srv->reading, under --header-timeout from now: a client that stopped
 * reading, or reads a byte at a time, cannot hold its connection past it. */
void conn_end_stream(conn *c, shared_event *last, const char *reason) {
    server *srv = c->srv;
    if (c->closed || c->draining || c->state != CONN_STREAMING)
        return;
    if (log_enabled(LOG_SEV_DEBUG)) {
        char name[256];
        conn_stream_name(c, name, sizeof name);
        log_event(LOG_SEV_DEBUG, "stream ending", LOG_STR("peer", c->peer), LOG_STR("channel", name),
                  LOG_STR("reason", reason ? reason : "server shutting down"));
    }
    if (last)
        subscriber_finish(&srv->hub.subs, &c->sub, last);
    c->draining = 1;
    c->drain_reason = reason;
    c->since_ms = clock_now_ms();
    list_remove(&c->timer_link);
    list_push_back(&srv->reading, &c->timer_link);
    subscriber_mark_dirty(&srv->hub.subs, &c->sub);
}

void conn_end_stream_at(conn *c, int64_t exp_s) {
    server *srv = c->srv;
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    int64_t left_ms = (exp_s * 1000 + (int64_t)srv->opt->jwt_leeway_ms) -
                      ((int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000);
    c->ends_ms = clock_now_ms() + (uint64_t)(left_ms > 0 ? left_ms : 0);
    /* Tokens are mostly issued for one lifetime, so a new one usually
     * expires last: look for its place from the end. */
    list_node *at = srv->expiring.prev;
    while (at != &srv->expiring && list_entry(at, conn, expiry_link)->ends_ms > c->ends_ms)
        at = at->prev;
    list_push_back(at->next, &c->expiry_link);
}
