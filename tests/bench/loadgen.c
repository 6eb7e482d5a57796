/* loadgen: the load generator of the server comparison (tests/bench/compare.sh).
 *
 * One process, one epoll loop. It opens many subscriber connections to an
 * SSE endpoint, reads their streams (plain or chunked), and for every event
 * whose data starts with "<send time ns> <seq>" records the delivery latency
 * in a log-linear histogram (fixed memory, whatever the event count). The
 * same loop can publish: lines into a FIFO (ssed, the limit program; or a
 * pipe that ssepub reads) or HTTP POSTs over one keep-alive connection, one
 * event per POST or --pub-batch lines per POST, with at most --pub-inflight
 * requests unanswered (1: what an application that awaits each answer does).
 * It publishes either at a set rate (events that cannot be sent yet wait, so
 * a server that falls behind shows it in the deliveries counted) or as fast
 * as the subscribers keep up (a window of events in flight per subscriber,
 * so no server is fed faster than it can deliver).
 *
 * The publisher runs in a thread of its own with its own epoll, as a real
 * publishing application is a process of its own: with one request in flight,
 * a publisher sharing the subscribers' loop would add the time spent reading
 * them to every server's round trip.
 *
 * Deliveries are events, not arrivals: one "data: <ns> <seq>" line is one
 * event, however the bytes were split or joined by the network, and only
 * events that arrive inside the measuring window count. With --server-pid it
 * reads the server's CPU time (utime + stime in /proc/PID/stat) at the start
 * and end of that window and prints CPU microseconds per delivery.
 *
 * Prints "ready held=N" once the connections are up, then one result line of
 * key=value pairs. Every phase is bounded in time. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#define READ_MAX 65536
#define HEAD_MAX 4096 /* longest response head */
#define LINE_KEEP 48  /* bytes kept of a line split between reads: enough for "data: <ns> <seq>" */
#define SIZE_MAX_EVENT 16384
#define SERVER_PIDS_MAX 64
#define CONNECTS_IN_FLIGHT 256
#define HIST_BUCKETS (2048 + 40 * 1024)

enum conn_state { C_IDLE, C_CONNECTING, C_HEAD, C_STREAM, C_DONE };

typedef struct sub {
    int fd;
    enum conn_state state;
    int chunked;
    int chunk_state;   /* 0 size line, 1 data, 2 CRLF after data */
    size_t chunk_left; /* data bytes left in the current chunk */
    char *head;        /* the response head, until it is complete */
    size_t head_len;
    char line[LINE_KEEP]; /* the start of a line split between reads */
    size_t line_len;
} sub;

typedef struct options {
    const char *host;
    int port;
    const char *path;
    long conns;
    int src_first, src_count; /* source addresses 127.0.0.src_first.. */
    const char *mode;         /* idle, fanout, rate */
    const char *pub_fifo;     /* publish lines into this FIFO */
    const char *pub_path;     /* or POST to this path on host:port */
    double rate;              /* events/s in rate mode */
    double duration, warmup, hold, connect_timeout;
    int size;         /* bytes of event data */
    int window;       /* fanout: events in flight per subscriber */
    long pub_inflight; /* POST: requests without an answer at most (0: no limit) */
    int pub_batch;    /* POST: lines (events) per request */
    int server_pids[SERVER_PIDS_MAX]; /* whose CPU time is measured */
    int server_pid_count;
    int sub_ports[SERVER_PIDS_MAX]; /* subscribers spread over these ports (a cluster's nodes) */
    int sub_port_count;
    int http10; /* --http10: ask HTTP/1.0, whose streams end with the connection (no chunks) */
} options;

typedef struct pub {
    int fd;
    int writable;
    char *out; /* bytes not yet written */
    size_t out_len, out_cap;
    uint64_t published;
    uint64_t posts;
    /* POST mode: responses owed and parsing of them. */
    long owed;
    char in[8192];
    size_t in_len;
    size_t body_left;
    long errors;
    int post; /* POST mode (else a FIFO) */
} pub;

