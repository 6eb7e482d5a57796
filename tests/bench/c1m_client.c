/* c1m_client: the lean load generator of tests/bench/c1m.sh (a million
 * subscribers on one machine).
 *
 * Subscribe mode (the default): one process, one epoll loop, up to ~19,000
 * subscriber connections (a process may hold at most `ulimit -Hn`
 * descriptors here, 20,000), bound to source addresses 127.0.0.FIRST to
 * 127.0.0.(FIRST+COUNT-1) in turn so that the connections of many processes
 * do not share one address's ephemeral ports. Per connection it keeps about
 * 80 bytes: no buffer, only the head of a line split between two reads, so
 * the machine's memory is ssed's and the kernel's. Each "data: <ns> <seq>"
 * line is one event: its delivery latency (CLOCK_MONOTONIC, shared by every
 * process of the machine) goes into a histogram of 1 ms buckets.
 *
 * It prints "ready held=N failed=M" once every connection is up (or has
 * failed, or --connect-timeout passed). On SIGUSR1 it prints a phase report
 * and starts counting afresh:
 *   phase N held=H closed=C events=E min=A max=B gaps=G
 *   lat MS COUNT        (one line per non-empty bucket)
 *   endphase N
 * so that the script can merge the histograms of every process. On SIGUSR2
 * it prints "peek events=E", the events of the phase so far, so that the
 * script can tell when delivery has stopped. SIGTERM or SIGINT ends it.
 *
 * Publish mode (--publish): one event every 1/--rate s for --seconds, each
 * its own POST on a fresh connection (published once; the cluster carries
 * it to every node), data "<ns> <seq> " padded with 'x' to --size bytes.
 * Prints "published=N failed=F late=L" (late: sent more than 100 ms after
 * its time). Every phase is bounded in time. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_MAX 65536
#define LINE_KEEP 48 /* bytes kept of a line split between reads: enough for "data: <ns> <seq>" */
#define CONNECTS_IN_FLIGHT 512
#define HIST_MS 120000 /* latencies above 2 minutes share the last bucket */

enum conn_state { C_IDLE, C_CONNECTING, C_HEAD, C_STREAM, C_DONE };

typedef struct sub {
    int fd;
    uint8_t state;
    uint8_t head_match; /* how much of "\r\n\r\n" the head has matched */
    uint8_t carry_len;
    uint8_t status_ok;  /* the status line said 200 */
    uint32_t got;       /* events this phase */
    uint64_t last_seq;
    char carry[LINE_KEEP];
} sub;

typedef struct opts {
    const char *host, *path;
    int port, conns, src_first, src_count, connect_timeout;
    int connect_rate; /* connections started per second; 0: as fast as they complete */
    int publish, rate, seconds, size;
    uint64_t first_seq;
} opts;

static volatile sig_atomic_t want_report, want_peek, want_stop;
static uint32_t hist[HIST_MS + 1];
static uint64_t gaps; /* events whose seq did not follow the last one's: lost, repeated or reordered */

static void on_signal(int sig) {
    if (sig == SIGUSR1)
        want_report = 1;
    else if (sig == SIGUSR2)
        want_peek = 1;
    else
        want_stop = 1;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "c1m_client: %s: %s\n", what, strerror(errno));
    exit(1);
}

static struct sockaddr_in addr_of(const char *host, int port) {
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "c1m_client: --host %s: not an IPv4 address\n", host);
        exit(2);
    }
    return sa;
}

/* A non-blocking connect from 127.0.0.(first + i % count): -1 if the
 * socket could not even be started (out of descriptors or ports). */
