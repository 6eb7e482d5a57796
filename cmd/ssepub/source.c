#include "source.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "interrupt.h"
#include "log.h"

/* A batch is sent when it holds this many events or bytes, or input idles. */
#define BATCH_MAX_EVENTS 10000
#define BATCH_MAX_BYTES (256 * 1024)
#define READ_CHUNK 65536

static void add_event(source *s, const char *type, size_t type_len, const char *id, size_t id_len, int has_id,
                      const char *data, size_t data_len, long long retry_ms) {
    sse_out_event ev = {type, type_len, id, id_len, has_id, data, data_len, retry_ms};
    int rc = batch_add(s->b, &ev, s->inputs);
    if (rc != SSE_ENCODE_OK) {
        /* Types and ids are checked at start or come from the parser, so
         * only memory can run out here. */
        log_error("event %llu not sent: %s", (unsigned long long)s->inputs, sse_encode_strerror(rc));
        s->too_large++;
    }
}

static void on_record(void *ctx, const char *rec, size_t len) {
    source *s = ctx;
    s->inputs++;
    const char *type = s->o->event_type;
    add_event(s, type, type ? strlen(type) : 0, NULL, 0, 0, rec, len, -1);
}

static void report_too_large(source *s, size_t bytes) {
    s->too_large++;
    log_error("%s %llu not sent: %zu bytes is more than --max-event-size %llu",
              s->o->mode == INPUT_SSE ? "event" : "record", (unsigned long long)s->inputs, bytes,
              (unsigned long long)s->o->max_event_size);
}

static void on_record_oversize(void *ctx, size_t bytes) {
    source *s = ctx;
    s->inputs++;
    report_too_large(s, bytes);
}

static void on_sse_event(void *ctx, const sse_event *ev) {
    source *s = ctx;
    s->inputs++;
    /* -e types the events that name none (the parser reports those as "message"). */
    int named = !(ev->type_len == 7 && memcmp(ev->type, "message", 7) == 0);
    const char *type = named ? ev->type : s->o->event_type;
    size_t type_len = named ? ev->type_len : (type ? strlen(type) : 0);
    add_event(s, type, type_len, ev->id, ev->id_len, ev->id_in_event, ev->data, ev->data_len, s->next_retry);
    s->next_retry = -1;
}

static void on_sse_retry(void *ctx, unsigned long long ms) {
    source *s = ctx;
    s->next_retry = sse_retry_clamp(ms);
}

static void on_sse_oversize(void *ctx, size_t bytes) {
    source *s = ctx;
    s->inputs++;
    report_too_large(s, bytes);
}

void source_init(source *s, const ssepub_options *o) {
    memset(s, 0, sizeof *s);
    s->o = o;
    s->next_retry = -1;
    record_reader_init(&s->records, o->null_separated ? '\0' : '\n', o->max_event_size, on_record,
                       on_record_oversize, s);
    sse_parser_handlers h = {on_sse_event, on_sse_retry, NULL, on_sse_oversize, s};
    sse_parser_init(&s->parser, o->max_event_size, &h);
}

void source_free(source *s) {
    record_reader_free(&s->records);
    sse_parser_free(&s->parser);
}

static void end_of_input(source *s) {
    s->ended = 1;
    if (s->o->mode == INPUT_SSE) {
        if (s->parser.data.len > 0 || s->parser.line.len > 0) {
            s->incomplete = 1;
            log_error("stdin ended inside an event (an event ends with a blank line); that event was not sent");
        }
        sse_parser_finish(&s->parser);
    } else {
        record_reader_finish(&s->records);
    }
}

/* read() from stdin that blocks only inside interrupt_wait, so a stop
 * signal always cuts it short, whenever it lands: -1 with errno EINTR then. */
static ssize_t read_stdin(char *chunk, size_t size) {
    for (;;) {
        enum interrupt_wait_result w = interrupt_wait(STDIN_FILENO, -1);
        if (w == WAIT_STOPPED)
            errno = EINTR;
        if (w == WAIT_STOPPED || w == WAIT_FAILED)
            return -1;
        if (w == WAIT_TIMEOUT)
            continue; /* another signal: nothing to do */
        ssize_t n = read(STDIN_FILENO, chunk, size);
        if (n >= 0 || (errno != EINTR && errno != EAGAIN))
            return n;
    }
}

/* All of stdin as one event, within --max-event-size. */
static void read_whole(source *s) {
    buf all = BUF_INIT;
    char chunk[READ_CHUNK];
    for (;;) {
        ssize_t n = read_stdin(chunk, sizeof chunk);
        if (n < 0) {
            log_error("read stdin: %s", strerror(errno));
            s->read_failed = 1;
            break;
        }
        if (n == 0)
            break;
        if (all.len + (size_t)n > s->o->max_event_size) {
            s->inputs = 1;
            report_too_large(s, all.len + (size_t)n);
            buf_free(&all);
            return;
        }
        if (buf_append(&all, chunk, (size_t)n) < 0) {
            log_error("read stdin: out of memory");
            s->read_failed = 1;
            break;
        }
    }
    if (!s->read_failed) {
        s->inputs = 1;
        const char *type = s->o->event_type;
        add_event(s, type, type ? strlen(type) : 0, s->o->id, s->o->id ? strlen(s->o->id) : 0, s->o->id != NULL,
                  all.data ? all.data : "", all.len, -1);
    }
    buf_free(&all);
}

enum source_state source_fill(source *s, batch *b) {
    s->b = b;
    if (s->ended)
        return SOURCE_ENDED;
    if (s->o->mode == INPUT_ARGS || s->o->mode == INPUT_WHOLE) {
        if (s->o->mode == INPUT_ARGS) {
            s->inputs = 1;
            const char *type = s->o->event_type;
            add_event(s, type, type ? strlen(type) : 0, s->o->id, s->o->id ? strlen(s->o->id) : 0,
                      s->o->id != NULL, s->o->message, strlen(s->o->message), -1);
        } else {
            read_whole(s);
        }
        s->ended = 1;
        return SOURCE_ENDED;
    }
    char chunk[READ_CHUNK];
    while (b->count < BATCH_MAX_EVENTS && b->body.len < BATCH_MAX_BYTES) {
        /* Wait for input only while there is nothing to send. Ctrl-C ends
         * the input: what was read is still sent. */
        enum interrupt_wait_result w = interrupt_wait(STDIN_FILENO, b->count ? 0 : -1);
        if (w == WAIT_FAILED) {
            log_error("poll stdin: %s", strerror(errno));
            s->read_failed = 1;
        }
        if (w == WAIT_STOPPED || w == WAIT_FAILED) {
            end_of_input(s);
            return SOURCE_ENDED;
        }
        if (w == WAIT_TIMEOUT)
            return SOURCE_BATCH_READY; /* input is idle: send what we have */
        ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0) {
            if (n < 0) {
                log_error("read stdin: %s", strerror(errno));
                s->read_failed = 1;
            }
            end_of_input(s);
            return SOURCE_ENDED;
        }
        if (s->o->mode == INPUT_SSE ? sse_parser_feed(&s->parser, chunk, (size_t)n) < 0
                                    : record_reader_feed(&s->records, chunk, (size_t)n) < 0) {
            log_error("read stdin: out of memory");
            s->read_failed = 1;
        }
    }
    return SOURCE_BATCH_READY;
}
