/* libFuzzer target for the ssed server as a whole: the real connection,
 * HTTP/2, router, publish and hub code behind one unix-socket listener,
 * driven by up to 8 clients, each speaking HTTP/1.1 or HTTP/2 on its
 * connection, through a sequence of operations decoded from the input.
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
 *   then operations, two bytes each: an opcode byte (16 when it is 16 mod
 *   32, else taken % 16, as before H2 came: old inputs keep their meaning
 *   but for opcode bytes 16, 48, ...) and an argument byte: bits 0-2 the client, bits 3-5 the channel (from
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
 *    16 H2          argument bits 3-4 (not a channel) say which:
 *                   0, 3: connect speaking HTTP/2 (h2c, prior knowledge),
 *                     closing an HTTP/1.1 connection the client had;
 *                   1: RST_STREAM(CANCEL) on the client's newest stream, its
 *                     oldest, its open chunked publish, or all (variant);
 *                   2: the client's GOAWAY(NO_ERROR), a PING, SETTINGS with
 *                     INITIAL_WINDOW_SIZE 16 (the server's DATA stalls),
 *                     or 65535 again (variant); a window's SETTINGS only
 *                     once the client's last SETTINGS is acknowledged
 *                     (it read since: SOCKET variant 3)
 * A request op auto-connects its client (over HTTP/1.1). On an HTTP/2
 * connection each request op opens a stream (lifecycle_h2.c): its head
 * becomes HEADERS (Host as :authority), its body DATA; CHUNKED leaves the
 * stream's body open, CHUNK is a DATA frame on it, CHUNK_END ends it;
 * CUT holds back part of the next request's frames until REST or the
 * client's next request; GARBAGE writes raw bytes into the framing; a
 * client past GOAWAY (ssed's, at shutdown or on an error, or its own)
 * reconnects for its next request; a client keeps 8 streams open and
 * resets the oldest for a ninth. At the end every client reads
 * what it is owed and everything is torn down, so nothing leaks between
 * inputs.
 *
 * For example the seed head-frees-channel-mid-publish,
 *   printf '\002\005\000\003\001\006\000'
 * is --history 100; client 0 starts a chunked POST /v; client 1 sends
 * HEAD /v; client 0 sends a chunk. Before 8152cb5 the HEAD freed /v under
 * the publish (heap-use-after-free in hub_publish). And h2-reset-and-goaway,
 *   printf '\002\020\000\001\000\001\010\004\001\020\010\004\011\020\110\001\000\000\200\017\300\017\301'
 * connects client 0 over HTTP/2, subscribes it to /v and /w on two
 * streams, publishes to /v over HTTP/1.1 (client 1), resets client 0's
 * newest stream, publishes to /w, resets its oldest, subscribes again and
 * begins a shutdown (GOAWAY), then both clients read.
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
 *   (an HTTP/1.1 connection carrying a stream is on no list of its own),
 *   and srv->h2_stream_count the HTTP/2 streams among those;
 * - an HTTP/2 session's request_streams are its streams with a live
 *   request stream carried by them, its held bytes what they hold for DATA
 *   frames plus its gathered frames, all sessions' together srv->h2_held;
 *   it is on srv->sessions while it has request streams and has not said
 *   GOAWAY, else on srv->reading (under a deadline);
 * - a subscriber's pending_bytes is its queued bytes minus head_offset;
 * - every response head is an HTTP/1.1 status line and "Name: value"
 *   lines (so no reply is cut short by the next), and in each stream
 *   the ids ssed handed out (numbers in [hub.first_id, hub.last_id])
 *   strictly increase: no event is delivered twice or out of order, over
 *   HTTP/2 too (each stream's DATA);
 * - an HTTP/2 client's nghttp2 accepts everything ssed sends (no frame it
 *   calls invalid, no RST_STREAM or GOAWAY with an error code of its own),
 *   unless GARBAGE went into that connection. */
/* fuzz-sources: tests/fuzz/lifecycle_*.c cmd/ssed/[a-z]*.c cmd/ssed/[a-z]*[a-z]/[a-z]*.c !cmd/ssed/main.c !cmd/ssed/store/store_off.c !cmd/ssed/cluster/cluster_off.c !cmd/ssed/net/tls_context.c !cmd/ssed/net/tls_session.c !cmd/ssed/http/h2_off.c !cmd/ssed/auth/jwt_off.c !cmd/ssed/net/loop_poll.c !cmd/ssed/net/loop_kqueue.c @viewer_assets */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "lifecycle.h"
#include "serving.h"

#define MAX_OPS 256

enum {
    OP_SERVER, OP_GET, OP_MULTI, OP_HEAD, OP_POST, OP_CHUNKED, OP_CHUNK, OP_CHUNK_END,
    OP_EMPTY_POST, OP_NUMBERED, OP_OPTIONS, OP_RESERVED, OP_GARBAGE, OP_CUT, OP_REST, OP_SOCKET,
    OP_H2,
};

/* "" is the root channel (held by the input, as in main.c); "/v/" is "v"
 * again; "bad!" is invalid; "_ssed" is the reserved prefix. */
static const char *const channel_names[8] = {"v", "w", "a/b", "", "bad!", "/v/", "x", "_ssed"};

static char socket_dir[64];
char socket_path[128];

typedef struct input {
    const uint8_t *data;
    size_t len, pos;
} input;

void broken(const char *what) {
    fprintf(stderr, "fuzz_ssed_lifecycle: invariant broken: %s\n", what);
    abort();
}

/* The harness itself cannot go on (no socket, no memory). */
void harness_failed(const char *what) {
    fprintf(stderr, "fuzz_ssed_lifecycle: %s\n", what);
    abort();
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
    client_send_piece(a.cl, pieces[a.variant]);
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
    client_send_raw(a.cl, (const char *)in->data + in->pos, n);
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

/* The HTTP/2 operations: the argument's bits 3-4 say which. */
static void op_h2(op_arg a, int which) {
    if (which == 0 || which == 3)
        h2_client_connect(a.cl);
    else if (a.cl->h2 && which == 1)
        h2_client_reset(a.cl, a.variant);
    else if (a.cl->h2)
        h2_client_control(a.cl, a.variant);
}

static void run_op(world *w, input *in) {
    /* Opcodes were taken % 16 before OP_H2: old inputs keep their meaning
     * but for opcode bytes 16, 48, 80, ... */
    uint8_t byte = in->data[in->pos++];
    int code = byte % 32 == OP_H2 ? OP_H2 : byte % 16;
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
    case OP_CHUNK_END: client_end_body(a.cl); break;
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
    case OP_SOCKET: op_socket(a); break;
    default: op_h2(a, (arg >> 3) & 3); break;
    }
}

/* ---- the run ------------------------------------------------------------- */

static void read_all(world *w) {
    for (int i = 0; i < CLIENTS; i++)
        client_read(&w->clients[i]);
}

/* HTTP/2 frames a full socket left owed (and no cut holds) go first. */
static void flush_clients(world *w) {
    for (int i = 0; i < CLIENTS; i++)
        h2_client_flush(&w->clients[i]);
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
        flush_clients(&w);
        server_pump(&w);
        check_server(&w.srv);
    }
    read_all(&w);
    flush_clients(&w);
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