static uint64_t hist[HIST_BUCKETS];
static uint64_t hist_count, hist_max;
static uint64_t events_seen, events_counted, bytes_read;
static volatile sig_atomic_t stop_flag;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Log-linear buckets: exact below 2048 ns, then 1024 per power of two
 * (under 0.1% error). */
static size_t hist_index(uint64_t v) {
    if (v < 2048)
        return (size_t)v;
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - 10;
    size_t i = 2048 + (size_t)(shift - 1) * 1024 + (size_t)((v >> shift) - 1024);
    return i < HIST_BUCKETS ? i : HIST_BUCKETS - 1;
}

static uint64_t hist_value(size_t i) {
    if (i < 2048)
        return i;
    size_t shift = (i - 2048) / 1024 + 1;
    return ((i - 2048) % 1024 + 1024) << shift;
}

static uint64_t hist_quantile(double q) {
    if (hist_count == 0)
        return 0;
    uint64_t want = (uint64_t)(q * (double)hist_count);
    if (want >= hist_count)
        want = hist_count - 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        seen += hist[i];
        if (seen > want)
            return hist_value(i);
    }
    return hist_max;
}

static void set_nonblock(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        die("fcntl");
}

/* The measuring window: events are counted and timed only inside it. */
static uint64_t window_start, window_end;

/* One line of a stream: "data: <ns> <seq> ..." is an event to time. */
static void on_line(const char *line, size_t len, uint64_t now) {
    if (len < 6 || memcmp(line, "data:", 5) != 0)
        return;
    const char *p = line + 5, *end = line + len;
    if (p < end && *p == ' ')
        p++;
    uint64_t ts = 0;
    int digits = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        ts = ts * 10 + (uint64_t)(*p++ - '0');
        digits++;
    }
    if (!digits)
        return;
    events_seen++;
    if (now < window_start || now > window_end)
        return;
    events_counted++;
    uint64_t lat = now > ts ? now - ts : 0;
    hist[hist_index(lat)]++;
    hist_count++;
    if (lat > hist_max)
        hist_max = lat;
}

/* Strip chunked framing in place; returns the payload length. */
static size_t dechunk(sub *s, char *b, size_t len) {
    size_t out = 0;
    for (size_t i = 0; i < len;) {
        if (s->chunk_state == 1) {
            size_t n = len - i < s->chunk_left ? len - i : s->chunk_left;
            memmove(b + out, b + i, n);
            out += n;
            i += n;
            if ((s->chunk_left -= n) == 0)
                s->chunk_state = 2;
        } else {
            char c = b[i++];
            if (s->chunk_state == 2) {
                if (c == '\n')
                    s->chunk_state = 0;
            } else if (c == '\n') {
                s->chunk_state = s->chunk_left ? 1 : 0;
            } else if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
                s->chunk_left = s->chunk_left * 16 + (size_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
            }
        }
    }
    return out;
}

static void sub_close(sub *s, long *held) {
    if (s->state == C_STREAM)
        (*held)--;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->state = C_DONE;
    free(s->head);
    s->head = NULL;
    s->head_len = 0;
    s->line_len = 0;
}

