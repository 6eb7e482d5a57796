/* Events from stdin and a FIFO: each record (lines format) or each event of
 * an event stream (sse format) is encoded once and published to the input
 * channel. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input.h"

#include "log.h"

#define READ_CHUNK 65536

static void publish(input_source *in, const char *type, size_t type_len, const char *id, size_t id_len,
                    const char *data, size_t data_len, long long retry_ms) {
    const input_target *to = &in->to;
    sse_out_event ev = {type, type_len, id, id_len, id != NULL, data, data_len, retry_ms};
    int rc = to->emit ? to->emit(to->emit_ctx, in, &ev) : hub_publish_input_event(to->hub, to->channel, &ev);
    if (rc == HUB_EVENT_TOO_LARGE)
        (*to->oversized_records)++;
    if (rc != SSE_ENCODE_OK)
        log_warn("%s: skipped an event: %s", in->name, hub_strerror(rc));
}

static void report_oversized(input_source *in, size_t bytes) {
    (*in->to.oversized_records)++;
    log_warn("%s: skipped a record of %zu bytes: larger than --max-event-size %llu", in->name, bytes,
             (unsigned long long)in->to.opt->max_event_size);
}

static void publish_record(void *ctx, const char *rec, size_t len) {
    input_source *in = ctx;
    const char *type = in->to.opt->event_type;
    publish(in, type, type ? strlen(type) : 0, NULL, 0, rec, len, -1);
}

static void on_record_oversize(void *ctx, size_t bytes) { report_oversized(ctx, bytes); }

static void on_sse_event(void *ctx, const sse_event *ev) {
    input_source *in = ctx;
    publish(in, ev->type, ev->type_len, ev->id_in_event ? ev->id : NULL,
            ev->id_in_event ? ev->id_len : 0, ev->data, ev->data_len, in->next_retry);
    in->next_retry = -1;
}

static void on_sse_retry(void *ctx, unsigned long long ms) {
    input_source *in = ctx;
    in->next_retry = sse_retry_clamp(ms);
}

static void on_sse_oversize(void *ctx, size_t bytes) { report_oversized(ctx, bytes); }

static void flush(input_source *in) {
    if (in->to.flush)
        in->to.flush(in->to.emit_ctx, in);
}

static void input_end(input_source *in) {
    if (in->to.opt->format == INPUT_SSE)
        sse_parser_finish(&in->parser);
    else
        record_reader_finish(&in->records); /* a last line without newline counts */
    flush(in);
    input_close(in);
    log_verbose("%s: end of input; still serving", in->name);
    if (in->to.on_end)
        in->to.on_end(in->to.ctx);
}

/* Read one chunk; returns 0 at end of input or on error, 1 when it read
 * bytes, 2 when none were waiting. */
static int input_read(input_source *in) {
    char chunk[READ_CHUNK];
    ssize_t n = read(in->fd, chunk, sizeof chunk);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return 2;
        log_error("read %s: %s", in->name, strerror(errno));
        input_end(in);
        return 0;
    }
    if (n == 0) {
        input_end(in);
        return 0;
    }
    if (in->to.opt->format == INPUT_SSE) {
        if (sse_parser_feed(&in->parser, chunk, (size_t)n) < 0)
            log_error("%s: out of memory while parsing", in->name);
    } else if (record_reader_feed(&in->records, chunk, (size_t)n) < 0) {
        log_error("%s: out of memory; a record was dropped", in->name);
    }
    flush(in);
    return 1;
}

/* Read now? An input held by the intake gate waits on it (registered
 * here) until it opens. */
static int may_read(input_source *in) {
    return in->open && !in->paused && intake_gate_pass(in->to.gate, &in->gated);
}

/* Ask epoll for input only while the input would read it. Paused or
 * waiting, the descriptor is watched edge-triggered for nothing: a pipe
 * whose writer left reports its hang-up once, not on every wait. */
static void watch_input(input_source *in) {
    uint32_t events = in->paused || intake_waiting(&in->gated) ? LOOP_QUIET : LOOP_IN;
    if (!in->open || in->always_ready || in->armed == events)
        return;
    if (loop_modify(in->to.loop, in->fd, events, &in->watch) < 0) {
        log_error("%s: %s: %s", in->name, loop_backend, strerror(errno));
        return;
    }
    in->armed = events;
}

static void gate_opened(intake_waiter *w) { watch_input(list_entry(w, input_source, gated)); }

static void input_ready(loop_watch *w, uint32_t events) {
    (void)events;
    input_source *in = (input_source *)w;
    /* A few chunks per wake-up keeps a fast producer from starving clients;
     * none while the gate is closed (intake_gate.h). */
    for (int i = 0; i < 4 && may_read(in); i++)
        if (input_read(in) != 1)
            break;
    watch_input(in);
}

