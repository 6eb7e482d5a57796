/* h2_loadgen: the subscriber side of tests/bench/tls_fanout.py and
 * tests/bench/tls_idle_memory.sh.
 *
 * Opens --conns connections to 127.0.0.1:--port and on each --streams
 * subscriber streams (GET --path, Accept: text/event-stream): HTTP/2 by
 * default (libnghttp2's client; over TLS when the server agrees on "h2" by
 * ALPN, else cleartext with prior knowledge), or HTTP/1.1 with --http1 (one
 * stream per connection), each with or without --tls. One program for every
 * row, so the rows differ in the protocol only, not in the client: a Python
 * client holding 1,000 streams would itself be the bottleneck.
 *
 * It reads every connection in one epoll loop and counts events: lines that
 * start with "data:", however the bytes were split by the network or into
 * DATA frames. HTTP/2 stream and connection windows are given back by
 * nghttp2 as data is consumed (its default for clients); the windows it
 * advertises are large (1 MiB per stream, 16 MiB per connection, about what
 * browsers do) so that flow control paces nothing here.
 *
 * Prints "ready streams=N" on stdout once every stream has its 200 answer,
 * then, when each stream has --expect events (if given), at --seconds, or on
 * SIGTERM/SIGINT, one line "events=E streams=N closed=C" (closed: streams or
 * connections the server ended; with --expect, "short=S fewest=F" added when
 * S streams got fewer events, F the fewest) and exits 0. A connection or handshake that
 * fails, or a stream answered with anything but 200, exits 1 with a message.
 * Every phase is bounded: each connect and handshake by 10 s, the whole run
 * by --seconds.
 *
 * Usage: h2_loadgen --port P [--path /] [--conns 10] [--streams 100]
 *                   [--tls] [--http1] [--expect N] [--seconds 120]
 * Build: cc -O2 -std=c11 -D_GNU_SOURCE h2_loadgen.c -lnghttp2 -lssl -lcrypto */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define READ_SIZE 65536
#define H1_HEAD_MAX 4096

struct options {
    int port, conns, streams, tls, http1, seconds;
    long expect;
    const char *path;
};

/* One subscriber stream; "data_match" is how much of "data:" the current
 * line has matched so far (0 at a line start), or -1 inside a line that is
 * not a data line, so a count is right whatever the chunk boundaries. */
struct stream {
    int32_t id;
    int status, ready, closed, data_match;
    long events;
};

struct run;

struct conn {
    struct run *run; /* for nghttp2's callbacks, which get the conn */
    int fd, want_write, dead;
    SSL *ssl;
    nghttp2_session *h2;
    struct stream *streams; /* --streams of them; one with --http1 */
    char head[H1_HEAD_MAX]; /* HTTP/1.1 answer head until its blank line */
    size_t head_len;
    int head_done;
    int chunked;       /* the HTTP/1.1 body is chunked (ssed, to HTTP/1.1 clients) */
    int chunk_state;   /* 0 size line, 1 data, 2 the CRLF after data */
    size_t chunk_left; /* data bytes left in the current chunk */
};

struct run {
    struct options opt;
    struct conn *conns;
    long ready, closed, events;
    int epfd;
};

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("h2_loadgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* count_data_lines: events among n bytes of a stream's body. */
static long count_data_lines(struct stream *s, const uint8_t *p, size_t n) {
    static const char prefix[] = "data:";
    const uint8_t *end = p + n;
    long found = 0;
    while (p < end) {
        if (s->data_match < 0) {
            const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl) break;
            p = nl + 1;
            s->data_match = 0;
            continue;
        }
        if (*p == (uint8_t)prefix[s->data_match]) {
            if (++s->data_match == 5) {
                found++;
                s->data_match = -1;
            }
        } else {
            s->data_match = *p == '\n' ? 0 : -1;
        }
        p++;
    }
    s->events += found;
    return found;
}