/* Feed bytes to a subscriber: its head first, then lines of the stream. */
static void sub_data(sub *s, char *b, size_t len, uint64_t now, long *held) {
    if (s->state == C_HEAD) {
        char *h = s->head ? s->head : malloc(HEAD_MAX);
        if (!h)
            die("malloc");
        s->head = h;
        size_t n = len < HEAD_MAX - 1 - s->head_len ? len : HEAD_MAX - 1 - s->head_len;
        memcpy(h + s->head_len, b, n);
        s->head_len += n;
        h[s->head_len] = '\0';
        char *end = strstr(h, "\r\n\r\n");
        if (!end) {
            if (s->head_len == HEAD_MAX - 1)
                sub_close(s, held);
            return;
        }
        if (strncmp(h, "HTTP/1.1 200", 12) != 0 && strncmp(h, "HTTP/1.0 200", 12) != 0) {
            sub_close(s, held);
            return;
        }
        for (char *p = h; p < end; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p | 0x20 : *p);
        s->chunked = strstr(h, "transfer-encoding: chunked") != NULL;
        s->state = C_STREAM;
        (*held)++;
        size_t used = (size_t)(end + 4 - h) - (s->head_len - n);
        free(s->head);
        s->head = NULL;
        s->head_len = 0;
        b += used;
        len -= used;
    }
    if (s->chunked)
        len = dechunk(s, b, len);
    bytes_read += len;
    /* A line split between reads keeps only its start (all that on_line
     * reads), so a 16 KiB event costs no more memory than a short one. */
    size_t i = 0;
    while (i < len) {
        char *nl = memchr(b + i, '\n', len - i);
        size_t part = nl ? (size_t)(nl - (b + i)) : len - i;
        if (nl && s->line_len == 0) {
            on_line(b + i, part, now);
        } else {
            size_t room = LINE_KEEP - s->line_len, k = part < room ? part : room;
            memcpy(s->line + s->line_len, b + i, k);
            s->line_len += k;
            if (nl) {
                on_line(s->line, s->line_len, now);
                s->line_len = 0;
            }
        }
        if (!nl)
            break;
        i += part + 1;
    }
}

static char request[512];
static size_t request_len;

static int sub_connect(sub *s, const options *o, long index, int ep) {
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        return -1;
    int one = 1;
    if (o->src_count > 0) {
        struct sockaddr_in src = {.sin_family = AF_INET};
        src.sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)(o->src_first + index % o->src_count));
        setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(s->fd, (struct sockaddr *)&src, sizeof src) < 0) {
            close(s->fd);
            s->fd = -1;
            return -1;
        }
    }
    int port = o->sub_port_count ? o->sub_ports[index % o->sub_port_count] : o->port;
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, o->host, &dst.sin_addr);
    if (connect(s->fd, (struct sockaddr *)&dst, sizeof dst) < 0 && errno != EINPROGRESS) {
        close(s->fd);
        s->fd = -1;
        return -1;
    }
    s->state = C_CONNECTING;
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.u64 = (uint64_t)index};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev) < 0)
        die("epoll_ctl");
    return 0;
}

/* The socket connected (or failed): send the request, wait for the head. */
static void sub_connected(sub *s, int ep, long index, long *failed, long *held) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err ||
        write(s->fd, request, request_len) != (ssize_t)request_len) {
        sub_close(s, held);
        (*failed)++;
        return;
    }
    s->state = C_HEAD;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = (uint64_t)index};
    epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
}

/* Publisher. */
#define PUB_TOKEN ((uint64_t)1 << 62)

static void pub_append(pub *p, const char *bytes, size_t len) {
    if (p->out_len + len > p->out_cap) {
        size_t cap = p->out_cap ? p->out_cap * 2 : 65536;
        while (cap < p->out_len + len)
            cap *= 2;
        if (!(p->out = realloc(p->out, cap)))
            die("realloc");
        p->out_cap = cap;
    }
    memcpy(p->out + p->out_len, bytes, len);
    p->out_len += len;
}

/* One event's line, "<send ns> <seq> xxx...", padded to o->size bytes. */
static size_t event_line(char *line, const options *o, uint64_t seq, const char *pad) {
    int n = snprintf(line, 64, "%llu %llu ", (unsigned long long)now_ns(), (unsigned long long)seq);
    int fill = o->size > n ? o->size - n : 0;
    memcpy(line + n, pad, (size_t)fill);
    return (size_t)(n + fill);
}

