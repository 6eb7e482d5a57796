/* soak_client: the subscribers of the cluster soak (tests/soak/cluster_soak.py).
 *
 * One process, one epoll loop, N subscribers spread over the cluster's
 * nodes. A subscriber whose stream ends (its node was killed, or it was
 * dropped as slow) reconnects to another node with the id of the last whole
 * event it read as Last-Event-ID, as an EventSource behind a load balancer
 * would. Event data is "P <n>" or "S <n>" (the POST and the ssepub
 * publisher's n-th event), "START" or "END"; each subscriber keeps one bit
 * per event of each publisher, so what it lost is computed afterwards from
 * the publishers' acknowledged sets, and a bit seen twice is a duplicate.
 *
 * Prints "ready" once every subscriber's stream is open, "primed" once every
 * one has read an event (START), and exits when every one has read END (or
 * on SIGTERM, or at --deadline); then writes the results file:
 *   "SOAK1", u32 subscribers, u32 bitmap bytes, then per subscriber
 *   u64 delivered, duplicated, reordered, gaps, reconnects, saw_end,
 *   unexpected, then the P bitmap and the S bitmap (bit n: event n seen).
 * Every phase is bounded in time. */
#include <errno.h>
#include <fcntl.h>
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
#include <arpa/inet.h>

#define NODES_MAX 16
#define LINE_MAX_KEPT 128 /* longest line kept: event lines here are short */
#define CONNECTS_IN_FLIGHT 128
#define STAT_COUNT 7

enum state { S_WAIT, S_CONNECTING, S_HEAD, S_STREAM };
enum sub_stat { ST_DELIVERED, ST_DUPLICATED, ST_REORDERED, ST_GAPS, ST_RECONNECTS, ST_SAW_END, ST_UNEXPECTED };

typedef struct subscriber {
    int fd;
    enum state state;
    int node;
    uint64_t retry_at;  /* S_WAIT: when to connect again */
    uint64_t last_id;   /* id of the last whole event (0: none yet) */
    uint64_t event_id;  /* id: of the event being read */
    int event_gap;      /* the event being read is an ssed-gap */
    char data[LINE_MAX_KEPT];
    size_t data_len;
    int has_data;
    char line[LINE_MAX_KEPT];
    size_t line_len;
    char head[1024];
    size_t head_len;
    int chunked;       /* its stream is chunked (HTTP/1.1): framing stripped before lines */
    int chunk_state;   /* 0 size line, 1 data, 2 the CRLF after data */
    size_t chunk_left; /* data bytes left in the current chunk */
    uint64_t stats[STAT_COUNT];
    uint8_t *seen_p, *seen_s;
} subscriber;

typedef struct client {
    int ports[NODES_MAX];
    int node_count;
    const char *path;
    long conns;
    uint64_t max_seq;
    size_t bitmap_bytes;
    const char *out;
    double deadline_s;
    subscriber *subs;
    int ep;
    long streaming, primed, ended, connecting;
} client;

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig) {
    (void)sig;
    stop_flag = 1;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "soak_client: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* The stream ended or never opened: try another node after a short pause
 * (a node being restarted refuses for a moment). */
static void sub_drop(client *c, subscriber *s, uint64_t now) {
    if (s->fd >= 0)
        close(s->fd);
    if (s->state == S_STREAM)
        c->streaming--;
    if (s->state == S_CONNECTING || s->state == S_HEAD)
        c->connecting--;
    s->fd = -1;
    s->state = S_WAIT;
    s->node = (s->node + 1 + rand() % (c->node_count > 1 ? c->node_count - 1 : 1)) % c->node_count;
    s->retry_at = now + 20000000u + (uint64_t)(rand() % 80) * 1000000u;
    s->line_len = s->head_len = s->data_len = 0;
    s->has_data = s->event_gap = 0;
    s->stats[ST_RECONNECTS]++;
}

static void sub_connect(client *c, subscriber *s, long index, uint64_t now) {
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        die("socket");
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->ports[s->node])};
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->state = S_CONNECTING;
    c->connecting++;
    if (connect(s->fd, (struct sockaddr *)&dst, sizeof dst) < 0 && errno != EINPROGRESS) {
        sub_drop(c, s, now);
        return;
    }
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.u64 = (uint64_t)index};
    if (epoll_ctl(c->ep, EPOLL_CTL_ADD, s->fd, &ev) < 0)
        die("epoll_ctl");
}

