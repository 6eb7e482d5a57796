/* The ssed_lifecycle fuzz target's server (lifecycle.h): set up as main.c
 * sets it up, its loop run as main.c's run() runs it, and the invariants
 * checked after every step (fuzz_ssed_lifecycle.c lists them). */
#include <stdio.h>
#include <string.h>
#include <getopt.h>
#include <sys/socket.h>
#include <unistd.h>

#include "connection.h"
#include "h2_internal.h"
#include "lifecycle.h"
#include "listener.h"
#include "publish.h"
#include "router.h"
#include "serving.h"
#include "token.h"
#include "clock.h"
#include "log.h"

#define PUMP_ROUNDS 8 /* loop iterations per step, at most */

static const stream_routes routes = {router_handle, publish_route_body, publish_route_end, publish_route_close};

/* The server as cmd/ssed/main.c sets it up: options from an argv,
 * server_init, the token, one listener like open_listeners' and the input
 * channel held like open_inputs' (but no stdin, FIFO or signalfd). The one
 * place to update when main.c changes. */
int server_start(world *w, uint8_t config) {
    static const char *const history[4] = {"0", "2", "100", "100"};
    static const char *const pending[4] = {NULL, "256", "4K", "64KiB"};
    snprintf(w->listen_arg, sizeof w->listen_arg, "unix:%s", socket_path);
    char *argv[24] = {"ssed", "--no-stdin", "-q", "--listen", w->listen_arg, "--history", (char *)history[config & 3]};
    int argc = 7;
    if (pending[(config >> 2) & 3]) {
        argv[argc++] = "--max-pending";
        argv[argc++] = (char *)pending[(config >> 2) & 3];
    }
    if ((config & 3) == 3) {
        argv[argc++] = "--max-history-bytes";
        argv[argc++] = "1K";
    }
    if ((config & 0x10) && (config & 3) != 0) {
        argv[argc++] = "--replay";
        argv[argc++] = "2";
    }
    if (config & 0x40) {
        argv[argc++] = "--max-event-size";
        argv[argc++] = "32";
    }
    if (config & 0x80) {
        argv[argc++] = "--cors";
        argv[argc++] = "*";
    }
    w->slow_network = (config & 0x20) != 0;
    optind = 0; /* getopt_long: start afresh */
    if (options_parse(&w->opt, argc, argv) != 0)
        return -1;
    log_init("ssed", (enum log_level)w->opt.verbosity);

    server *srv = &w->srv;
    if (server_init(srv, &w->opt, &routes) < 0)
        return -1;
    if (!w->opt.max_clients)
        srv->max_clients = 1000;
    srv->token = token_load(&w->opt, &w->owned_token);
    if (srv->token == TOKEN_ERROR)
        return -1;

    listener_watch *l = &srv->listeners[0];
    char err[400];
    l->fd = listener_open(w->opt.listen[0], 0, l->url, sizeof l->url, err, sizeof err);
    if (l->fd < 0) {
        fprintf(stderr, "fuzz_ssed_lifecycle: %s\n", err);
        return -1;
    }
    l->srv = srv;
    l->watch.on_ready = server_accept_ready;
    srv->listener_count = 1;
    if (loop_add(&srv->loop, l->fd, LOOP_IN, &l->watch) < 0)
        return -1;

    srv->input_channel = hub_channel_acquire(&srv->hub, w->opt.channel, strlen(w->opt.channel), HUB_FOR_PUBLISHING);
    return srv->input_channel ? 0 : -1;
}

/* The end of main.c's run() and its cleanup. */
void server_stop(world *w) {
    server_close_all(&w->srv);
    server_free_graveyard(&w->srv);
    server_free(&w->srv);
    unlink(socket_path);
    free(w->owned_token);
}

/* The slow network: connections accepted in the last loop iteration (they
 * have not read yet) get the smallest send buffer the kernel allows. */
static void shrink_send_buffers(server *srv) {
    for (list_node *p = srv->reading.next; p != &srv->reading; p = p->next) {
        connection *c = list_entry(p, connection, timer_link);
        int one = 1;
        if (c->requests == 0 && c->head_len == 0)
            setsockopt(c->io.fd, SOL_SOCKET, SO_SNDBUF, &one, sizeof one);
    }
}

