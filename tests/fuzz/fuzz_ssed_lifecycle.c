/* libFuzzer target for the ssed server as a whole: the real connection,
 * router, publish and hub code behind one unix-socket listener, driven by up
 * to 8 clients through a sequence of operations decoded from the input.
 * After every operation the server's loop runs as in main.c's run(), and
 * the invariants below are checked; ASan and UBSan catch the rest.
 *
 * Input format (a short input simply stops early):
 *   byte 0: configuration
 *     bits 0-1  --history 0, 2, 100, or 100 with --max-history-bytes 1K
 *     bits 2-3  --max-pending 1MiB, 256, 4KiB, 64KiB
 *     bit  4    --replay 2 (only when the history is at least 2)
 *     bit  5    a slow network: ssed's sockets get the smallest send buffer,
 *               so a client that does not read soon makes writes stop short
 *     bit  6    --max-event-size 32
 *     bit  7    --cors '*'
 *   then operations, two bytes each: an opcode byte (taken % 16) and an
 *   argument byte: bits 0-2 the client, bits 3-5 the channel (from
 *   `channel_names`), bits 6-7 a variant. GARBAGE is followed by a length
 *   byte n and n raw bytes (n % 64). At most MAX_OPS operations run.
 *     0 SERVER      variant: connect the client (if not connected); run the
 *                   timers an hour from now (header timeouts, keep-alives,
 *                   and past a shutdown's deadline); begin a shutdown (a
 *                   first SIGTERM); a signal as main.c's on_signal takes it
 *                   (the first begins the shutdown, a later one closes all)
 *     1 GET         GET /CH; variant: plain, Last-Event-ID (the newest ssed
 *                   id any client received), Accept: text/html, ?envelope=1
 *     2 MULTI       GET /?channels=CH,X with X: w, bad!, "" (root), CH
 *     3 HEAD        HEAD /CH (variant 1: HTTP/1.0)
 *     4 POST        POST /CH with Content-Length; variant: text/plain lines,
 *                   text/event-stream, application/json, text/plain with a
 *                   custom id (SSE-Id: c<n>, never numeric)
 *     5 CHUNKED     POST /CH head with Transfer-Encoding: chunked, no body
 *                   yet; variant: text/plain, event stream, JSON, text/plain
 *                   with Expect: 100-continue
 *     6 CHUNK       one more chunk; variant: a line, an SSE event, a JSON
 *                   piece, a partial line
 *     7 CHUNK_END   0\r\n\r\n
 *     8 EMPTY_POST  POST /CH with Content-Length: 0 (variant 1: close,
 *                   2: Expect: 100-continue)
 *     9 NUMBERED    POST /CH with SSE-Publisher: variant 0-1 invalid, 2-3
 *                   valid (sequence 0 or 5)
 *    10 OPTIONS     OPTIONS /CH
 *    11 RESERVED    GET /_ssed/stats, /_ssed/metrics, /_ssed/ui.js, HEAD stats
 *    12 GARBAGE     the raw bytes that follow
 *    13 CUT         cut the client's next request at (variant+1)/5 of it
 *    14 REST        send the rest of a cut request
 *    15 SOCKET      variant: shutdown(SHUT_WR), close, reset (SO_LINGER 0,
 *                   close), read and parse what the client received
 * A request op auto-connects its client. At the end every client reads
 * what it is owed and everything is torn down, so nothing leaks between
 * inputs.
 *
 * For example the seed head-frees-channel-mid-publish,
 *   printf '\002\005\000\003\001\006\000'
 * is --history 100; client 0 starts a chunked POST /v; client 1 sends
 * HEAD /v; client 0 sends a chunk. Before 8152cb5 the HEAD freed /v under
 * the publish (heap-use-after-free in hub_publish).
 *
 * Invariants (abort with a message when broken):
 * - hub.channel_count is the number of channels in hub.buckets, and
 *   hub.waiting_count the number of them marked waiting;
 * - each channel's subscriber_count is the length of its subscribers list,
 *   and its holders are its subscribers, the publishes in progress into it
 *   and the input (the root channel);
 * - the events in the channels' history are those on hub.history.order,
 *   within --max-history-bytes;
 * - the links over all channels are the links of the subscribers' streams
 *   (live ones on srv->streaming, ending ones on srv->ending), and
 *   srv->subscriber_count is the number of those streams;
 * - every channel a subscriber follows or a publisher is publishing into is
 *   still in the hub (a channel outlives whoever holds it);
 * - srv->conn_count is the number of connections on srv->reading and
 *   srv->sessions plus the streams on streaming, publishing and ending
 *   (an HTTP/1.1 connection carrying a stream is on no list of its own);
 * - a subscriber's pending_bytes is its queued bytes minus head_offset;
 * - every response head is an HTTP/1.1 status line and "Name: value"
 *   lines (so no reply is cut short by the next), and in each stream
 *   the ids ssed handed out (numbers in [hub.first_id, hub.last_id])
 *   strictly increase: no event is delivered twice or out of order. */