static void sub_send_request(client *c, subscriber *s, long index, uint64_t now) {
    char req[512], resume[64] = "";
    if (s->last_id)
        snprintf(resume, sizeof resume, "Last-Event-ID: %llu\r\n", (unsigned long long)s->last_id);
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: text/event-stream\r\n%s"
                     "User-Agent: ssetools-soak\r\n\r\n",
                     c->path, c->ports[s->node], resume);
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err || write(s->fd, req, (size_t)n) != n) {
        sub_drop(c, s, now);
        return;
    }
    s->state = S_HEAD;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = (uint64_t)index};
    if (epoll_ctl(c->ep, EPOLL_CTL_MOD, s->fd, &ev) < 0)
        die("epoll_ctl");
}

/* Mark bit n of a publisher's bitmap; a bit already set is a duplicate. */
static void sub_mark(client *c, subscriber *s, uint8_t *bits, const char *num) {
    char *end;
    unsigned long long n = strtoull(num, &end, 10);
    if (*end || n >= c->max_seq) {
        s->stats[ST_UNEXPECTED]++;
        return;
    }
    if (bits[n >> 3] & (1u << (n & 7))) {
        s->stats[ST_DUPLICATED]++;
        return;
    }
    bits[n >> 3] |= (uint8_t)(1u << (n & 7));
    s->stats[ST_DELIVERED]++;
}

/* A blank line: the event read is complete. */
static void sub_dispatch(client *c, subscriber *s) {
    if (!s->has_data)
        return;
    s->data[s->data_len] = '\0';
    /* An ssed-gap notice has no id of its own: the stream's last one stays. */
    if (!s->event_gap && s->event_id && s->event_id <= s->last_id)
        s->stats[ST_REORDERED]++;
    if (s->event_gap)
        s->stats[ST_GAPS]++;
    else if (strncmp(s->data, "P ", 2) == 0)
        sub_mark(c, s, s->seen_p, s->data + 2);
    else if (strncmp(s->data, "S ", 2) == 0)
        sub_mark(c, s, s->seen_s, s->data + 2);
    else if (strcmp(s->data, "END") == 0 && !s->stats[ST_SAW_END])
        s->stats[ST_SAW_END] = 1, c->ended++;
    else if (strcmp(s->data, "START") != 0)
        s->stats[ST_UNEXPECTED]++;
    if (s->event_id > s->last_id) {
        if (!s->last_id)
            c->primed++;
        s->last_id = s->event_id;
    }
    s->has_data = s->event_gap = 0;
    s->data_len = 0;
}

static void sub_line(client *c, subscriber *s, const char *line, size_t len) {
    if (len && line[len - 1] == '\r')
        len--;
    if (len == 0) {
        sub_dispatch(c, s);
        return;
    }
    const char *colon = memchr(line, ':', len);
    if (!colon || colon == line)
        return; /* comments (keep-alives) and fields without value */
    size_t name = (size_t)(colon - line), vlen = len - name - 1;
    const char *v = colon + 1;
    if (vlen && *v == ' ')
        v++, vlen--;
    if (name == 2 && memcmp(line, "id", 2) == 0) {
        char num[32];
        size_t k = vlen < sizeof num - 1 ? vlen : sizeof num - 1;
        memcpy(num, v, k);
        num[k] = '\0';
        s->event_id = strtoull(num, NULL, 10);
    } else if (name == 4 && memcmp(line, "data", 4) == 0) {
        size_t k = vlen < sizeof s->data - 1 ? vlen : sizeof s->data - 1;
        memcpy(s->data, v, k);
        s->data_len = k;
        s->has_data = 1;
    } else if (name == 5 && memcmp(line, "event", 5) == 0) {
        s->event_gap = vlen == 8 && memcmp(v, "ssed-gap", 8) == 0;
    }
}

