#include "serving.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "clock.h"
#include "connection.h"
#include "h2.h"
#include "http_reply.h"
#include "log.h"
#include "sockets.h"
#include "tls.h"

#define ACCEPTS_PER_WAKEUP 256
#define ACCEPT_PAUSE_MS 100
/* Subscribers written between two looks at the sockets. Events that arrive
 * while the rest wait join their queues, so under load each subscriber gets
 * several events in one write; idle, nothing waits. */
#define FLUSH_SLICE 16

static const char busy_reply[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                 "Content-Type: text/plain; charset=utf-8\r\n"
                                 "Content-Length: 58\r\n"
                                 "Retry-After: 5\r\n"
                                 "Connection: close\r\n"
                                 "\r\n"
                                 "503 Service Unavailable: too many clients (--max-clients)\n";


static void pause_listeners(server *srv, int paused) {
    for (size_t i = 0; i < srv->listener_count; i++) {
        listener_watch *l = &srv->listeners[i];
        if (l->fd < 0 || l->paused == paused)
            continue;
        if (loop_modify(&srv->loop, l->fd, paused ? 0 : LOOP_IN, &l->watch) == 0)
            l->paused = paused;
    }
}


/* Answer 503 and close. Best effort on a fresh socket: its send buffer is
 * empty, so the reply fits. A TLS client is only closed: a reply would
 * need a handshake, the very work a full server cannot take on. */
static void refuse(const listener_watch *l, int fd, const char *reply, size_t len) {
    if (!l->tls) {
        ssize_t ignored = write(fd, reply, len);
        (void)ignored;
    }
    shutdown(fd, SHUT_WR);
    close(fd);
}

static void refuse_busy(server *srv, const listener_watch *l, int fd) {
    refuse(l, fd, busy_reply, sizeof busy_reply - 1);
    srv->stats.rejected_busy++;
}


static void accept_one(server *srv, const listener_watch *l, int fd) {
    if (srv->conn_count >= srv->max_clients) {
        refuse_busy(srv, l, fd);
        return;
    }
    if (!connection_new(srv, fd, l->tls ? srv->tls : NULL)) /* out of memory, mostly */
        refuse(l, fd, http_reply_no_memory, http_reply_no_memory_len);
}

/* Out of descriptors: refuse the waiting client cleanly with a 503 using a
 * descriptor kept in reserve for this, instead of leaving it hanging in the
 * backlog or spinning on a listener that stays readable. */
static int refuse_with_reserve(server *srv, listener_watch *l) {
    if (srv->reserve_fd < 0)
        return -1;
    close(srv->reserve_fd);
    srv->reserve_fd = -1;
    int fd = sockets_accept(l->fd);
    if (fd >= 0)
        refuse_busy(srv, l, fd);
    srv->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return fd >= 0 ? 0 : -1;
}


void server_accept_ready(loop_watch *w, uint32_t events) {
    (void)events;
    listener_watch *l = (listener_watch *)w;
    server *srv = l->srv;
    for (int i = 0; i < ACCEPTS_PER_WAKEUP && !srv->stopping; i++) {
        int fd = sockets_accept(l->fd);
        if (fd >= 0) {
            if (srv->accept_error_logged && srv->conn_count + 1 < srv->max_clients) {
                log_info("accepting connections again");
                srv->accept_error_logged = 0;
            }
            accept_one(srv, l, fd);
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED)
            return;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            if (!srv->accept_error_logged)
                log_error("accept %s: %s; refusing new connections until descriptors free up", l->url,
                          strerror(errno));
            srv->accept_error_logged = 1;
            if (refuse_with_reserve(srv, l) == 0)
                continue;
            /* No reserve either: stop accepting for a moment. */
            srv->accept_resume_ms = clock_now_ms() + ACCEPT_PAUSE_MS;
            pause_listeners(srv, 1);
            return;
        }
        log_error("accept %s: %s", l->url, strerror(errno));
        return;
    }
}