static void stream_answered(struct run *r, struct stream *s, int status) {
    if (status != 200) die("stream answered %d, not 200 (path %s)", status, r->opt.path);
    if (!s->ready) {
        s->ready = 1;
        r->ready++;
    }
}

static void stream_closed(struct run *r, struct stream *s) {
    if (!s->closed) {
        s->closed = 1;
        r->closed++;
    }
}

/* --- transport: plain socket or TLS, non-blocking once connected -------- */

/* conn_write: bytes written, 0 if the socket cannot take more now, -1 if dead. */
static ssize_t conn_write(struct conn *c, const void *buf, size_t len) {
    if (c->ssl) {
        int n = SSL_write(c->ssl, buf, (int)len);
        if (n > 0) return n;
        int e = SSL_get_error(c->ssl, n);
        return e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ? 0 : -1;
    }
    ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0) return n;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
}

/* conn_read: bytes read, 0 if nothing more now, -1 at end of stream or error. */
static ssize_t conn_read(struct conn *c, void *buf, size_t len) {
    if (c->ssl) {
        int n = SSL_read(c->ssl, buf, (int)len);
        if (n > 0) return n;
        int e = SSL_get_error(c->ssl, n);
        return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
    }
    ssize_t n = recv(c->fd, buf, len, 0);
    if (n > 0) return n;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
    return -1;
}

/* connect_blocking: a connected socket, with 10 s send and receive timeouts
 * so the connect, handshake and request below cannot hang. */
static int connect_blocking(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket: %s", strerror(errno));
    struct timeval tv = {.tv_sec = 10};
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        die("setsockopt: %s", strerror(errno));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("connect 127.0.0.1:%d: %s", port, strerror(errno));
    return fd;
}

static SSL_CTX *tls_client_context(int http1) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) die("SSL_CTX_new failed");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* a throw-away self-signed certificate */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    static const unsigned char h2[] = "\x02h2", h1[] = "\x08http/1.1";
    if (http1 ? SSL_CTX_set_alpn_protos(ctx, h1, sizeof h1 - 1) : SSL_CTX_set_alpn_protos(ctx, h2, sizeof h2 - 1))
        die("SSL_CTX_set_alpn_protos failed");
    return ctx;
}

static void tls_handshake(struct conn *c, SSL_CTX *ctx, int port, int want_h2) {
    c->ssl = SSL_new(ctx);
    if (!c->ssl || !SSL_set_fd(c->ssl, c->fd)) die("SSL_new failed");
    if (SSL_connect(c->ssl) != 1) {
        char err[256];
        ERR_error_string_n(ERR_get_error(), err, sizeof err);
        die("TLS handshake with 127.0.0.1:%d: %s", port, err);
    }
    const unsigned char *alpn = NULL;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(c->ssl, &alpn, &alpn_len);
    if (want_h2 && !(alpn_len == 2 && memcmp(alpn, "h2", 2) == 0))
        die("127.0.0.1:%d did not agree on h2 by ALPN (a server built with H2=0?)", port);
}

/* --- HTTP/2 -------------------------------------------------------------- */

static ssize_t h2_send_cb(nghttp2_session *session, const uint8_t *data, size_t len, int flags, void *user) {
    (void)session, (void)flags;
    struct conn *c = user;
    ssize_t n = conn_write(c, data, len);
    if (n < 0) return NGHTTP2_ERR_CALLBACK_FAILURE;
    if (n == 0) {
        c->want_write = 1;
        return NGHTTP2_ERR_WOULDBLOCK;
    }
    return n;
}

static int h2_header_cb(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                        const uint8_t *value, size_t valuelen, uint8_t flags, void *user) {
    (void)flags;
    struct conn *c = user;
    struct stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (!s || namelen != 7 || memcmp(name, ":status", 7) != 0) return 0;
    char buf[8] = {0};
    memcpy(buf, value, valuelen < 7 ? valuelen : 7);
    stream_answered(c->run, s, atoi(buf));
    return 0;
}