/* Strip chunked framing in place from b[0..len); returns the payload's
 * length. Tolerant, as tests/bench/loadgen.c's, and as fast. */
static size_t dechunk(subscriber *s, char *b, size_t len) {
    size_t out = 0;
    for (size_t i = 0; i < len;) {
        if (s->chunk_state == 1) {
            size_t n = len - i < s->chunk_left ? len - i : s->chunk_left;
            memmove(b + out, b + i, n);
            out += n;
            i += n;
            if ((s->chunk_left -= n) == 0)
                s->chunk_state = 2;
            continue;
        }
        char c = b[i++];
        if (s->chunk_state == 2) {
            if (c == '\n')
                s->chunk_state = 0;
        } else if (c == '\n') {
            s->chunk_state = s->chunk_left ? 1 : 0;
        } else if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')) {
            s->chunk_left = s->chunk_left * 16 + (size_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
    }
    return out;
}

/* The response head: a 200 opens the stream, anything else is retried elsewhere. */
static size_t sub_head(client *c, subscriber *s, const char *b, size_t len, uint64_t now) {
    size_t room = sizeof s->head - 1 - s->head_len, k = len < room ? len : room;
    memcpy(s->head + s->head_len, b, k);
    s->head_len += k;
    s->head[s->head_len] = '\0';
    char *end = strstr(s->head, "\r\n\r\n");
    if (!end) {
        if (s->head_len == sizeof s->head - 1)
            sub_drop(c, s, now);
        return len;
    }
    if (strncmp(s->head, "HTTP/1.1 200", 12) != 0) {
        sub_drop(c, s, now);
        return len;
    }
    s->state = S_STREAM;
    s->chunked = strcasestr(s->head, "\r\ntransfer-encoding: chunked") != NULL;
    s->chunk_state = 0;
    s->chunk_left = 0;
    c->connecting--;
    c->streaming++;
    return (size_t)(end + 4 - s->head) - (s->head_len - k);
}

static void sub_read(client *c, subscriber *s, uint64_t now) {
    static char buf[65536];
    for (int round = 0; round < 4 && (s->state == S_HEAD || s->state == S_STREAM); round++) {
        ssize_t r = read(s->fd, buf, sizeof buf);
        if (r <= 0) {
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            sub_drop(c, s, now);
            return;
        }
        size_t i = 0, len = (size_t)r;
        if (s->state == S_HEAD)
            i = sub_head(c, s, buf, len, now);
        if (s->state == S_STREAM && s->chunked && i < len)
            len = i + dechunk(s, buf + i, len - i);
        while (i < len && s->state == S_STREAM) {
            char *nl = memchr(buf + i, '\n', len - i);
            size_t part = nl ? (size_t)(nl - (buf + i)) : len - i;
            if (nl && s->line_len == 0) {
                sub_line(c, s, buf + i, part);
            } else {
                size_t room = sizeof s->line - s->line_len, k = part < room ? part : room;
                memcpy(s->line + s->line_len, buf + i, k);
                s->line_len += k;
                if (nl) {
                    sub_line(c, s, s->line, s->line_len);
                    s->line_len = 0;
                }
            }
            i += part + (nl ? 1 : 0);
        }
        if (r < (ssize_t)sizeof buf)
            return;
    }
}

static void write_results(const client *c) {
    FILE *f = fopen(c->out, "wb");
    if (!f)
        die(c->out);
    uint32_t head[2] = {(uint32_t)c->conns, (uint32_t)c->bitmap_bytes};
    int ok = fwrite("SOAK1", 1, 5, f) == 5 && fwrite(head, sizeof head, 1, f) == 1;
    for (long i = 0; ok && i < c->conns; i++) {
        const subscriber *s = &c->subs[i];
        ok = fwrite(s->stats, sizeof s->stats, 1, f) == 1 && fwrite(s->seen_p, c->bitmap_bytes, 1, f) == 1 &&
             fwrite(s->seen_s, c->bitmap_bytes, 1, f) == 1;
    }
    if (!ok || fclose(f) != 0)
        die(c->out);
}

static void usage(void) {
    fprintf(stderr, "Usage: soak_client --ports P1,P2,... --conns N --max-seq N --out FILE [--path /soak]\n"
                    "                   [--deadline SECONDS]\n");
    exit(2);
}

static void parse_options(client *c, int argc, char **argv) {
    *c = (client){.path = "/soak", .conns = 1000, .deadline_s = 3600};
    static const struct option lo[] = {{"ports", 1, 0, 'p'},   {"conns", 1, 0, 'n'}, {"max-seq", 1, 0, 'm'},
                                       {"out", 1, 0, 'o'},     {"path", 1, 0, 'P'},  {"deadline", 1, 0, 'd'},
                                       {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (o) {
        case 'p':
            for (char *t = strtok(optarg, ","); t; t = strtok(NULL, ",")) {
                if (c->node_count == NODES_MAX || atoi(t) <= 0 || atoi(t) > 65535)
                    usage();
                c->ports[c->node_count++] = atoi(t);
            }
            break;
        case 'n': c->conns = atol(optarg); break;
        case 'm': c->max_seq = strtoull(optarg, NULL, 10); break;
        case 'o': c->out = optarg; break;
        case 'P': c->path = optarg; break;
        case 'd': c->deadline_s = atof(optarg); break;
        default: usage();
        }
    }
    if (!c->node_count || c->conns < 1 || c->max_seq < 1 || !c->out || c->deadline_s <= 0)
        usage();
    c->bitmap_bytes = (size_t)(c->max_seq + 7) / 8;
}

int main(int argc, char **argv) {
    client c;
    parse_options(&c, argc, argv);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    srand((unsigned)getpid());
    c.subs = calloc((size_t)c.conns, sizeof *c.subs);
    c.ep = epoll_create1(EPOLL_CLOEXEC);
    if (!c.subs || c.ep < 0)
        die("start-up");
    for (long i = 0; i < c.conns; i++) {
        subscriber *s = &c.subs[i];
        s->fd = -1;
        s->node = (int)(i % c.node_count);
        s->seen_p = calloc(1, c.bitmap_bytes);
        s->seen_s = calloc(1, c.bitmap_bytes);
        if (!s->seen_p || !s->seen_s)
            die("calloc");
    }
    uint64_t deadline = now_ns() + (uint64_t)(c.deadline_s * 1e9);
    int said_ready = 0, said_primed = 0;
    struct epoll_event evs[512];
    while (!stop_flag && c.ended < c.conns && now_ns() < deadline) {
        uint64_t now = now_ns();
        /* Connect who is due, a bounded number at once (no listen queue overflows). */
        for (long i = 0; i < c.conns && c.connecting < CONNECTS_IN_FLIGHT; i++)
            if (c.subs[i].state == S_WAIT && c.subs[i].retry_at <= now)
                sub_connect(&c, &c.subs[i], i, now);
        if (!said_ready && c.streaming == c.conns) {
            printf("ready\n");
            fflush(stdout);
            said_ready = 1;
        }
        if (!said_primed && c.primed == c.conns) {
            printf("primed\n");
            fflush(stdout);
            said_primed = 1;
        }
        int n = epoll_wait(c.ep, evs, 512, 10);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        now = now_ns();
        for (int i = 0; i < n; i++) {
            long idx = (long)evs[i].data.u64;
            subscriber *s = &c.subs[idx];
            if (s->state == S_CONNECTING)
                sub_send_request(&c, s, idx, now);
            else if (s->state == S_HEAD || s->state == S_STREAM)
                sub_read(&c, s, now);
        }
    }
    write_results(&c);
    printf("done ended=%ld of %ld\n", c.ended, c.conns);
    return 0;
}