/* Queue K events: K lines into the FIFO, or one POST whose body holds K lines. */
static void pub_send(pub *p, const options *o, const char *pad, long k) {
    static char body[(SIZE_MAX_EVENT + 64) * 64];
    size_t len = 0;
    for (long i = 0; i < k; i++) {
        len += event_line(body + len, o, p->published++, pad);
        body[len++] = '\n';
    }
    if (!o->pub_fifo) {
        char head[256];
        int h = snprintf(head, sizeof head,
                         "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n",
                         o->pub_path, o->host, o->port, len - 1);
        pub_append(p, head, (size_t)h);
        len--; /* no newline after the last line of a body */
        p->owed++;
        p->posts++;
    }
    pub_append(p, body, len);
}

/* May another request go out? (A FIFO always may; its buffer bounds it.) */
static int pub_may_send(const pub *p, const options *o) {
    return !p->post || o->pub_inflight == 0 || p->owed < o->pub_inflight;
}

static void pub_watch(pub *p, int ep, uint32_t events) {
    struct epoll_event ev = {.events = events | (p->post ? EPOLLIN : 0u), .data.u64 = PUB_TOKEN};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, p->fd, &ev) < 0)
        die("epoll_ctl publisher");
}

static void pub_flush(pub *p, int ep) {
    size_t done = 0;
    while (done < p->out_len && p->writable) {
        ssize_t n = write(p->fd, p->out + done, p->out_len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                die("publish");
            p->writable = 0;
            pub_watch(p, ep, EPOLLOUT);
            break;
        }
        done += (size_t)n;
    }
    memmove(p->out, p->out + done, p->out_len - done);
    p->out_len -= done;
}

/* POST mode: count the responses (status line, Content-Length body). */
static void pub_read(pub *p) {
    for (int round = 0; round < 8; round++) {
        ssize_t n = read(p->fd, p->in + p->in_len, sizeof p->in - 1 - p->in_len);
        if (n <= 0) {
            if (n == 0) {
                fprintf(stderr, "loadgen: the publishing connection was closed by the server\n");
                exit(1);
            }
            return;
        }
        p->in_len += (size_t)n;
        for (;;) {
            if (p->body_left) {
                size_t k = p->body_left < p->in_len ? p->body_left : p->in_len;
                memmove(p->in, p->in + k, p->in_len - k);
                p->in_len -= k;
                p->body_left -= k;
                if (p->body_left)
                    break;
            }
            p->in[p->in_len] = '\0';
            char *end = strstr(p->in, "\r\n\r\n");
            if (!end)
                break;
            if (strncmp(p->in, "HTTP/1.1 2", 10) != 0)
                p->errors++;
            for (char *c = p->in; c < end; c++)
                *c = (char)(*c >= 'A' && *c <= 'Z' ? *c | 0x20 : *c);
            char *cl = strstr(p->in, "content-length:");
            p->body_left = cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0;
            size_t head = (size_t)(end + 4 - p->in);
            memmove(p->in, p->in + head, p->in_len - head);
            p->in_len -= head;
            p->owed--;
        }
        if (n < (ssize_t)(sizeof p->in - 1 - p->in_len))
            return;
    }
}

static void pub_open(pub *p, const options *o, int ep) {
    memset(p, 0, sizeof *p);
    if (o->pub_fifo) {
        /* The reader (ssed, ssepub) may not have opened its end yet: ENXIO. */
        for (int tries = 0; (p->fd = open(o->pub_fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0; tries++) {
            if (errno != ENXIO || tries == 100)
                die(o->pub_fifo);
            usleep(50000);
        }
    } else {
        p->post = 1;
        p->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
        inet_pton(AF_INET, o->host, &dst.sin_addr);
        if (p->fd < 0 || connect(p->fd, (struct sockaddr *)&dst, sizeof dst) < 0)
            die("connect publisher");
        int one = 1;
        setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        set_nonblock(p->fd);
    }
    p->writable = 1;
    struct epoll_event ev = {.events = p->post ? EPOLLIN : 0u, .data.u64 = PUB_TOKEN};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, p->fd, &ev) < 0)
        die("epoll_ctl publisher");
}

