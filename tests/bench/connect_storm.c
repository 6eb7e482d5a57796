/* connect_storm: how fast a server accepts a storm of subscribers. Opens N
 * connections to 127.0.0.1:PORT (at most 256 connecting at once), sends
 * each a GET for PATH with an optional Authorization: Bearer token, and
 * counts a subscriber as accepted when its response starts with
 * "HTTP/1.1 200". Every connection stays open until all are accepted (as
 * subscribers do). Prints "accepted=N refused=R seconds=S per_second=X".
 * Usage: connect_storm PORT PATH N [TOKEN | @FILE]: with @FILE, connection
 * i presents line i of FILE (cycling), so no two share a token. Bounded:
 * gives up after 120 s. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IN_FLIGHT 256

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

typedef struct storm {
    int ep;
    struct sockaddr_in addr;
    char **requests; /* one per token */
    size_t *request_lens;
    int request_count;
    int *fds;
    int opened, answered, accepted, refused, n;
} storm;

/* The request with this token (NULL: none). */
static int add_request(storm *s, const char *path, const char *token) {
    char *r = malloc(16384);
    int len = r ? snprintf(r, 16384, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s\r\n", path,
                           token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "")
                : -1;
    if (len < 0 || len >= 16384) {
        free(r);
        return -1;
    }
    s->requests = realloc(s->requests, (size_t)(s->request_count + 1) * sizeof *s->requests);
    s->request_lens = realloc(s->request_lens, (size_t)(s->request_count + 1) * sizeof *s->request_lens);
    if (!s->requests || !s->request_lens)
        return -1;
    s->requests[s->request_count] = r;
    s->request_lens[s->request_count++] = (size_t)len;
    return 0;
}

static int read_token_file(storm *s, const char *path, const char *file) {
    FILE *f = fopen(file, "r");
    if (!f) {
        perror(file);
        return -1;
    }
    char line[16384];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] && add_request(s, path, line) < 0) {
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return s->request_count > 0 ? 0 : -1;
}

static int open_one(storm *s) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("connect_storm: socket");
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&s->addr, sizeof s->addr) < 0 && errno != EINPROGRESS) {
        perror("connect_storm: connect");
        close(fd);
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)s->opened};
    if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        perror("connect_storm: epoll_ctl");
        close(fd);
        return -1;
    }
    s->fds[s->opened++] = fd;
    return 0;
}

/* The connection is writable (send the request) or readable (the answer). */
static void step(storm *s, uint32_t i, uint32_t events) {
    int fd = s->fds[i];
    if (events & EPOLLOUT) {
        const char *request = s->requests[i % (uint32_t)s->request_count];
        size_t len = s->request_lens[i % (uint32_t)s->request_count];
        if (write(fd, request, len) != (ssize_t)len) {
            s->refused++, s->answered++;
            epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, NULL);
            return;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
        epoll_ctl(s->ep, EPOLL_CTL_MOD, fd, &ev);
        return;
    }
    char buf[512];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n >= 12 && memcmp(buf, "HTTP/1.1 200", 12) == 0)
        s->accepted++;
    else
        s->refused++;
    s->answered++;
    epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, NULL); /* held open, no longer watched */
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: connect_storm PORT PATH N [TOKEN]\n");
        return 2;
    }
    storm s = {.n = atoi(argv[3])};
    s.addr.sin_family = AF_INET;
    s.addr.sin_port = htons((uint16_t)atoi(argv[1]));
    s.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = argc > 4 && argv[4][0] == '@' ? read_token_file(&s, argv[2], argv[4] + 1)
                                           : add_request(&s, argv[2], argc > 4 ? argv[4] : NULL);
    if (rc < 0 || s.n <= 0) {
        fprintf(stderr, "connect_storm: bad arguments\n");
        return 2;
    }
    s.fds = calloc((size_t)s.n, sizeof *s.fds);
    s.ep = epoll_create1(EPOLL_CLOEXEC);
    if (!s.fds || s.ep < 0) {
        perror("connect_storm: start");
        return 1;
    }
    double start = now_s();
    while (s.answered < s.n && now_s() - start < 120) {
        while (s.opened < s.n && s.opened - s.answered < IN_FLIGHT)
            if (open_one(&s) < 0)
                return 1;
        struct epoll_event evs[256];
        int k = epoll_wait(s.ep, evs, 256, 1000);
        for (int j = 0; j < k; j++)
            step(&s, evs[j].data.u32, evs[j].events);
    }
    double seconds = now_s() - start;
    printf("accepted=%d refused=%d seconds=%.3f per_second=%.0f\n", s.accepted, s.refused, seconds,
           s.accepted / seconds);
    for (int i = 0; i < s.opened; i++)
        close(s.fds[i]);
    return s.answered == s.n ? 0 : 1;
}