static int h2_data_cb(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data, size_t len,
                      void *user) {
    (void)flags;
    struct conn *c = user;
    struct stream *s = nghttp2_session_get_stream_user_data(session, stream_id);
    if (s) c->run->events += count_data_lines(s, data, len);
    return 0;
}

static int h2_close_cb(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user) {
    (void)error_code;
    struct conn *c = user;
    struct stream *s = nghttp2_session_get_stream_user_data(session, stream_id);
    if (s) stream_closed(c->run, s);
    return 0;
}

static void h2_start(struct run *r, struct conn *c) {
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb)) die("nghttp2_session_callbacks_new failed");
    nghttp2_session_callbacks_set_send_callback(cb, h2_send_cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, h2_header_cb);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, h2_data_cb);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, h2_close_cb);
    if (nghttp2_session_client_new(&c->h2, cb, c)) die("nghttp2_session_client_new failed");
    nghttp2_session_callbacks_del(cb);
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
    if (nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, 1) ||
        nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, 16 << 20))
        die("nghttp2 settings failed");
    char authority[32];
    snprintf(authority, sizeof authority, "127.0.0.1:%d", r->opt.port);
    const char *scheme = r->opt.tls ? "https" : "http";
#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE}
    nghttp2_nv nva[] = {NV(":method", "GET"), NV(":scheme", scheme), NV(":authority", authority),
                        NV(":path", r->opt.path), NV("accept", "text/event-stream")};
#undef NV
    for (int i = 0; i < r->opt.streams; i++) {
        c->streams[i].id = nghttp2_submit_request(c->h2, NULL, nva, sizeof nva / sizeof nva[0], NULL, &c->streams[i]);
        if (c->streams[i].id < 0) die("nghttp2_submit_request: %s", nghttp2_strerror(c->streams[i].id));
    }
    if (nghttp2_session_send(c->h2)) die("sending the requests to 127.0.0.1:%d failed", r->opt.port);
}

/* --- HTTP/1.1 ------------------------------------------------------------ */

static void h1_start(struct run *r, struct conn *c) {
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: text/event-stream\r\n\r\n",
                     r->opt.path, r->opt.port);
    if (n <= 0 || (size_t)n >= sizeof req) die("--path is too long");
    if (conn_write(c, req, (size_t)n) != n) die("sending the request to 127.0.0.1:%d failed", r->opt.port);
}

static int hex_value(uint8_t ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f') return (ch | 0x20) - 'a' + 10;
    return -1;
}

/* The data lines of body bytes: a chunked body's framing is skipped, and
 * its payload counted in the pieces the chunks cut it into (the count
 * holds whatever the boundaries, count_data_lines). */
static long h1_body(struct conn *c, const uint8_t *p, size_t n) {
    if (!c->chunked) return count_data_lines(&c->streams[0], p, n);
    long events = 0;
    for (size_t i = 0; i < n;) {
        if (c->chunk_state == 1) {
            size_t take = n - i < c->chunk_left ? n - i : c->chunk_left;
            events += count_data_lines(&c->streams[0], p + i, take);
            i += take;
            if ((c->chunk_left -= take) == 0) c->chunk_state = 2;
            continue;
        }
        uint8_t ch = p[i++];
        if (c->chunk_state == 2) {
            if (ch == '\n') c->chunk_state = 0;
        } else if (ch == '\n') {
            c->chunk_state = c->chunk_left ? 1 : 0;
        } else if (hex_value(ch) >= 0) {
            c->chunk_left = c->chunk_left * 16 + (size_t)hex_value(ch);
        }
    }
    return events;
}

static int head_says_chunked(const char *head, size_t len) {
    static const char want[] = "\r\ntransfer-encoding: chunked";
    for (size_t i = 0; i + sizeof want - 1 <= len; i++)
        if (strncasecmp(head + i, want, sizeof want - 1) == 0) return 1;
    return 0;
}