/* Queue what may go out now and write it; returns how long the loop may
 * sleep (ns) before the next event is due. In rate mode, events due and not
 * yet sent wait for an answer: the generator falls behind a slow server
 * rather than pile up requests. As fast as delivered, it keeps at most a
 * window of events owed to the average subscriber. */
/* Sleep in epoll for up to timeout_ns: epoll_pwait2 keeps sub-millisecond
 * waits (rate mode at thousands of events/s) without spinning; where the
 * kernel lacks it, round up to whole milliseconds. */
static int wait_events(int ep, struct epoll_event *evs, int max, uint64_t timeout_ns) {
    static int no_pwait2;
    if (!no_pwait2) {
        struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000u), .tv_nsec = (long)(timeout_ns % 1000000000u)};
        int n = epoll_pwait2(ep, evs, max, &ts, NULL);
        if (n >= 0 || errno != ENOSYS)
            return n;
        no_pwait2 = 1;
    }
    return epoll_wait(ep, evs, max, (int)((timeout_ns + 999999) / 1000000));
}

/* What the subscribers' thread has counted, for the publisher's window. */
static uint64_t shared_seen, shared_held;

static uint64_t pub_pump(pub *p, const options *o, int ep, const char *pad, int rate_mode, uint64_t *next_send,
                         uint64_t interval, uint64_t now) {
    /* As fast as delivered, a full window is noticed by looking again soon
     * (the subscribers' thread does not wake this one). */
    uint64_t timeout = 200000;
    uint64_t held = __atomic_load_n(&shared_held, __ATOMIC_RELAXED);
    uint64_t seen = __atomic_load_n(&shared_seen, __ATOMIC_RELAXED);
    if (rate_mode) {
        while (now >= *next_send && pub_may_send(p, o)) {
            uint64_t due = (now - *next_send) / interval + 1;
            uint64_t most = p->post ? (uint64_t)o->pub_batch : 64;
            long k = (long)(due < most ? due : most);
            pub_send(p, o, pad, k);
            *next_send += (uint64_t)k * interval;
        }
        timeout = now < *next_send ? *next_send - now : 50000000;
    } else if (held > 0) {
        uint64_t ahead;
        while (p->out_len < 65536 && pub_may_send(p, o) &&
               (ahead = p->published - seen / held) < (uint64_t)o->window) {
            uint64_t room = (uint64_t)o->window - ahead, most = p->post ? (uint64_t)o->pub_batch : 1;
            pub_send(p, o, pad, (long)(room < most ? room : most));
        }
        if (!pub_may_send(p, o))
            timeout = 50000000; /* the answer wakes this thread */
    }
    pub_flush(p, ep);
    return timeout;
}

typedef struct publisher {
    pub p;
    const options *o;
    int ep;
    int rate_mode;
    uint64_t start, end_at, interval;
    const char *pad;
} publisher;

/* The publisher's own loop: send what may go out, read the answers, until
 * the end of the measuring window. */
static void *pub_thread(void *arg) {
    publisher *t = arg;
    uint64_t next_send = t->start;
    struct epoll_event evs[4];
    for (;;) {
        uint64_t now = now_ns();
        if (stop_flag || now >= t->end_at)
            break;
        uint64_t timeout = pub_pump(&t->p, t->o, t->ep, t->pad, t->rate_mode, &next_send, t->interval, now);
        if (t->end_at - now < timeout)
            timeout = t->end_at - now;
        int n = wait_events(t->ep, evs, 4, timeout);
        if (n < 0 && errno != EINTR)
            die("epoll_wait (publisher)");
        for (int i = 0; i < n; i++) {
            if (evs[i].events & EPOLLOUT) {
                t->p.writable = 1;
                pub_watch(&t->p, t->ep, 0);
            }
            if (t->p.post && (evs[i].events & EPOLLIN))
                pub_read(&t->p);
        }
    }
    return NULL;
}