static int start_connect(const opts *o, const struct sockaddr_in *to, int i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    /* The port is chosen at connect, per destination, not at bind: without
     * this one address runs out of ports at 28,000 binds whatever the
     * destinations. */
    if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) < 0)
        die("setsockopt IP_BIND_ADDRESS_NO_PORT");
    struct sockaddr_in from = {.sin_family = AF_INET};
    from.sin_addr.s_addr = htonl((127u << 24) | (uint32_t)(o->src_first + i % o->src_count));
    if (bind(fd, (struct sockaddr *)&from, sizeof from) < 0 ||
        (connect(fd, (const struct sockaddr *)to, sizeof *to) < 0 && errno != EINPROGRESS)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One line (or its first LINE_KEEP bytes): a "data: <ns> <seq>" line is an
 * event to count and time. */
static void on_line(sub *s, const char *line, size_t len, uint64_t now) {
    if (len < 7 || memcmp(line, "data: ", 6) != 0)
        return;
    char tmp[LINE_KEEP + 1];
    size_t n = len < LINE_KEEP ? len : LINE_KEEP;
    memcpy(tmp, line, n);
    tmp[n] = '\0';
    char *end;
    unsigned long long ns = strtoull(tmp + 6, &end, 10);
    unsigned long long seq = strtoull(end, NULL, 10);
    s->got++;
    if (s->last_seq && seq != s->last_seq + 1)
        gaps++;
    uint64_t ms = now > ns ? (now - ns) / 1000000u : 0;
    hist[ms > HIST_MS ? HIST_MS : ms]++;
    s->last_seq = seq;
}

/* Split what was read into lines, the carry first. */
static void on_bytes(sub *s, const char *p, size_t len, uint64_t now) {
    while (len) {
        const char *nl = memchr(p, '\n', len);
        size_t part = nl ? (size_t)(nl - p) : len;
        if (s->carry_len || !nl) {
            size_t room = LINE_KEEP - s->carry_len, take = part < room ? part : room;
            memcpy(s->carry + s->carry_len, p, take);
            s->carry_len += (uint8_t)take;
            if (nl) {
                on_line(s, s->carry, s->carry_len, now);
                s->carry_len = 0;
            }
        } else {
            on_line(s, p, part, now);
        }
        if (!nl)
            return;
        p = nl + 1;
        len -= part + 1;
    }
}

/* The response head: "HTTP/1.1 200" first, then up to the blank line;
 * what follows is the stream. Returns the bytes the head used. */
static size_t on_head(sub *s, const char *p, size_t len) {
    static const char end[] = "\r\n\r\n";
    size_t i = 0;
    if (s->head_match == 0 && !s->status_ok && len >= 12)
        s->status_ok = memcmp(p + 9, "200", 3) == 0 ? 1 : 2;
    for (; i < len && s->head_match < 4; i++)
        s->head_match = p[i] == end[s->head_match] ? s->head_match + 1 : (p[i] == '\r' ? 1 : 0);
    if (s->head_match == 4)
        s->state = C_STREAM;
    return i;
}

typedef struct run {
    const opts *o;
    struct sockaddr_in to;
    sub *subs;
    int epfd, next, connecting, held, failed, closed;
    uint64_t started_ns;
    char request[512];
    size_t request_len;
} run;

static void finish(run *r, sub *s, int failed) {
    if (epoll_ctl(r->epfd, EPOLL_CTL_DEL, s->fd, NULL) < 0 && errno != EBADF)
        die("epoll_ctl DEL");
    close(s->fd);
    if (s->state == C_STREAM) {
        r->held--;
        r->closed++;
    } else {
        r->connecting--;
        r->failed += failed;
    }
    s->fd = -1;
    s->state = C_DONE;
}

/* Start connections until CONNECTS_IN_FLIGHT are under way: a storm of
 * 19,000 at once would overflow the server's listen backlog. */
static void connect_more(run *r) {
    int allowed = r->o->conns;
    if (r->o->connect_rate) /* spread out, as clients arrive in life: their keep-alives come due spread out too */
        allowed = (int)((now_ns() - r->started_ns) / (1000000000u / (uint64_t)r->o->connect_rate)) + 1;
    while (r->next < r->o->conns && r->next < allowed && r->connecting < CONNECTS_IN_FLIGHT) {
        sub *s = &r->subs[r->next];
        s->fd = start_connect(r->o, &r->to, r->next++);
        if (s->fd < 0) {
            r->failed++;
            s->state = C_DONE;
            continue;
        }
        struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = s};
        if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0)
            die("epoll_ctl ADD");
        s->state = C_CONNECTING;
        r->connecting++;
    }
}

/* Connected: send the request (it fits an empty socket buffer), then read. */
static void on_connected(run *r, sub *s) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err ||
        write(s->fd, r->request, r->request_len) != (ssize_t)r->request_len) {
        finish(r, s, 1);
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = s};
    if (epoll_ctl(r->epfd, EPOLL_CTL_MOD, s->fd, &ev) < 0)
        die("epoll_ctl MOD");
    s->state = C_HEAD;
}