/* One step of main.c's run() loop, repeated while anything was ready. */
void server_pump(world *w) {
    server *srv = &w->srv;
    for (int i = 0; i < PUMP_ROUNDS; i++) {
        int ran = loop_run_once(&srv->loop, 0);
        if (w->slow_network)
            shrink_send_buffers(srv);
        server_run_timers(srv, clock_now_ms());
        int more = server_flush_dirty(srv); /* one slice per turn, as main.c does */
        server_free_graveyard(srv);
        if (ran <= 0 && !more)
            break;
    }
}

/* ---- server invariants --------------------------------------------------- */

static size_t list_length(const list_node *head) {
    size_t n = 0;
    for (const list_node *p = head->next; p != head; p = p->next)
        n++;
    return n;
}

/* Is ch one of the hub's channels? By address only: ch may be freed. */
static int hub_holds(const hub *h, const channel *ch) {
    for (size_t b = 0; b < h->bucket_count; b++)
        for (const channel *c = h->buckets[b]; c; c = c->hash_next)
            if (c == ch)
                return 1;
    return 0;
}

static const sub_link *link_at(const subscriber *s, size_t k) { return k == 0 ? &s->link0 : &s->more_links[k - 1]; }

/* The publish a connection on srv->publishing is reading a body for. */
static const publish_request *publish_of(const list_node *p) {
    return list_entry(p, stream, timer_link)->route_state;
}

/* Publishes in progress into ch. */
static size_t publishers_of(const server *srv, const channel *ch) {
    size_t n = 0;
    for (const list_node *p = srv->publishing.next; p != &srv->publishing; p = p->next)
        n += publish_of(p)->ch == ch;
    return n;
}

static void check_channel(const server *srv, const channel *c) {
    size_t n = list_length(&c->subscribers);
    if (n != c->subscriber_count)
        broken("a channel's subscriber_count is not the length of its subscribers list");
    for (const list_node *p = c->subscribers.next; p != &c->subscribers; p = p->next)
        if (list_entry(p, sub_link, node)->ch != c)
            broken("a subscriber link on a channel's list points at another channel");
    if (c->holders != n + publishers_of(srv, c) + (c == srv->input_channel))
        broken("a channel's holders are not its subscribers, publishers and input");
}

/* The hub's own counts; returns the number of links over all channels. */
static size_t check_hub(const server *srv) {
    const hub *h = &srv->hub;
    size_t channels = 0, waiting = 0, links = 0, retained = 0;
    for (size_t b = 0; b < h->bucket_count; b++)
        for (const channel *c = h->buckets[b]; c; c = c->hash_next) {
            check_channel(srv, c);
            links += c->subscriber_count;
            retained += c->ring_len;
            waiting += c->waiting != 0;
            channels++;
        }
    if (channels != h->channel_count || waiting != h->waiting_count)
        broken("hub.channel_count or waiting_count is not what hub.buckets holds");
    if (retained != list_length(&h->history.order))
        broken("the channels' history is not the events on hub.history.order");
    if (h->limits.max_history_bytes && h->history.bytes > h->limits.max_history_bytes)
        broken("history is over --max-history-bytes");
    return links;
}

static void check_subscriber(const server *srv, const stream *st) {
    const subscriber *s = &st->sub;
    if (st->state != STREAM_SUBSCRIBED || st->closed)
        broken("a stream on srv->streaming is not a live subscriber");
    for (size_t k = 0; k < s->link_count; k++)
        if (!hub_holds(&srv->hub, link_at(s, k)->ch))
            broken("a subscriber follows a channel that is no longer in the hub");
    size_t queued = 0;
    for (size_t i = 0; i < s->q_len; i++)
        queued += s->queue[(s->q_head + i) & (s->q_cap - 1)]->len;
    if ((s->q_len == 0 && s->head_offset != 0) || queued - s->head_offset != s->pending_bytes)
        broken("a subscriber's pending_bytes is not its queued bytes minus head_offset");
}

/* HTTP/2 streams on one of the stream lists. */
static size_t h2_streams_on(const list_node *head) {
    size_t n = 0;
    for (const list_node *p = head->next; p != head; p = p->next)
        n += list_entry(p, stream, timer_link)->is_h2;
    return n;
}

/* One HTTP/2 session: its request streams are its streams with a live
 * stream that names it as carrier; it holds what they hold for DATA frames
 * and the frames it gathered; it is on srv->sessions while it has request
 * streams and has not said GOAWAY, else on srv->reading under a deadline.
 * Returns what it holds. */