/* fuzz-sources: cmd/ssed/[a-z]*.c cmd/ssed/[a-z]*[a-z]/[a-z]*.c !cmd/ssed/main.c !cmd/ssed/store/store_off.c !cmd/ssed/cluster/cluster_off.c !cmd/ssed/net/tls_context.c !cmd/ssed/net/tls_session.c !cmd/ssed/http/h2_off.c !cmd/ssed/auth/jwt_off.c @viewer_assets */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "connection.h"
#include "listener.h"
#include "publish.h"
#include "router.h"
#include "server.h"
#include "serving.h"
#include "token.h"
#include "clock.h"
#include "log.h"
#include "sse_parser.h"

#define CLIENTS 8
#define MAX_OPS 256
#define SEND_CAP 8192       /* bytes written per send: a client never blocks */
#define MAX_RESPONSE_HEAD 65536
#define PUMP_ROUNDS 8       /* loop iterations per step, at most */

enum {
    OP_SERVER, OP_GET, OP_MULTI, OP_HEAD, OP_POST, OP_CHUNKED, OP_CHUNK, OP_CHUNK_END,
    OP_EMPTY_POST, OP_NUMBERED, OP_OPTIONS, OP_RESERVED, OP_GARBAGE, OP_CUT, OP_REST, OP_SOCKET,
};

/* "" is the root channel (held by the input, as in main.c); "/v/" is "v"
 * again; "bad!" is invalid; "_ssed" is the reserved prefix. */
static const char *const channel_names[8] = {"v", "w", "a/b", "", "bad!", "/v/", "x", "_ssed"};

static char socket_dir[64];
static char socket_path[128];

typedef struct world world;

/* What a client makes of the bytes it receives: response heads, reply
 * bodies it skips, then (after a 200 text/event-stream head) events. */
typedef struct response_reader {
    buf pending;        /* received, not yet parsed */
    uint64_t body_left; /* bytes of a reply body still to skip */
    int streaming;
    sse_parser sse;
    uint64_t last_id; /* the last ssed id in this stream; 0: none yet */
} response_reader;

typedef struct client {
    world *w;
    int fd; /* -1: not connected */
    int cut; /* 1-4: send only cut/5 of the next request */
    buf tail; /* the rest of a cut request */
    response_reader rx;
} client;

struct world {
    ssed_options opt;
    server srv;
    char *owned_token;
    char listen_arg[160];
    client clients[CLIENTS];
    char last_id[24]; /* the newest ssed id any client received */
    unsigned custom_ids;
    int slow_network;
    int past_deadline; /* after a shutdown began: main.c's run() would end now */
};

typedef struct input {
    const uint8_t *data;
    size_t len, pos;
} input;

static void broken(const char *what) {
    fprintf(stderr, "fuzz_ssed_lifecycle: invariant broken: %s\n", what);
    abort();
}

/* The harness itself cannot go on (no socket, no memory). */
static void harness_failed(const char *what) {
    fprintf(stderr, "fuzz_ssed_lifecycle: %s\n", what);
    abort();
}

/* ---- the server ---------------------------------------------------------- */

static const stream_routes routes = {router_handle, publish_route_body, publish_route_end, publish_route_close};

/* The server as cmd/ssed/main.c sets it up: options from an argv,
 * server_init, the token, one listener like open_listeners' and the input
 * channel held like open_inputs' (but no stdin, FIFO or signalfd). The one
 * place to update when main.c changes. */