static void on_readable(run *r, sub *s, char *buf, uint64_t now) {
    for (;;) {
        ssize_t n = read(s->fd, buf, READ_MAX);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            finish(r, s, 1);
            return;
        }
        size_t used = 0;
        if (s->state == C_HEAD) {
            used = on_head(s, buf, (size_t)n);
            if (s->state == C_STREAM && s->status_ok != 1) {
                s->state = C_HEAD; /* counted as failed, not as closed */
                finish(r, s, 1); /* refused: 503 from a full server, or another answer */
                return;
            }
            if (s->state == C_STREAM) {
                r->connecting--;
                r->held++;
            }
        }
        if (s->state == C_STREAM)
            on_bytes(s, buf + used, (size_t)n - used, now);
        if ((size_t)n < READ_MAX)
            return;
    }
}

/* The phase report (see the top of the file), then counts start afresh. */
static void report(run *r, int phase) {
    uint64_t events = 0;
    uint32_t min = UINT32_MAX, max = 0;
    for (int i = 0; i < r->o->conns; i++) {
        sub *s = &r->subs[i];
        if (s->state != C_STREAM)
            continue;
        events += s->got;
        min = s->got < min ? s->got : min;
        max = s->got > max ? s->got : max;
        s->got = 0;
    }
    printf("phase %d held=%d closed=%d events=%llu min=%u max=%u gaps=%llu\n", phase, r->held, r->closed,
           (unsigned long long)events, r->held ? min : 0, max, (unsigned long long)gaps);
    for (int ms = 0; ms <= HIST_MS; ms++)
        if (hist[ms])
            printf("lat %d %u\n", ms, hist[ms]);
    printf("endphase %d\n", phase);
    fflush(stdout);
    memset(hist, 0, sizeof hist);
    gaps = 0;
    r->closed = 0;
}

static int subscribe(const opts *o) {
    run r = {.o = o, .to = addr_of(o->host, o->port)};
    r.subs = calloc((size_t)o->conns, sizeof *r.subs);
    char *buf = malloc(READ_MAX);
    if (!r.subs || !buf)
        die("calloc");
    r.request_len = (size_t)snprintf(r.request, sizeof r.request,
                                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n", o->path);
    r.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (r.epfd < 0)
        die("epoll_create1");
    r.started_ns = now_ns();
    uint64_t deadline = r.started_ns + (uint64_t)o->connect_timeout * 1000000000u;
    int ready = 0, phase = 0;
    struct epoll_event evs[1024];
    while (!want_stop) {
        connect_more(&r);
        if (!ready && ((r.next == o->conns && r.connecting == 0) || now_ns() > deadline)) {
            printf("ready held=%d failed=%d\n", r.held, r.failed + r.connecting);
            fflush(stdout);
            ready = 1;
        }
        if (want_peek) { /* how far the phase is, without ending it: has delivery stopped? */
            want_peek = 0;
            uint64_t events = 0;
            for (int i = 0; i < o->conns; i++)
                events += r.subs[i].state == C_STREAM ? r.subs[i].got : 0;
            printf("peek events=%llu\n", (unsigned long long)events);
            fflush(stdout);
        }
        if (want_report) {
            want_report = 0;
            report(&r, ++phase);
        }
        int n = epoll_wait(r.epfd, evs, 1024, o->connect_rate && r.next < o->conns ? 1 : 200);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("epoll_wait");
        uint64_t now = now_ns(); /* one clock read per wakeup: 1 ms buckets need no more */
        for (int i = 0; i < n; i++) {
            sub *s = evs[i].data.ptr;
            if (s->state == C_CONNECTING)
                on_connected(&r, s);
            else if (s->state == C_HEAD || s->state == C_STREAM)
                on_readable(&r, s, buf, now);
        }
    }
    printf("final held=%d\n", r.held);
    return 0;
}

/* One POST on a fresh blocking connection: 0 if it was answered 200. */
static int post_one(const opts *o, const struct sockaddr_in *to, uint64_t seq) {
    char body[4096], req[4608];
    int blen = snprintf(body, sizeof body, "%llu %llu ", (unsigned long long)now_ns(), (unsigned long long)seq);
    while (blen < o->size - 1 && blen < (int)sizeof body - 2)
        body[blen++] = 'x';
    body[blen++] = '\n';
    int rlen = snprintf(req, sizeof req,
                        "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                        "Content-Length: %d\r\nConnection: close\r\n\r\n%.*s",
                        o->path, blen, blen, body);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = 10};
    char answer[256];
    ssize_t got = -1;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
        connect(fd, (const struct sockaddr *)to, sizeof *to) == 0 && write(fd, req, (size_t)rlen) == rlen)
        got = read(fd, answer, sizeof answer);
    close(fd);
    return got >= 12 && memcmp(answer + 9, "200", 3) == 0 ? 0 : -1;
}