static void usage(void) {
    fprintf(stderr,
            "Usage: loadgen --port PORT [--host 127.0.0.1] [--path /] [--conns N] [--sources FIRST:COUNT]\n"
            "               [--mode idle|fanout|rate] [--pub-fifo PATH | --pub-post PATH] [--rate EV/S]\n"
            "               [--duration S] [--warmup S] [--hold S] [--connect-timeout S] [--size BYTES]\n"
            "               [--window EVENTS] [--pub-inflight N] [--pub-batch LINES]\n"
            "               [--server-pid PID[,PID...]]... [--sub-ports PORT,PORT...] [--http10]\n"
            "--http10: subscribers ask HTTP/1.0 (a close-delimited stream, not chunked).\n"
            "--sub-ports: subscribers go round-robin to these ports (a cluster's nodes); the\n"
            "publisher still uses --port.\n");
    exit(2);
}

static void parse_options(options *o, int argc, char **argv) {
    *o = (options){.host = "127.0.0.1", .path = "/", .conns = 1000, .mode = "fanout", .rate = 100,
                   .duration = 10, .warmup = 1, .hold = 2, .connect_timeout = 60, .size = 100, .window = 32,
                   .pub_batch = 1};
    static const struct option lo[] = {
        {"host", 1, 0, 'H'},     {"port", 1, 0, 'p'},     {"path", 1, 0, 'P'},     {"conns", 1, 0, 'n'},
        {"sources", 1, 0, 's'},  {"mode", 1, 0, 'm'},     {"pub-fifo", 1, 0, 'f'}, {"pub-post", 1, 0, 'o'},
        {"rate", 1, 0, 'r'},     {"duration", 1, 0, 'd'}, {"warmup", 1, 0, 'w'},   {"hold", 1, 0, 'h'},
        {"connect-timeout", 1, 0, 't'}, {"size", 1, 0, 'z'}, {"window", 1, 0, 'W'}, {"pub-inflight", 1, 0, 'I'},
        {"pub-batch", 1, 0, 'B'}, {"server-pid", 1, 0, 'S'},
        {"sub-ports", 1, 0, 'Q'}, {"http10", 0, 0, '0'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'H': o->host = optarg; break;
        case 'p': o->port = atoi(optarg); break;
        case 'P': o->path = optarg; break;
        case 'n': o->conns = atol(optarg); break;
        case 's':
            if (sscanf(optarg, "%d:%d", &o->src_first, &o->src_count) != 2 || o->src_first < 1 ||
                o->src_count < 1 || o->src_first + o->src_count > 255)
                usage();
            break;
        case 'm': o->mode = optarg; break;
        case '0': o->http10 = 1; break;
        case 'f': o->pub_fifo = optarg; break;
        case 'o': o->pub_path = optarg; break;
        case 'r': o->rate = atof(optarg); break;
        case 'd': o->duration = atof(optarg); break;
        case 'w': o->warmup = atof(optarg); break;
        case 'h': o->hold = atof(optarg); break;
        case 't': o->connect_timeout = atof(optarg); break;
        case 'z': o->size = atoi(optarg); break;
        case 'W': o->window = atoi(optarg); break;
        case 'I': o->pub_inflight = atol(optarg); break;
        case 'B': o->pub_batch = atoi(optarg); break;
        case 'S':
            for (char *t = strtok(optarg, ","); t; t = strtok(NULL, ",")) {
                if (o->server_pid_count == SERVER_PIDS_MAX || atoi(t) <= 0)
                    usage();
                o->server_pids[o->server_pid_count++] = atoi(t);
            }
            break;
        case 'Q':
            for (char *t = strtok(optarg, ","); t; t = strtok(NULL, ",")) {
                if (o->sub_port_count == SERVER_PIDS_MAX || atoi(t) <= 0 || atoi(t) > 65535)
                    usage();
                o->sub_ports[o->sub_port_count++] = atoi(t);
            }
            break;
        default: usage();
        }
    }
    int idle = strcmp(o->mode, "idle") == 0;
    if (o->port <= 0 || o->conns < 1 || o->size < 40 || o->size > SIZE_MAX_EVENT ||
        o->pub_inflight < 0 || o->pub_batch < 1 || o->pub_batch > 64 || o->rate <= 0 || o->window < 1 ||
        (!idle && strcmp(o->mode, "fanout") != 0 && strcmp(o->mode, "rate") != 0) ||
        (!idle && !o->pub_fifo == !o->pub_path))
        usage();
}