static int input_setup(input_source *in, const input_target *to, int fd, const char *name) {
    memset(in, 0, sizeof *in);
    in->watch.on_ready = input_ready;
    in->to = *to;
    in->fd = fd;
    in->name = name;
    in->open = 1;
    in->next_retry = -1;
    intake_waiter_init(&in->gated, INTAKE_ALL, gate_opened);
    sse_parser_handlers h = {on_sse_event, on_sse_retry, NULL, on_sse_oversize, in};
    sse_parser_init(&in->parser, to->opt->max_event_size, &h);
    record_reader_init(&in->records, to->opt->null_separated ? '\0' : '\n', to->opt->max_event_size,
                       publish_record, on_record_oversize, in);
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        log_error("%s: fcntl: %s", name, strerror(errno));
        return -1;
    }
    if (loop_add(to->loop, fd, LOOP_IN, &in->watch) < 0) {
        if (errno != EPERM) {
            log_error("%s: %s: %s", name, loop_backend, strerror(errno));
            return -1;
        }
        in->always_ready = 1; /* regular files are always readable */
    }
    in->armed = LOOP_IN;
    return 0;
}

int input_open_stdin(input_source *in, const input_target *to) { return input_setup(in, to, STDIN_FILENO, "stdin"); }

/* Open the FIFO at path (made if missing) for reading and writing, so it
 * never reports end of input when its writers come and go; -1 after
 * logging why. */
static int fifo_open(const char *path, mode_t mode, struct stat *opened) {
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno != ENOENT) {
            log_error("--fifo %s: %s", path, strerror(errno));
            return -1;
        }
        if (mkfifo(path, mode) < 0) {
            log_error("--fifo %s: mkfifo: %s", path, strerror(errno));
            return -1;
        }
    } else if (!S_ISFIFO(st.st_mode)) {
        log_error("--fifo %s: exists and is not a FIFO", path);
        return -1;
    }
    int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        log_error("--fifo %s: open: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, opened) < 0) {
        log_error("--fifo %s: fstat: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int input_open_fifo(input_source *in, const input_target *to, const char *path, mode_t mode) {
    struct stat st;
    int fd = fifo_open(path, mode, &st);
    if (fd < 0 || input_setup(in, to, fd, path) < 0)
        return -1;
    in->fifo_mode = mode;
    in->fifo_dev = st.st_dev;
    in->fifo_ino = st.st_ino;
    return 0;
}

/* Is the FIFO we read still the one at its path? */
static int fifo_still_there(const input_source *in) {
    struct stat st;
    return stat(in->name, &st) == 0 && st.st_dev == in->fifo_dev && st.st_ino == in->fifo_ino;
}

/* The FIFO was removed or replaced: writers now open another file and would
 * block or write into nothing. Read what the old one holds, then open the
 * one at the path (made again if missing). */
static void fifo_reopen(input_source *in) {
    for (int i = 0; i < 64 && in->open && input_read(in) == 1; i++)
        continue;
    struct stat st;
    int fd = fifo_open(in->name, in->fifo_mode, &st);
    if (fd < 0)
        return; /* logged; tried again at the next check */
    if (loop_add(in->to.loop, fd, in->armed, &in->watch) < 0) {
        log_error("%s: %s: %s", in->name, loop_backend, strerror(errno));
        close(fd);
        return;
    }
    loop_remove(in->to.loop, in->fd);
    close(in->fd);
    in->fd = fd;
    in->fifo_dev = st.st_dev;
    in->fifo_ino = st.st_ino;
    log_warn("fifo %s was removed or replaced; reading the one now at that path", in->name);
}

void input_check_fifo(input_source *in, uint64_t now_ms) {
    if (!in->open || in->paused || intake_gate_holds(in->to.gate, in->gated.reasons) || !in->fifo_ino || now_ms < in->fifo_checked_ms + INPUT_FIFO_CHECK_MS)
        return;
    in->fifo_checked_ms = now_ms;
    if (!fifo_still_there(in))
        fifo_reopen(in);
}

void input_pause(input_source *in, int paused) {
    if (!in->open || in->paused == paused)
        return;
    in->paused = paused;
    watch_input(in);
}

void input_poll_always_ready(input_source *in) {
    if (in->always_ready && may_read(in))
        input_read(in);
}

int input_wants_polling(const input_source *in) {
    return in->open && in->always_ready && !in->paused && !intake_waiting(&in->gated);
}

void input_close(input_source *in) {
    if (!in->open)
        return;
    in->open = 0;
    intake_gate_leave(&in->gated);
    if (!in->always_ready)
        loop_remove(in->to.loop, in->fd);
    if (in->fd != STDIN_FILENO)
        close(in->fd);
    record_reader_free(&in->records);
    sse_parser_free(&in->parser);
}