static int server_start(world *w, uint8_t config) {
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
    if (loop_add(&srv->loop, l->fd, EPOLLIN, &l->watch) < 0)
        return -1;

    srv->input_channel = hub_channel_acquire(&srv->hub, w->opt.channel, strlen(w->opt.channel), HUB_FOR_PUBLISHING);
    return srv->input_channel ? 0 : -1;
}

/* The end of main.c's run() and its cleanup. */
static void server_stop(world *w) {
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
static void server_pump(world *w) {
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

static void check_server(const server *srv) {
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

/* ---- clients: what they receive ------------------------------------------ */

/* A numeric id in the range ssed handed out this run. Request ids in this
 * harness are never numeric, so these are ssed's own. */
static int ssed_id(const hub *h, const char *id, size_t len, uint64_t *out) {
    if (len == 0 || len > 19)
        return 0;
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (id[i] < '0' || id[i] > '9')
            return 0;
        n = n * 10 + (uint64_t)(id[i] - '0');
    }
    *out = n;
    return n >= h->first_id && n <= h->last_id;
}

static void on_stream_event(void *ctx, const sse_event *ev) {
    client *cl = ctx;
    uint64_t id;
    if (!ev->id_in_event || !ssed_id(&cl->w->srv.hub, ev->id, ev->id_len, &id))
        return;
    if (id <= cl->rx.last_id) {
        fprintf(stderr, "fuzz_ssed_lifecycle: client %d got id %llu after %llu\n", (int)(cl - cl->w->clients),
                (unsigned long long)id, (unsigned long long)cl->rx.last_id);
        broken("a stream's ssed ids do not strictly increase");
    }
    cl->rx.last_id = id;
    snprintf(cl->w->last_id, sizeof cl->w->last_id, "%llu", (unsigned long long)id);
}

static void reader_init(client *cl) {
    memset(&cl->rx, 0, sizeof cl->rx);
    sse_parser_handlers handlers = {on_stream_event, NULL, NULL, NULL, cl};
    sse_parser_init(&cl->rx.sse, SSE_DEFAULT_MAX_EVENT_SIZE, &handlers);
}

static void reader_free(client *cl) {
    buf_free(&cl->rx.pending);
    sse_parser_free(&cl->rx.sse);
}

/* "HTTP/1.1 NNN Reason words" then "Name: value" lines: anything else is
 * a reply cut short and run into the next. */
static int response_head_valid(const char *head, size_t len) {
    if (len < 13 || memcmp(head, "HTTP/1.1 ", 9) != 0 || head[9] < '1' || head[9] > '5' || head[12] != ' ')
        return 0;
    const char *line = head, *end = head + len - 2; /* the blank line's CRLF */
    const char *eol = memmem(line, (size_t)(end - line), "\r\n", 2);
    for (const char *p = head + 13; p < eol; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == ' ' || *p == '-'))
            return 0;
    for (line = eol + 2; line < end; line = eol + 2) {
        eol = memmem(line, (size_t)(end - line), "\r\n", 2);
        const char *colon = memchr(line, ':', (size_t)(eol - line));
        if (!colon || colon == line || colon[1] != ' ' || memchr(line, ' ', (size_t)(colon - line)))
            return 0;
    }
    return 1;
}

/* A complete response head: a stream follows, or a body to skip. */
static void take_response_head(response_reader *rx, const char *head, size_t len) {
    if (!response_head_valid(head, len)) {
        fprintf(stderr, "fuzz_ssed_lifecycle: response head: %.*s\n", (int)(len > 500 ? 500 : len), head);
        broken("a response head is not a status line and Name: value lines");
    }
    int ok = memcmp(head + 9, "200", 3) == 0;
    if (ok && memmem(head, len, "\r\nContent-Type: text/event-stream", 33)) {
        rx->streaming = 1;
        return;
    }
    const char *cl = memmem(head, len, "\r\nContent-Length: ", 18);
    rx->body_left = cl ? strtoull(cl + 18, NULL, 10) : 0;
}

static void reader_take(client *cl, const char *bytes, size_t len) {
    response_reader *rx = &cl->rx;
    if (rx->streaming) {
        sse_parser_feed(&rx->sse, bytes, len);
        return;
    }
    if (buf_append(&rx->pending, bytes, len) < 0)
        harness_failed("out of memory");
    size_t off = 0;
    while (off < rx->pending.len && !rx->streaming) {
        size_t left = rx->pending.len - off;
        if (rx->body_left) {
            size_t skip = rx->body_left < left ? (size_t)rx->body_left : left;
            rx->body_left -= skip;
            off += skip;
            continue;
        }
        const char *end = memmem(rx->pending.data + off, left, "\r\n\r\n", 4);
        if (!end)
            break;
        size_t head_len = (size_t)(end + 4 - (rx->pending.data + off));
        take_response_head(rx, rx->pending.data + off, head_len);
        off += head_len;
    }
    if (rx->streaming && off < rx->pending.len) {
        sse_parser_feed(&rx->sse, rx->pending.data + off, rx->pending.len - off);
        off = rx->pending.len;
    }
    memmove(rx->pending.data, rx->pending.data + off, rx->pending.len - off);
    rx->pending.len -= off;
    if (rx->pending.len > MAX_RESPONSE_HEAD)
        broken("a response head longer than 64KiB");
}

static void client_read(client *cl) {
    char chunk[16384];
    for (int i = 0; cl->fd >= 0 && i < 64; i++) {
        ssize_t n = recv(cl->fd, chunk, sizeof chunk, MSG_DONTWAIT);
        if (n <= 0)
            return;
        reader_take(cl, chunk, (size_t)n);
    }
}

/* ---- clients: connecting and sending ------------------------------------- */

/* Connect, unless connected; after a shutdown began, it is refused. */
static void client_connect(client *cl) {
    if (cl->fd >= 0)
        return;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        harness_failed("socket failed");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", socket_path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (!cl->w->srv.stopping) {
            perror("fuzz_ssed_lifecycle: connect");
            harness_failed("cannot connect to the listener");
        }
        close(fd);
        return;
    }
    cl->fd = fd;
    cl->cut = 0;
    buf_clear(&cl->tail);
    reader_init(cl);
}

