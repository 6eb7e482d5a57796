#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "options.h"
#include "signals.h"

/* Large reads keep a 200 MB capture parse-bound rather than syscall-bound. */
#define INPUT_CHUNK (256 * 1024)
/* How long a wait may go without looking at the signal flag. */
#define INPUT_POLL_CAP_MS 250

/* Wait until `fd` is readable, a limit passes or a signal arrives. */
static int wait_readable(int fd, limits *l) {
    for (;;) {
        if (signals_stop_requested())
            return EXIT_OK;
        if (limits_expired(l, 1))
            return EXIT_TIMEOUT;
        struct pollfd pfd = {fd, POLLIN, 0};
        int n = poll(&pfd, 1, limits_wait_ms(l, INPUT_POLL_CAP_MS));
        if (n > 0)
            return -1;
        if (n < 0 && errno != EINTR) {
            log_error("poll: %s", strerror(errno));
            return EXIT_RUNTIME;
        }
    }
}

static int read_all(int fd, const char *name, char *chunk, sse_parser *p, sink *s, limits *l) {
    for (;;) {
        int rc = wait_readable(fd, l);
        if (rc >= 0)
            return rc;
        ssize_t n = read(fd, chunk, INPUT_CHUNK);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            log_error("read %s: %s", name, strerror(errno));
            return EXIT_RUNTIME;
        }
        if (n == 0) {
            sse_parser_finish(p); /* an incomplete last event is dropped, as browsers do */
            sink_stream_ended(s);
            return sink_flush(s) < 0 ? EXIT_RUNTIME : EXIT_OK;
        }
        limits_touch(l);
        if (sse_parser_feed(p, chunk, (size_t)n) < 0) {
            log_error("out of memory parsing %s", name);
            return EXIT_RUNTIME;
        }
        if (sink_flush(s) < 0)
            return EXIT_RUNTIME;
        if (s->done)
            return EXIT_OK;
    }
}

int input_run(const char *path, sse_parser *p, sink *s, limits *l) {
    int is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "standard input" : path;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        log_error("%s: %s", path, strerror(errno));
        return EXIT_RUNTIME;
    }
    char *chunk = malloc(INPUT_CHUNK);
    int rc = EXIT_RUNTIME;
    if (chunk)
        rc = read_all(fd, name, chunk, p, s, l);
    else
        log_error("out of memory");
    free(chunk);
    if (!is_stdin && close(fd) < 0 && rc == EXIT_OK) {
        log_error("close %s: %s", path, strerror(errno));
        rc = EXIT_RUNTIME;
    }
    return rc;
}