/* h1_feed: the answer head (status line checked) then body bytes counted. */
static void h1_feed(struct run *r, struct conn *c, const uint8_t *p, size_t n) {
    if (!c->head_done) {
        size_t take = n < sizeof c->head - c->head_len ? n : sizeof c->head - c->head_len;
        memcpy(c->head + c->head_len, p, take);
        size_t old = c->head_len;
        c->head_len += take;
        char *end = memmem(c->head, c->head_len, "\r\n\r\n", 4);
        if (!end) {
            if (c->head_len == sizeof c->head) die("an answer head longer than %d bytes", H1_HEAD_MAX);
            return;
        }
        c->head_done = 1;
        int status = 0;
        if (sscanf(c->head, "HTTP/1.%*d %d", &status) != 1) die("not an HTTP/1.1 answer");
        stream_answered(r, &c->streams[0], status);
        c->chunked = head_says_chunked(c->head, (size_t)(end - c->head));
        size_t body_at = (size_t)(end + 4 - c->head) - old;
        p += body_at, n -= body_at;
    }
    r->events += h1_body(c, p, n);
}

/* --- the loop ------------------------------------------------------------ */

static void conn_dead(struct run *r, struct conn *c) {
    if (c->dead) return;
    c->dead = 1;
    for (int i = 0; i < (r->opt.http1 ? 1 : r->opt.streams); i++) stream_closed(r, &c->streams[i]);
    if (epoll_ctl(r->epfd, EPOLL_CTL_DEL, c->fd, NULL) < 0) die("epoll_ctl DEL: %s", strerror(errno));
}