static void client_disconnect(client *cl, int reset) {
    if (cl->fd < 0)
        return;
    if (reset) {
        struct linger lg = {1, 0};
        setsockopt(cl->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(cl->fd);
    cl->fd = -1;
    reader_free(cl);
}

/* Write what fits; a full buffer or a closed peer only loses bytes. */
static void client_write(client *cl, const char *bytes, size_t len) {
    if (len == 0 || cl->fd < 0)
        return;
    ssize_t n = send(cl->fd, bytes, len < SEND_CAP ? len : SEND_CAP, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)n;
}

static void client_send_rest(client *cl) {
    client_write(cl, cl->tail.data, cl->tail.len);
    buf_clear(&cl->tail);
}

/* Send a request, or only the first part of it after a CUT. */
static void client_send(client *cl, const char *req, size_t len) {
    client_connect(cl);
    client_send_rest(cl);
    size_t now = cl->cut ? len * (size_t)cl->cut / 5 : len;
    client_write(cl, req, now);
    if (buf_append(&cl->tail, req + now, len - now) < 0)
        harness_failed("out of memory");
    cl->cut = 0;
}

static void client_sendf(client *cl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void client_sendf(client *cl, const char *fmt, ...) {
    char req[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(req, sizeof req, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof req)
        harness_failed("request template too long");
    client_send(cl, req, (size_t)n);
}

/* ---- operations ---------------------------------------------------------- */

typedef struct op_arg {
    client *cl;
    const char *ch;
    int variant;
} op_arg;

static const char *const body_types[4] = {"text/plain", "text/event-stream", "application/json", "text/plain"};

static void op_get(world *w, op_arg a) {
    static const char *const extra[4] = {"", "", "Accept: text/html\r\n", ""};
    if (a.variant == 1)
        client_sendf(a.cl, "GET /%s HTTP/1.1\r\nHost: f\r\nLast-Event-ID: %s\r\n\r\n", a.ch,
                     w->last_id[0] ? w->last_id : "1");
    else
        client_sendf(a.cl, "GET /%s%s HTTP/1.1\r\nHost: f\r\n%s\r\n", a.ch, a.variant == 3 ? "?envelope=1" : "",
                     extra[a.variant]);
}

static void op_multi(op_arg a) {
    static const char *const second[4] = {"w", "bad!", "", NULL};
    const char *other = second[a.variant] ? second[a.variant] : a.ch;
    client_sendf(a.cl, "GET /?channels=%s,%s HTTP/1.1\r\nHost: f\r\n\r\n", a.ch, other);
}

static void op_post(world *w, op_arg a) {
    static const char *const bodies[4] = {"one\ntwo\n", "event: e\ndata: 1\n\nretry: 10\ndata: 2\n\n", "{\"k\":[1,2]}",
                                          "custom\n"};
    char id_header[32] = "";
    if (a.variant == 3)
        snprintf(id_header, sizeof id_header, "SSE-Id: c%u\r\n", ++w->custom_ids);
    client_sendf(a.cl, "POST /%s HTTP/1.1\r\nHost: f\r\nContent-Type: %s\r\n%sContent-Length: %zu\r\n\r\n%s", a.ch,
                 body_types[a.variant], id_header, strlen(bodies[a.variant]), bodies[a.variant]);
}

static void op_chunk(op_arg a) {
    static const char *const pieces[4] = {"line\n", "data: sse\n\n", "{\"j\":2}", "par"};
    client_sendf(a.cl, "%zx\r\n%s\r\n", strlen(pieces[a.variant]), pieces[a.variant]);
}

static void op_numbered(op_arg a) {
    static const char *const headers[4] = {"SSE-Publisher: XYZ\r\nSSE-Sequence: 0\r\n", "SSE-Publisher: 1a\r\n",
                                           "SSE-Publisher: 1a2b\r\nSSE-Sequence: 0\r\n",
                                           "SSE-Publisher: 1a2b\r\nSSE-Sequence: 5\r\n"};
    client_sendf(a.cl, "POST /%s HTTP/1.1\r\nHost: f\r\n%sContent-Length: 2\r\n\r\np\n", a.ch, headers[a.variant]);
}

static void op_reserved(op_arg a) {
    static const char *const requests[4] = {"GET /_ssed/stats", "GET /_ssed/metrics", "GET /_ssed/ui.js",
                                            "HEAD /_ssed/stats"};
    client_sendf(a.cl, "%s HTTP/1.1\r\nHost: f\r\n\r\n", requests[a.variant]);
}

static void op_garbage(op_arg a, input *in) {
    size_t n = in->pos < in->len ? in->data[in->pos++] % 64u : 0;
    if (n > in->len - in->pos)
        n = in->len - in->pos;
    client_send(a.cl, (const char *)in->data + in->pos, n);
    in->pos += n;
}

static void op_socket(op_arg a) {
    switch (a.variant) {
    case 0:
        if (a.cl->fd >= 0)
            shutdown(a.cl->fd, SHUT_WR);
        break;
    case 1:
    case 2:
        client_disconnect(a.cl, a.variant == 2);
        break;
    default:
        client_read(a.cl);
    }
}

static void op_server(world *w, op_arg a) {
    server *srv = &w->srv;
    switch (a.variant) {
    case 0:
        client_connect(a.cl);
        break;
    case 1:
        server_run_timers(srv, clock_now_ms() + 3600 * 1000);
        w->past_deadline = srv->stopping;
        break;
    case 2:
        server_begin_shutdown(srv);
        break;
    default:
        if (srv->stopping)
            server_close_all(srv);
        else
            server_begin_shutdown(srv);
    }
}

static void run_op(world *w, input *in) {
    int code = in->data[in->pos++] % 16;
    uint8_t arg = in->data[in->pos++];
    op_arg a = {&w->clients[arg & 7], channel_names[(arg >> 3) & 7], arg >> 6};
    switch (code) {
    case OP_SERVER: op_server(w, a); break;
    case OP_GET: op_get(w, a); break;
    case OP_MULTI: op_multi(a); break;
    case OP_HEAD:
        client_sendf(a.cl, a.variant == 1 ? "HEAD /%s HTTP/1.0\r\n\r\n" : "HEAD /%s HTTP/1.1\r\nHost: f\r\n\r\n", a.ch);
        break;
    case OP_POST: op_post(w, a); break;
    case OP_CHUNKED:
        client_sendf(a.cl, "POST /%s HTTP/1.1\r\nHost: f\r\nTransfer-Encoding: chunked\r\nContent-Type: %s\r\n%s\r\n",
                     a.ch, body_types[a.variant], a.variant == 3 ? "Expect: 100-continue\r\n" : "");
        break;
    case OP_CHUNK: op_chunk(a); break;
    case OP_CHUNK_END: client_sendf(a.cl, "0\r\n\r\n"); break;
    case OP_EMPTY_POST:
        client_sendf(a.cl, "POST /%s HTTP/1.1\r\nHost: f\r\nContent-Length: 0\r\n%s\r\n", a.ch,
                     a.variant == 1 ? "Connection: close\r\n" : a.variant == 2 ? "Expect: 100-continue\r\n" : "");
        break;
    case OP_NUMBERED: op_numbered(a); break;
    case OP_OPTIONS: client_sendf(a.cl, "OPTIONS /%s HTTP/1.1\r\nHost: f\r\n\r\n", a.ch); break;
    case OP_RESERVED: op_reserved(a); break;
    case OP_GARBAGE: op_garbage(a, in); break;
    case OP_CUT: a.cl->cut = a.variant + 1; break;
    case OP_REST: client_send_rest(a.cl); break;
    default: op_socket(a); break;
    }
}

/* ---- the run ------------------------------------------------------------- */

static void read_all(world *w) {
    for (int i = 0; i < CLIENTS; i++)
        client_read(&w->clients[i]);
}

static void remove_socket_dir(const char *dir) {
    char path[128];
    snprintf(path, sizeof path, "%s/ssed.sock", dir);
    unlink(path);
    rmdir(dir);
}

/* A crash ends the process without exit handlers: remove the directories
 * that fuzzers which are gone left behind (named after their pid). */
static void remove_stale_socket_dirs(void) {
    DIR *tmp = opendir("/tmp");
    struct dirent *e;
    while (tmp && (e = readdir(tmp))) {
        int pid;
        char dir[300];
        if (sscanf(e->d_name, "fuzz-ssed.%d", &pid) == 1 && kill(pid, 0) < 0 && errno == ESRCH) {
            snprintf(dir, sizeof dir, "/tmp/%s", e->d_name);
            remove_socket_dir(dir);
        }
    }
    if (tmp)
        closedir(tmp);
}

static void remove_own_socket_dir(void) { remove_socket_dir(socket_dir); }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN); /* as ssed does: a closed peer is an EPIPE, not a death */
    unsetenv("SSED_TOKEN");   /* publishers here are local and send no token */
    remove_stale_socket_dirs();
    snprintf(socket_dir, sizeof socket_dir, "/tmp/fuzz-ssed.%d", (int)getpid());
    remove_socket_dir(socket_dir); /* one a crashed process with our pid left */
    if (mkdir(socket_dir, 0700) < 0) {
        perror("fuzz_ssed_lifecycle: mkdir");
        exit(1);
    }
    snprintf(socket_path, sizeof socket_path, "%s/ssed.sock", socket_dir);
    atexit(remove_own_socket_dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    world w;
    memset(&w, 0, sizeof w);
    for (int i = 0; i < CLIENTS; i++)
        w.clients[i] = (client){.w = &w, .fd = -1};
    if (server_start(&w, data[0]) < 0)
        harness_failed("the server did not start");
    input in = {data, size, 1};
    for (int ops = 0; ops < MAX_OPS && in.pos + 2 <= in.len; ops++) {
        if (w.srv.stopping && (w.srv.conn_count == 0 || w.past_deadline))
            break; /* where main.c's run() ends */
        run_op(&w, &in);
        server_pump(&w);
        check_server(&w.srv);
    }
    read_all(&w);
    server_pump(&w);
    read_all(&w);
    check_server(&w.srv);
    for (int i = 0; i < CLIENTS; i++) {
        client_disconnect(&w.clients[i], 0);
        buf_free(&w.clients[i].tail);
    }
    server_stop(&w);
    return 0;
}