static int publish(const opts *o) {
    struct sockaddr_in to = addr_of(o->host, o->port);
    uint64_t start = now_ns(), step = 1000000000u / (uint64_t)o->rate;
    long total = (long)o->rate * o->seconds, failed = 0, late = 0;
    for (long i = 0; i < total && !want_stop; i++) {
        uint64_t due = start + (uint64_t)i * step, now = now_ns();
        if (now < due) {
            struct timespec ts = {.tv_sec = (time_t)((due - now) / 1000000000u), .tv_nsec = (long)((due - now) % 1000000000u)};
            while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !want_stop)
                ;
        } else if (now - due > 100000000u) {
            late++;
        }
        if (post_one(o, &to, o->first_seq + (uint64_t)i) < 0)
            failed++;
    }
    printf("published=%ld failed=%ld late=%ld\n", total - failed, failed, late);
    return failed ? 1 : 0;
}

static void usage(void) {
    fprintf(stderr, "Usage: c1m_client --port PORT [--host 127.0.0.1] [--path /] [--conns N] [--sources FIRST:COUNT]\n"
                    "                  [--connect-timeout S] [--connect-rate PER_SECOND]\n"
                    "       c1m_client --publish --port PORT [--rate N] [--seconds S] [--size BYTES] [--first-seq N]\n");
    exit(2);
}

int main(int argc, char **argv) {
    opts o = {.host = "127.0.0.1", .path = "/", .conns = 1000, .src_first = 2, .src_count = 1, .connect_timeout = 120,
              .rate = 1, .seconds = 10, .size = 100, .first_seq = 1};
    static const struct option longs[] = {
        {"host", 1, 0, 'H'},    {"port", 1, 0, 'p'},  {"path", 1, 0, 'P'},         {"conns", 1, 0, 'n'},
        {"sources", 1, 0, 's'}, {"publish", 0, 0, 'u'}, {"connect-timeout", 1, 0, 't'}, {"rate", 1, 0, 'r'},
        {"seconds", 1, 0, 'S'}, {"size", 1, 0, 'z'},  {"first-seq", 1, 0, 'f'},
        {"connect-rate", 1, 0, 'c'}, {0, 0, 0, 0}};
    for (int c; (c = getopt_long(argc, argv, "", longs, NULL)) != -1;) {
        switch (c) {
        case 'H': o.host = optarg; break;
        case 'p': o.port = atoi(optarg); break;
        case 'P': o.path = optarg; break;
        case 'n': o.conns = atoi(optarg); break;
        case 's':
            if (sscanf(optarg, "%d:%d", &o.src_first, &o.src_count) != 2 || o.src_first < 1 || o.src_count < 1 ||
                o.src_first + o.src_count > 255)
                usage();
            break;
        case 'u': o.publish = 1; break;
        case 't': o.connect_timeout = atoi(optarg); break;
        case 'r': o.rate = atoi(optarg); break;
        case 'S': o.seconds = atoi(optarg); break;
        case 'z': o.size = atoi(optarg); break;
        case 'c': o.connect_rate = atoi(optarg); break;
        case 'f': o.first_seq = strtoull(optarg, NULL, 10); break;
        default: usage();
        }
    }
    if (o.port <= 0 || o.port > 65535 || o.conns < 1 || o.connect_rate < 0 || o.connect_rate > 1000000000 || o.rate < 1 || o.seconds < 1 || o.size < 40)
        usage();
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: epoll_wait returns to look at the flags */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) < 0 || sigaction(SIGUSR2, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
        die("sigaction");
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal SIGPIPE");
    return o.publish ? publish(&o) : subscribe(&o);
}