void server_read_buffered(server *srv) {
    list_node ready;
    list_init(&ready);
    /* Only those waiting now: a connection that still holds input after
     * its read goes back on the list for the next turn. */
    list_move_all(&ready, &srv->buffered_input);
    while (!list_empty(&ready))
        connection_read_buffered(list_entry(ready.next, connection, input_link));
}

int server_has_buffered_input(const server *srv) { return !list_empty(&srv->buffered_input); }


/* Thousands of connections' small blocks freed together sit in malloc's
 * free lists between live ones, and glibc gives back only the top of the
 * heap by itself: after a crowd of peers left (5,120 HTTP/2 streams), RSS
 * stayed where they had taken it. Once at least this many, and as many as
 * are still open, have been freed, the free pages go back to the system: a
 * trim costs about the heap, which follows the connections open, so its
 * cost per connection freed stays constant. */
#define TRIM_AFTER_CONNS 1024

static void give_back_memory(server *srv, size_t freed) {
    srv->conns_freed_since_trim += freed;
    if (srv->conns_freed_since_trim < TRIM_AFTER_CONNS || srv->conns_freed_since_trim < srv->conn_count)
        return;
    srv->conns_freed_since_trim = 0;
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

void server_free_graveyard(server *srv) {
    size_t freed = 0;
    while (!list_empty(&srv->stream_graveyard)) {
        list_node *n = srv->stream_graveyard.next;
        list_remove(n);
        stream *st = list_entry(n, stream, timer_link);
        freed += st->is_h2; /* counted as connections; HTTP/1.1 requests are not */
        free(st);
    }
    while (!list_empty(&srv->graveyard)) {
        list_node *n = srv->graveyard.next;
        list_remove(n);
        free(list_entry(n, connection, timer_link));
        freed++;
    }
    if (freed)
        give_back_memory(srv, freed);
}


int server_flush_dirty(server *srv) {
    for (int flushed = 0; flushed < FLUSH_SLICE && !list_empty(&srv->hub.subs.dirty); flushed++) {
        list_node *n = srv->hub.subs.dirty.next;
        list_remove(n);
        subscriber *s = list_entry(n, subscriber, dirty_link);
        stream *st = (stream *)((char *)s - offsetof(stream, sub));
        /* A full transport is written when it says it has room; one that
         * overflowed is closed now, whatever its transport. */
        if (!st->closed && (!st->waits_writable || s->overflowed))
            stream_flush(st);
    }
    h2_flush_sessions(srv);
    if (!list_empty(&srv->hub.subs.dirty) || !list_empty(&srv->flushing))
        return 1;
    hub_round_end(&srv->hub); /* everyone is written: a new round, intake opens */
    return 0;
}


/* Nothing more is sent but the notice; the stream closes once it is
 * written, or when its client has taken nothing for --header-timeout
 * (stream_end). */
static void end_expired_streams(server *srv, uint64_t now) {
    while (!list_empty(&srv->expiring)) {
        stream *st = list_entry(srv->expiring.next, stream, expiry_link);
        if (st->ends_ms > now)
            break;
        list_remove(&st->expiry_link);
        stream_end(st, srv->expired_notice, "token expired");
    }
}

void server_run_timers(server *srv, uint64_t now) {
    const ssed_options *o = srv->opt;
    end_expired_streams(srv, now);
    while (!list_empty(&srv->reading)) {
        connection *c = list_entry(srv->reading.next, connection, timer_link);
        if (c->since_ms + o->header_timeout_ms > now)
            break;
        if (c->state == CONNECTION_READING) {
            srv->stats.header_timeouts++;
            log_event(LOG_SEV_DEBUG, "closing: no complete request head within --header-timeout",
                      LOG_STR("peer", c->peer), LOG_NUM("duration_ms", now - c->started_ms),
                      LOG_STR("reason", "header_timeout"));
        }
        connection_close(c, "timeout");
    }
    while (!list_empty(&srv->ending)) {
        stream *st = list_entry(srv->ending.next, stream, timer_link);
        if (st->since_ms + o->header_timeout_ms > now)
            break;
        stream_close(st, "timeout");
    }
    if (o->keepalive_ms > 0) {
        while (!list_empty(&srv->streaming)) {
            stream *st = list_entry(srv->streaming.next, stream, timer_link);
            if (st->since_ms + o->keepalive_ms > now)
                break;
            st->since_ms = now;
            list_remove(&st->timer_link);
            list_push_back(&srv->streaming, &st->timer_link);
            if (st->sub.q_len == 0)
                subscriber_enqueue_owed(&srv->hub.subs, &st->sub, srv->keepalive);
        }
    }
    if (srv->accept_resume_ms && now >= srv->accept_resume_ms) {
        srv->accept_resume_ms = 0;
        pause_listeners(srv, 0);
    }
    /* Looking for the peer to drop walks the sessions: not every turn. */
    if (srv->h2_held > o->h2_total_buffer && now >= srv->h2_enforce_at_ms) {
        srv->h2_enforce_at_ms = now + H2_ENFORCE_MS;
        h2_session_enforce_budget(srv);
    }
}


int server_next_timeout(server *srv, uint64_t now) {
    uint64_t next = UINT64_MAX;
    if (!list_empty(&srv->reading)) {
        connection *c = list_entry(srv->reading.next, connection, timer_link);
        next = c->since_ms + srv->opt->header_timeout_ms;
    }
    if (!list_empty(&srv->ending)) {
        stream *st = list_entry(srv->ending.next, stream, timer_link);
        if (st->since_ms + srv->opt->header_timeout_ms < next)
            next = st->since_ms + srv->opt->header_timeout_ms;
    }
    if (srv->opt->keepalive_ms > 0 && !list_empty(&srv->streaming)) {
        stream *st = list_entry(srv->streaming.next, stream, timer_link);
        /* Rounded up to a step of keepalive/8, at most 1 s: subscribers
         * that arrived spread out would each wake the loop on its own
         * (a wakeup costs about what the keep-alive write does), while a
         * step's worth share one wakeup and stay together after it. */
        uint64_t step = srv->opt->keepalive_ms / 8;
        step = step > 1000 ? 1000 : step ? step : 1;
        uint64_t t = (st->since_ms + srv->opt->keepalive_ms + step - 1) / step * step;
        if (t < next)
            next = t;
    }
    if (!list_empty(&srv->expiring)) {
        stream *st = list_entry(srv->expiring.next, stream, expiry_link);
        if (st->ends_ms < next)
            next = st->ends_ms;
    }
    if (srv->accept_resume_ms && srv->accept_resume_ms < next)
        next = srv->accept_resume_ms;
    if (srv->stopping && srv->stop_deadline_ms < next)
        next = srv->stop_deadline_ms;
    if (srv->h2_held > srv->opt->h2_total_buffer && srv->h2_enforce_at_ms < next)
        next = srv->h2_enforce_at_ms; /* until a peer that reads nothing is found and dropped */
    if (next == UINT64_MAX)
        return -1;
    return next <= now ? 0 : (int)(next - now > 60000 ? 60000 : next - now);
}


/* Connections between requests close now. An idle HTTP/2 session is told
 * GOAWAY(NO_ERROR) first, as a session with streams is when its last one
 * ends, so its client knows no request was lost; saying so puts it back
 * on srv->reading under a deadline, hence the list is taken whole first.
 * Streams already ending (stream_end) are on srv->ending, not here: they
 * drain as the streams about to be ended do, their last words included. */
static void close_idle(server *srv) {
    list_node idle;
    list_init(&idle);
    list_move_all(&idle, &srv->reading);
    while (!list_empty(&idle)) {
        connection *c = list_entry(idle.next, connection, timer_link);
        if (c->state != CONNECTION_H2 || h2_session_say_goodbye(c) < 0)
            connection_close(c, "server shutting down");
    }
}

void server_begin_shutdown(server *srv) {
    if (srv->stopping)
        return;
    srv->stopping = 1;
    srv->stop_deadline_ms = clock_now_ms() + srv->opt->shutdown_timeout_ms;
    for (size_t i = 0; i < srv->listener_count; i++) {
        listener_watch *l = &srv->listeners[i];
        if (l->fd >= 0) {
            loop_remove(&srv->loop, l->fd);
            close(l->fd);
            l->fd = -1;
        }
    }
    close_idle(srv);
    /* Publishers in the middle of a body finish it and get their answer (up
     * to the shutdown timeout), so what they were told was taken was. */
    /* Subscribers get what they are owed first; each one's carrier ends it
     * as its queue empties. */
    for (list_node *n = srv->streaming.next, *next; n != &srv->streaming; n = next) {
        next = n->next; /* stream_end moves it to srv->ending */
        stream_end(list_entry(n, stream, timer_link), NULL, NULL);
    }
}


/* Closing an HTTP/2 session's last stream puts the session back on
 * srv->reading, perhaps after that list was emptied: go round until every
 * list stays empty (each round closes at least one, so it ends). */
void server_close_all(server *srv) {
    list_node *stream_lists[] = {&srv->streaming, &srv->ending, &srv->publishing};
    list_node *connection_lists[] = {&srv->reading, &srv->sessions};
    size_t closed;
    do {
        closed = 0;
        for (size_t i = 0; i < sizeof stream_lists / sizeof stream_lists[0]; i++) {
            while (!list_empty(stream_lists[i])) {
                stream_close(list_entry(stream_lists[i]->next, stream, timer_link), "shutdown timeout");
                closed++;
            }
        }
        for (size_t i = 0; i < sizeof connection_lists / sizeof connection_lists[0]; i++) {
            while (!list_empty(connection_lists[i])) {
                connection_close(list_entry(connection_lists[i]->next, connection, timer_link), "shutdown timeout");
                closed++;
            }
        }
    } while (closed);
}


int server_init(server *srv, const ssed_options *opt, const stream_routes *routes) {
    memset(srv, 0, sizeof *srv);
    srv->loop.fd = -1;
    srv->loop.table = NULL;
    srv->opt = opt;
    srv->routes = routes;
    srv->signal_fd = -1;
    srv->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    srv->stats.started_ms = clock_now_ms();
    list_init(&srv->reading);
    list_init(&srv->sessions);
    list_init(&srv->streaming);
    list_init(&srv->publishing);
    list_init(&srv->ending);
    list_init(&srv->graveyard);
    list_init(&srv->stream_graveyard);
    list_init(&srv->buffered_input);
    list_init(&srv->replay_streams);
    list_init(&srv->flushing);
    list_init(&srv->expiring);
    intake_gate_init(&srv->intake);
    srv->max_clients = opt->max_clients;
    srv->keepalive = shared_event_raw(": keep-alive\n\n", 14);
    srv->expired_notice = shared_event_raw(": token expired\n\n", 17);
    srv->dedup = calloc(1, sizeof *srv->dedup);
    if (!srv->keepalive || !srv->expired_notice || !srv->dedup || loop_init(&srv->loop) < 0)
        return -1;
    hub_limits limits = {opt->history, opt->max_history_bytes, opt->max_pending, opt->max_channels,
                         opt->max_channels};
    if (hub_init(&srv->hub, &limits) < 0)
        return -1;
    srv->hub.gate = &srv->intake;
    return 0;
}

void server_free(server *srv) {
    for (size_t i = 0; i < srv->listener_count; i++)
        if (srv->listeners[i].fd >= 0)
            close(srv->listeners[i].fd);
    if (srv->hub.buckets)
        hub_free(&srv->hub);
    if (srv->keepalive)
        shared_event_unref(srv->keepalive);
    if (srv->expired_notice)
        shared_event_unref(srv->expired_notice);
    if (srv->reserve_fd >= 0)
        close(srv->reserve_fd);
    loop_close(&srv->loop);
    free(srv->dedup);
    tls_server_free(srv->tls);
}
