#include "sink.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

void sink_init(sink *s, const ssecat_options *o) {
    memset(s, 0, sizeof *s);
    s->opts = o;
    output_init(&s->out, &o->output);
    s->needs_time = output_needs_time(&s->out);
    s->until_len = o->until ? strlen(o->until) : 0;
}

/* When the chunk being parsed was received; zero when the format does not
 * show it. Events parsed from one read share it. */
static void receive_time(sink *s, struct timespec *now) {
    now->tv_sec = now->tv_nsec = 0;
    if (!s->needs_time)
        return;
    if (!s->chunk_time_known) {
        if (clock_gettime(CLOCK_REALTIME, &s->chunk_time) < 0)
            s->chunk_time.tv_sec = s->chunk_time.tv_nsec = 0;
        s->chunk_time_known = 1;
    }
    *now = s->chunk_time;
}

static int selected(const sink *s, const sse_event *ev) {
    if (s->opts->event_type_count == 0)
        return 1;
    for (size_t i = 0; i < s->opts->event_type_count; i++) {
        const char *t = s->opts->event_types[i];
        if (strlen(t) == ev->type_len && memcmp(t, ev->type, ev->type_len) == 0)
            return 1;
    }
    return 0;
}

static void note_oom(sink *s) {
    if (!s->failed)
        log_error("out of memory formatting an event");
    s->failed = 1;
}

/* Whether ev is --until's event. It ends the stream and, being a
 * terminator such as [DONE] rather than data, is not printed unless
 * --until-inclusive asks: `ssecat -o data --until '[DONE]' | jq` works. */
static int is_until(const sink *s, const sse_event *ev) {
    const char *until = s->opts->until;
    return until && s->until_len == ev->data_len && memcmp(until, ev->data, ev->data_len) == 0;
}

static void show_event(sink *s, const sse_event *ev) {
    if (s->done || s->failed || !selected(s, ev))
        return;
    int last = is_until(s, ev);
    if (last && !s->opts->until_inclusive) {
        s->done = 1;
        return;
    }
    struct timespec now;
    receive_time(s, &now);
    const char *channel = s->channel.len ? s->channel.data : NULL;
    if (output_event(&s->out, &s->pending, ev, channel, s->channel.len, &now) < 0) {
        note_oom(s);
        return;
    }
    s->printed++;
    if (last || (s->opts->count && s->printed >= s->opts->count))
        s->done = 1;
}

static void on_event(void *ctx, const sse_event *ev) {
    sink *s = ctx;
    s->received++;
    if (s->rec && !s->done && !s->failed)
        recorder_event(s->rec, ev);
    show_event(s, ev);
    buf_clear(&s->channel); /* it named this event only */
}

/* ssed names the channel of the event that follows, on a stream of several
 * channels, in a comment every other client ignores: ": ssed-channel /NAME"
 * ("/" alone is the root channel). */
static void note_channel(sink *s, const char *text, size_t len) {
    static const char tag[] = "ssed-channel /";
    size_t name_at = sizeof tag - 2; /* the slash is kept: "/NAME" */
    if (len < sizeof tag - 1 || memcmp(text, tag, sizeof tag - 1) != 0)
        return;
    buf_clear(&s->channel);
    if (buf_append(&s->channel, text + name_at, len - name_at) < 0)
        note_oom(s);
}

static void on_retry(void *ctx, unsigned long long ms) {
    sink *s = ctx;
    s->retry_ms = ms;
    s->has_retry = 1;
    if (s->done || s->failed)
        return;
    if (s->rec)
        recorder_retry(s->rec, ms);
    struct timespec now;
    receive_time(s, &now);
    if (output_retry(&s->out, &s->pending, ms, &now) < 0)
        note_oom(s);
}

static void on_comment(void *ctx, const char *text, size_t len) {
    sink *s = ctx;
    if (s->rec) {
        /* The parser kept the leading space for the recording: the rest
         * of ssecat shows the comment without it. */
        if (!s->done && !s->failed)
            recorder_comment(s->rec, text, len);
        if (len > 0 && text[0] == ' ')
            text++, len--;
    }
    note_channel(s, text, len);
    if (s->done || s->failed || !s->opts->output.comments)
        return;
    struct timespec now;
    receive_time(s, &now);
    if (output_comment(&s->out, &s->pending, text, len, &now) < 0)
        note_oom(s);
}

static void on_oversize(void *ctx, size_t bytes) {
    sink *s = ctx;
    buf_clear(&s->channel); /* it named the event dropped */
    log_warn("dropped an event of %zu bytes or more (over --max-event-size %llu)", bytes,
             (unsigned long long)s->opts->max_event_size);
}

void sink_on_blank_line(void *ctx) {
    sink *s = ctx;
    if (s->rec && !s->done && !s->failed)
        recorder_blank_line(s->rec);
}

sse_parser_handlers sink_handlers(sink *s) {
    sse_parser_handlers h = {on_event, on_retry, on_comment, on_oversize, s};
    return h;
}

int sink_flush(sink *s) {
    s->chunk_time_known = 0; /* the next chunk is a later read */
    /* The recording first: what is printed is in the file already. */
    int recorded = s->rec ? recorder_flush(s->rec) : 0;
    if (recorded != 0) {
        buf_clear(&s->pending);
        s->done |= recorded > 0;
        s->failed |= recorded < 0;
        return recorded < 0 ? -1 : 0;
    }
    size_t pos = 0;
    while (pos < s->pending.len) {
        ssize_t n = write(STDOUT_FILENO, s->pending.data + pos, s->pending.len - pos);
        if (n > 0) {
            pos += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            /* stdout was left non-blocking by whoever started us. */
            struct pollfd pfd = {STDOUT_FILENO, POLLOUT, 0};
            if (poll(&pfd, 1, -1) >= 0 || errno == EINTR)
                continue;
        }
        buf_clear(&s->pending);
        if (errno == EPIPE) {
            s->done = 1;
            return 0;
        }
        log_error("write to standard output: %s", strerror(errno));
        s->failed = 1;
        return -1;
    }
    buf_clear(&s->pending);
    return s->failed ? -1 : 0;
}

void sink_stream_ended(sink *s) {
    buf_clear(&s->channel);
    if (s->rec && !s->done && !s->failed)
        recorder_stream_ended(s->rec);
}

void sink_free(sink *s) {
    output_free(&s->out);
    buf_free(&s->channel);
    buf_free(&s->pending);
}