static size_t check_session(const server *srv, const connection *c, int on_sessions) {
    const h2_session *s = c->h2;
    size_t requests = 0, held = s->out_held;
    for (const h2_stream *st = s->streams; st; st = st->next) {
        size_t pieces = 0;
        for (size_t i = 0; i < st->owed_count; i++)
            pieces += st->owed[(st->owed_head + i) & (st->owed_cap - 1)].len;
        if (pieces != st->owed_bytes)
            broken("an HTTP/2 stream's owed_bytes is not the bytes of its pieces");
        held += st->owed_bytes;
        if (!st->req)
            continue;
        requests++;
        if (st->req->closed || st->req->carrier_data != st || !st->req->is_h2 || st->sess != s)
            broken("an HTTP/2 stream's request stream is closed or carried by another");
    }
    if (requests != s->request_streams)
        broken("a session's request_streams is not the number of its streams with a request");
    if (held != s->held)
        broken("a session's held bytes are not what its streams and gathered frames hold");
    if (on_sessions && (s->failing || !s->request_streams))
        broken("a session on srv->sessions has said GOAWAY or has no request streams");
    if (!on_sessions && !s->failing && s->request_streams)
        broken("a session with request streams is on srv->reading");
    (void)srv;
    return held;
}

static void check_sessions(const server *srv) {
    size_t held = 0;
    for (int on_sessions = 0; on_sessions < 2; on_sessions++) {
        const list_node *head = on_sessions ? &srv->sessions : &srv->reading;
        for (const list_node *p = head->next; p != head; p = p->next) {
            const connection *c = list_entry(p, connection, timer_link);
            if (c->closed)
                broken("a closed connection is on srv->reading or srv->sessions");
            if (c->state == CONNECTION_H2)
                held += check_session(srv, c, on_sessions);
            else if (on_sessions)
                broken("an HTTP/1.1 connection is on srv->sessions");
        }
    }
    if (held != srv->h2_held)
        broken("srv->h2_held is not what the sessions hold");
    size_t streams = h2_streams_on(&srv->streaming) + h2_streams_on(&srv->publishing) + h2_streams_on(&srv->ending);
    if (streams != srv->h2_stream_count)
        broken("srv->h2_stream_count is not the HTTP/2 streams on streaming, publishing and ending");
}

void check_server(const server *srv) {
    check_sessions(srv);
    size_t publishing = 0;
    for (const list_node *p = srv->publishing.next; p != &srv->publishing; p = p->next, publishing++) {
        if (list_entry(p, stream, timer_link)->state != STREAM_BODY || !publish_of(p))
            broken("a stream on srv->publishing has no body in progress");
        if (!hub_holds(&srv->hub, publish_of(p)->ch))
            broken("a publish is in progress into a channel that is no longer in the hub");
    }
    size_t channel_links = check_hub(srv);
    size_t streaming = 0, stream_links = 0;
    for (const list_node *p = srv->streaming.next; p != &srv->streaming; p = p->next) {
        const stream *st = list_entry(p, stream, timer_link);
        check_subscriber(srv, st);
        stream_links += st->sub.link_count;
        streaming++;
    }
    /* A stream that is ending (stream_end) waits out its deadline on
     * srv->ending, still linked to its channels until it closes; so do
     * streams not answered yet and replies being written. */
    for (const list_node *p = srv->ending.next; p != &srv->ending; p = p->next) {
        const stream *st = list_entry(p, stream, timer_link);
        if (st->closed)
            broken("a closed stream is on srv->ending");
        if (st->state != STREAM_SUBSCRIBED)
            continue;
        if (!st->draining)
            broken("a subscriber's stream on srv->ending is not ending");
        check_subscriber(srv, st);
        stream_links += st->sub.link_count;
        streaming++;
    }
    if (channel_links != stream_links)
        broken("the channels' subscriber links are not the subscribers' streams' links");
    if (streaming != srv->subscriber_count)
        broken("srv->subscriber_count is not the number of streams on srv->streaming and ending ones");
    size_t carried = list_length(&srv->streaming) + publishing + list_length(&srv->ending);
    if (srv->conn_count != list_length(&srv->reading) + list_length(&srv->sessions) + carried)
        broken("srv->conn_count is not the connections on reading and sessions plus the streams they carry");
}

