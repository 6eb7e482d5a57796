/* Fan-out load generator: many SSE subscribers in one process (epoll), each
 * counting events and measuring delivery latency from the send timestamp
 * that the feeder puts first in each event's data.
 *
 *   fanout feed RATE SECONDS     lines "<realtime-ns> <seq>" on stdout; RATE 0: as fast as possible
 *   fanout watch PORT N SECONDS  N subscribers to http://127.0.0.1:PORT/; prints one summary line */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUCKETS 100000 /* 10 us each: up to one second */

static uint64_t realtime_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int feed(double rate, double seconds) {
    uint64_t start = realtime_ns(), end = start + (uint64_t)(seconds * 1e9);
    char line[64];
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    for (uint64_t seq = 0;; seq++) {
        uint64_t now = realtime_ns();
        if (now >= end)
            break;
        if (rate > 0) {
            uint64_t due = start + (uint64_t)((double)seq * 1e9 / rate);
            if (due > now) {
                fflush(stdout);
                struct timespec ts = {0, (long)(due - now)};
                nanosleep(&ts, NULL);
            }
        }
        int n = snprintf(line, sizeof line, "%llu %llu\n", (unsigned long long)realtime_ns(), (unsigned long long)seq);
        if (fwrite(line, 1, (size_t)n, stdout) != (size_t)n)
            return 1;
        if (rate > 0)
            fflush(stdout);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

typedef struct sub {
    int fd;
    int at_line_start;
    int in_data;       /* inside a "data: " line, reading its number */
    int prefix;        /* bytes of "data: " matched at line start */
    uint64_t number;
} sub;

static uint64_t events, latency_hist[BUCKETS + 1];

static void scan(sub *s, const char *p, size_t n, uint64_t now) {
    static const char prefix[] = "data: ";
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\n') {
            if (s->in_data) {
                uint64_t lat = now > s->number ? (now - s->number) / 10000 : 0;
                latency_hist[lat > BUCKETS ? BUCKETS : lat]++;
                events++;
            }
            s->at_line_start = 1;
            s->in_data = 0;
            s->prefix = 0;
            s->number = 0;
            continue;
        }
        if (s->in_data) {
            if (c >= '0' && c <= '9' && s->in_data == 1)
                s->number = s->number * 10 + (uint64_t)(c - '0');
            else
                s->in_data = 2; /* past the number */
        } else if (s->at_line_start && s->prefix < 6 && c == prefix[s->prefix]) {
            if (++s->prefix == 6)
                s->in_data = 1;
        } else {
            s->at_line_start = 0;
        }
    }
}

static double max_latency(void) {
    for (int i = BUCKETS; i >= 0; i--)
        if (latency_hist[i])
            return i * 0.01;
    return 0;
}

static double percentile(double p) {
    uint64_t want = (uint64_t)(p * (double)events), seen = 0;
    for (int i = 0; i <= BUCKETS; i++) {
        seen += latency_hist[i];
        if (seen > want)
            return i * 0.01;
    }
    return BUCKETS * 0.01;
}

static int watch(int port, int count, double seconds) {
    int ep = epoll_create1(0);
    sub *subs = calloc((size_t)count, sizeof *subs);
    if (ep < 0 || !subs)
        return 1;
    char request[] = "GET / HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n";
    for (int i = 0; i < count; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(0x7f000001)};
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
            write(fd, request, sizeof request - 1) != (ssize_t)(sizeof request - 1)) {
            fprintf(stderr, "fanout: subscriber %d: %s\n", i, strerror(errno));
            return 1;
        }
        subs[i].fd = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &subs[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    fprintf(stderr, "fanout: %d subscribers connected\n", count);
    uint64_t start = realtime_ns(), end = start + (uint64_t)(seconds * 1e9);
    static char buf[1 << 16];
    struct epoll_event ready[256];
    while (realtime_ns() < end) {
        int n = epoll_wait(ep, ready, 256, 100);
        uint64_t now = realtime_ns();
        for (int i = 0; i < n; i++) {
            sub *s = ready[i].data.ptr;
            ssize_t got = read(s->fd, buf, sizeof buf);
            if (got > 0)
                scan(s, buf, (size_t)got, now);
            else if (got == 0)
                epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
        }
    }
    double secs = (double)(realtime_ns() - start) / 1e9;
    printf("subscribers=%d events=%llu events_per_s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", count,
           (unsigned long long)events, (double)events / secs, percentile(0.5), percentile(0.99), max_latency());
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "feed") == 0)
        return feed(atof(argv[2]), atof(argv[3]));
    if (argc == 5 && strcmp(argv[1], "watch") == 0)
        return watch(atoi(argv[2]), atoi(argv[3]), atof(argv[4]));
    fprintf(stderr, "usage: fanout feed RATE SECONDS | fanout watch PORT N SECONDS\n");
    return 2;
}