static void conn_watch(struct run *r, struct conn *c, int op) {
    struct epoll_event ev = {.events = EPOLLIN | (c->want_write ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(r->epfd, op, c->fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
}

static void conn_ready(struct run *r, struct conn *c) {
    static uint8_t buf[READ_SIZE];
    ssize_t n;
    int was_wanting = c->want_write;
    c->want_write = 0;
    while ((n = conn_read(c, buf, sizeof buf)) > 0) {
        if (r->opt.http1) {
            h1_feed(r, c, buf, (size_t)n);
        } else if (nghttp2_session_mem_recv(c->h2, buf, (size_t)n) < 0) {
            n = -1;
            break;
        }
    }
    if (n == 0 && c->h2 && nghttp2_session_send(c->h2)) n = -1;
    if (n < 0) {
        conn_dead(r, c);
        return;
    }
    if (c->want_write != was_wanting) conn_watch(r, c, EPOLL_CTL_MOD);
}

/* open_all: every connection and its streams; returns the TLS context (or
 * NULL), freed by close_all. */
static SSL_CTX *open_all(struct run *r) {
    SSL_CTX *ctx = r->opt.tls ? tls_client_context(r->opt.http1) : NULL;
    int per = r->opt.http1 ? 1 : r->opt.streams;
    for (int i = 0; i < r->opt.conns; i++) {
        struct conn *c = &r->conns[i];
        c->run = r;
        c->fd = connect_blocking(r->opt.port);
        c->streams = calloc((size_t)per, sizeof *c->streams);
        if (!c->streams) die("out of memory");
        if (ctx) tls_handshake(c, ctx, r->opt.port, !r->opt.http1);
        if (r->opt.http1)
            h1_start(r, c);
        else
            h2_start(r, c);
        if (fcntl(c->fd, F_SETFL, O_NONBLOCK) < 0) die("fcntl: %s", strerror(errno));
        conn_watch(r, c, EPOLL_CTL_ADD);
    }
    return ctx;
}

static int all_expected(const struct run *r) {
    if (r->opt.expect <= 0) return 0;
    int per = r->opt.http1 ? 1 : r->opt.streams;
    for (int i = 0; i < r->opt.conns; i++)
        for (int j = 0; j < per; j++)
            if (r->conns[i].streams[j].events < r->opt.expect) return 0;
    return 1;
}

/* report: the result line; with --expect, also how many streams fell short
 * of it and the fewest events any stream got, so a stall shows where. */
static void report(const struct run *r, long total) {
    printf("events=%ld streams=%ld closed=%ld", r->events, total, r->closed);
    if (r->opt.expect > 0) {
        long short_of = 0, fewest = r->opt.expect;
        int per = r->opt.http1 ? 1 : r->opt.streams;
        for (int i = 0; i < r->opt.conns; i++)
            for (int j = 0; j < per; j++) {
                long got = r->conns[i].streams[j].events;
                short_of += got < r->opt.expect;
                fewest = got < fewest ? got : fewest;
            }
        if (short_of) printf(" short=%ld fewest=%ld", short_of, fewest);
    }
    printf("\n");
    fflush(stdout);
}

static void loop(struct run *r) {
    long total = (long)r->opt.conns * (r->opt.http1 ? 1 : r->opt.streams);
    int said_ready = 0;
    double deadline = now_s() + r->opt.seconds;
    struct epoll_event evs[256];
    while (!stop_requested && now_s() < deadline && !all_expected(r)) {
        if (!said_ready && r->ready == total) {
            printf("ready streams=%ld\n", total);
            fflush(stdout);
            said_ready = 1;
        }
        int n = epoll_wait(r->epfd, evs, 256, 100);
        if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++) conn_ready(r, evs[i].data.ptr);
    }
    report(r, total);
}

static void close_all(struct run *r, SSL_CTX *ctx) {
    for (int i = 0; i < r->opt.conns; i++) {
        struct conn *c = &r->conns[i];
        if (c->h2) nghttp2_session_del(c->h2);
        if (c->ssl) SSL_free(c->ssl);
        if (c->fd > 0) close(c->fd);
        free(c->streams);
    }
    free(r->conns);
    SSL_CTX_free(ctx);
    close(r->epfd);
}

static void usage(void) {
    fputs("usage: h2_loadgen --port P [--path /] [--conns 10] [--streams 100] [--tls] [--http1] [--expect N] "
          "[--seconds 120]\n",
          stderr);
    exit(2);
}

static struct options parse_options(int argc, char **argv) {
    struct options o = {.conns = 10, .streams = 100, .seconds = 120, .path = "/"};
    static const struct option longs[] = {
        {"port", 1, 0, 'p'}, {"path", 1, 0, 'P'}, {"conns", 1, 0, 'c'},  {"streams", 1, 0, 's'}, {"tls", 0, 0, 't'},
        {"http1", 0, 0, '1'}, {"expect", 1, 0, 'e'}, {"seconds", 1, 0, 'S'}, {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 'p': o.port = atoi(optarg); break;
        case 'P': o.path = optarg; break;
        case 'c': o.conns = atoi(optarg); break;
        case 's': o.streams = atoi(optarg); break;
        case 't': o.tls = 1; break;
        case '1': o.http1 = 1; break;
        case 'e': o.expect = atol(optarg); break;
        case 'S': o.seconds = atoi(optarg); break;
        default: usage();
        }
    }
    if (optind != argc || o.port <= 0 || o.port > 65535 || o.conns <= 0 || o.streams <= 0 || o.seconds <= 0 ||
        o.path[0] != '/')
        usage();
    if (o.http1 && o.streams != 1) {
        fputs("h2_loadgen: --http1 carries one stream per connection: give --streams 1\n", stderr);
        exit(2);
    }
    return o;
}

int main(int argc, char **argv) {
    struct run r = {.opt = parse_options(argc, argv)};
    struct sigaction sa = {.sa_handler = on_stop_signal};
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0) die("sigaction: %s", strerror(errno));
    signal(SIGPIPE, SIG_IGN);
    r.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (r.epfd < 0) die("epoll_create1: %s", strerror(errno));
    r.conns = calloc((size_t)r.opt.conns, sizeof *r.conns);
    if (!r.conns) die("out of memory");
    SSL_CTX *ctx = open_all(&r);
    loop(&r);
    close_all(&r, ctx);
    return 0;
}