/* CPU time (user + system, all threads) of the measured server processes,
 * in clock ticks; a process that is gone counts 0. */
static uint64_t server_cpu_ticks(const options *o) {
    uint64_t total = 0;
    for (int i = 0; i < o->server_pid_count; i++) {
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", o->server_pids[i]);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        /* After "pid (comm) ", utime and stime are fields 14 and 15. */
        char *p = strrchr(buf, ')');
        unsigned long long ut = 0, st = 0;
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
            total += ut + st;
    }
    return total;
}


/* This process's own CPU time (us): a load generator near 100% of a core
 * bounds what it can measure. */
static uint64_t self_cpu_us(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) < 0)
        return 0;
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void on_stop(int sig) {
    (void)sig;
    stop_flag = 1;
}

int main(int argc, char **argv) {
    options o;
    parse_options(&o, argc, argv);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    request_len = (size_t)snprintf(request, sizeof request,
                                   "GET %s HTTP/1.%d\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n"
                                   "User-Agent: ssetools-loadgen\r\n\r\n",
                                   o.path, o.http10 ? 0 : 1, o.host, o.port);
    sub *subs = calloc((size_t)o.conns, sizeof *subs);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!subs || ep < 0)
        die("start-up");
    static char rbuf[READ_MAX];
    struct epoll_event evs[1024];
    long next = 0, pending = 0, held = 0, failed = 0;
    publisher pt = {.p = {.fd = -1}, .o = &o, .pad = NULL};
    pthread_t pub_tid;
    int publishing = 0, idle = strcmp(o.mode, "idle") == 0, rate_mode = strcmp(o.mode, "rate") == 0;
    uint64_t t0 = now_ns(), connect_deadline = t0 + (uint64_t)(o.connect_timeout * 1e9), ready_at = 0;
    uint64_t end_at = 0;
    static char pad[SIZE_MAX_EVENT];
    memset(pad, 'x', sizeof pad);
    uint64_t cpu_start = 0, cpu_end = 0, self_start = 0, self_end = 0;
    int cpu_started = 0;
    window_start = window_end = UINT64_MAX;

    for (;;) {
        uint64_t now = now_ns();
        if (stop_flag)
            break;
        /* Connecting: a bounded number in flight, so no listen queue overflows. */
        if (!ready_at) {
            while (pending < CONNECTS_IN_FLIGHT && next < o.conns) {
                if (sub_connect(&subs[next], &o, next, ep) < 0)
                    failed++, subs[next].state = C_DONE;
                else
                    pending++;
                next++;
            }
            if ((next == o.conns && pending == 0) || now >= connect_deadline) {
                ready_at = now;
                printf("ready held=%ld failed=%ld connect_s=%.2f\n", held, failed + pending,
                       (double)(now - t0) / 1e9);
                fflush(stdout);
                if (idle) {
                    end_at = now + (uint64_t)(o.hold * 1e9);
                } else {
                    window_start = now + (uint64_t)(o.warmup * 1e9);
                    window_end = end_at = window_start + (uint64_t)(o.duration * 1e9);
                    __atomic_store_n(&shared_held, (uint64_t)(held > 0 ? held : 1), __ATOMIC_RELAXED);
                    pt.ep = epoll_create1(EPOLL_CLOEXEC);
                    if (pt.ep < 0)
                        die("epoll_create1");
                    pub_open(&pt.p, &o, pt.ep);
                    pt.rate_mode = rate_mode;
                    pt.start = now;
                    pt.end_at = end_at;
                    pt.interval = (uint64_t)(1e9 / o.rate);
                    pt.pad = pad;
                    if ((errno = pthread_create(&pub_tid, NULL, pub_thread, &pt)) != 0)
                        die("pthread_create");
                    publishing = 1;
                }
            }
        }
        if (publishing && !cpu_started && now >= window_start) {
            cpu_start = server_cpu_ticks(&o);
            self_start = self_cpu_us();
            cpu_started = 1;
        }
        if (end_at && now >= end_at) {
            cpu_end = server_cpu_ticks(&o);
            self_end = self_cpu_us();
            break;
        }
        uint64_t timeout = 50000000;
        if (end_at && end_at - now < timeout)
            timeout = end_at - now;
        int n = wait_events(ep, evs, 1024, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        now = now_ns();
        for (int i = 0; i < n; i++) {
            long idx = (long)evs[i].data.u64;
            sub *s = &subs[idx];
            if (s->state == C_CONNECTING) {
                sub_connected(s, ep, idx, &failed, &held);
                if (s->state == C_DONE)
                    pending--;
                continue;
            }
            for (int round = 0; round < 4 && (s->state == C_HEAD || s->state == C_STREAM); round++) {
                ssize_t r = read(s->fd, rbuf, sizeof rbuf);
                if (r <= 0) {
                    if (r < 0 && (errno == EAGAIN || errno == EINTR))
                        break;
                    if (s->state == C_HEAD)
                        pending--, failed++;
                    sub_close(s, &held);
                    break;
                }
                enum conn_state before = s->state;
                sub_data(s, rbuf, (size_t)r, now, &held);
                if (before == C_HEAD && s->state != C_HEAD) {
                    pending--;
                    if (s->state == C_DONE)
                        failed++;
                }
                if (r < (ssize_t)sizeof rbuf)
                    break;
            }
        }
        __atomic_store_n(&shared_seen, events_seen, __ATOMIC_RELAXED);
        __atomic_store_n(&shared_held, (uint64_t)(held > 0 ? held : 1), __ATOMIC_RELAXED);
    }
    if (publishing)
        pthread_join(pub_tid, NULL);
    pub p = pt.p;
    double secs = window_end == UINT64_MAX ? 0 : (double)(window_end - window_start) / 1e9;
    printf("held=%ld failed=%ld published=%llu posts=%llu events=%llu seconds=%.3f rate=%.0f p50_us=%.1f "
           "p99_us=%.1f max_us=%.1f bytes=%llu pub_errors=%ld seen=%llu",
           held, failed, (unsigned long long)p.published, (unsigned long long)p.posts,
           (unsigned long long)events_counted, secs, secs > 0 ? (double)events_counted / secs : 0,
           (double)hist_quantile(0.50) / 1e3, (double)hist_quantile(0.99) / 1e3, (double)hist_max / 1e3,
           (unsigned long long)bytes_read, p.errors, (unsigned long long)events_seen);
    if (o.server_pid_count && cpu_started && cpu_end >= cpu_start) {
        double cpu_us = (double)(cpu_end - cpu_start) * 1e6 / (double)sysconf(_SC_CLK_TCK);
        printf(" server_cpu_pct=%.1f cpu_us_per_delivery=%.3f", secs > 0 ? cpu_us / 1e4 / secs : 0,
               events_counted ? cpu_us / (double)events_counted : 0);
    }
    if (cpu_started && self_end >= self_start && secs > 0)
        printf(" loadgen_cpu_pct=%.1f", (double)(self_end - self_start) / 1e4 / secs);
    printf("\n");
    return 0;
}
