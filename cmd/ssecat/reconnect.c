#include "reconnect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "clock.h"
#include "log.h"
#include "signals.h"
#include "stream.h"
#include "terminal.h"
#include "units.h"

#define WAIT_SLICE_MS 100

/* A stream open this long did its job even without an event (a quiet
 * channel that a proxy cuts after a while): the backoff starts again. */
#define HEALTHY_STREAM_MS 1000

uint64_t reconnect_delay_ms(uint64_t base, uint64_t max, unsigned attempt, uint32_t random) {
    if (attempt <= 1)
        return base;
    uint64_t ceiling = max > base ? max : base;
    if (ceiling < RECONNECT_FLOOR_MS)
        ceiling = RECONNECT_FLOOR_MS;
    uint64_t delay = base;
    for (unsigned i = 1; i < attempt && delay < ceiling; i++)
        delay = backoff_next_ms(delay, RECONNECT_FLOOR_MS, ceiling);
    delay = backoff_jitter_ms(delay, random);
    return delay < base ? base : delay;
}

/* Sleep `ms` in slices, watching for signals and the time limits. -1 when
 * the wait ran out, else the exit status to end with. */
static int wait_before_retry(uint64_t ms, limits *l) {
    uint64_t start = clock_now_ms();
    /* retry: may say "practically never" (up to 2^64-1 ms): saturate. */
    uint64_t end = ms > UINT64_MAX - start ? UINT64_MAX : start + ms;
    for (;;) {
        if (signals_stop_requested())
            return EXIT_OK;
        if (limits_expired(l, 1))
            return EXIT_TIMEOUT;
        uint64_t now = clock_now_ms();
        if (now >= end)
            return -1;
        uint64_t slice = end - now;
        int cap = limits_wait_ms(l, WAIT_SLICE_MS);
        if (slice > (uint64_t)cap)
            slice = (uint64_t)cap;
        struct timespec ts = {(time_t)(slice / 1000), (long)(slice % 1000) * 1000000L};
        if (nanosleep(&ts, NULL) < 0 && errno != EINTR) {
            log_error("nanosleep: %s", strerror(errno));
            return EXIT_RUNTIME;
        }
    }
}

static int exit_status_of(enum stream_end end) {
    switch (end) {
    case STREAM_DONE:
    case STREAM_INTERRUPTED:
        return EXIT_OK;
    case STREAM_TIMEOUT:
        return EXIT_TIMEOUT;
    case STREAM_REFUSED:
        return EXIT_HTTP;
    case STREAM_FAILED:
        return EXIT_RUNTIME;
    default:
        return -1;
    }
}

/* Where a run of reconnections stands. `failures` counts attempts in a row
 * that did not open a stream (for --max-retries, as documented); `attempt`
 * counts those since a stream last delivered an event or stayed open
 * HEALTHY_STREAM_MS, and sets the backoff, so a server that opens a stream
 * and hangs up at once is backed off from too, whatever its retry: says. */
typedef struct backoff {
    unsigned failures;
    unsigned attempt;
    unsigned seed;
} backoff;

static void backoff_note(backoff *b, int opened, int healthy) {
    b->failures = opened ? 1 : b->failures + 1;
    b->attempt = opened && healthy ? 1 : b->attempt + 1;
}

/* Report the coming reconnection and wait for it. -1 when it is time to
 * connect again, else the exit status to end with. */
static int announce_and_wait(const ssecat_options *o, const sse_parser *p, const sink *s, backoff *b,
                             const char *what, limits *l) {
    uint64_t base = s->has_retry ? s->retry_ms : o->retry_delay_ms;
    uint64_t delay = reconnect_delay_ms(base, o->max_delay_ms, b->attempt, (uint32_t)rand_r(&b->seed));
    char text[32];
    units_format_duration(text, sizeof text, delay);
    size_t id_len;
    const char *id = sse_parser_last_id(p, &id_len);
    if (id_len) {
        buf shown = BUF_INIT;
        log_info("%s; reconnecting in %s (attempt %u, Last-Event-ID: %s)", what, text, b->attempt,
                 terminal_stderr_text(&shown, id, id_len, 0));
        buf_free(&shown);
    } else
        log_info("%s; reconnecting in %s (attempt %u)", what, text, b->attempt);
    return wait_before_retry(delay, l);
}

/* A failure on the way to the first stream that waiting will not heal: a
 * name that does not resolve, a certificate that does not verify, and,
 * unless --retry-connrefused, a refused connection (a wrong port, more
 * often than a server about to start). Once a stream has worked, every
 * failure is retried, as EventSource does. The hint to end with, or NULL
 * to go on retrying. */
static const char *hopeless_at_first(const ssecat_options *o, enum http_failure failure) {
    if (failure == HTTP_FAILURE_REFUSED)
        return o->retry_connrefused ? NULL : "is the server running? --retry-connrefused waits for it";
    return http_client_failure_hint(failure);
}

static int give_up(const char *why, const char *hint) {
    if (hint)
        log_error("%s (%s)", why, hint);
    else
        log_error("%s", why);
    return EXIT_CONNECTION;
}

int reconnect_run(const ssecat_options *o, sse_parser *p, sink *s, limits *l) {
    backoff b = {0, 0, (unsigned)time(NULL) ^ (unsigned)getpid()};
    int worked = 0; /* a stream has opened */
    for (;;) {
        stream_outcome out;
        uint64_t events_before = s->received, started = clock_now_ms();
        if (s->rec)
            recorder_attempt(s->rec);
        enum stream_end end = stream_run(o, p, s, l, &out);
        if (s->rec && end == STREAM_NETWORK && !out.opened)
            recorder_error(s->rec, out.why);
        int healthy = s->received > events_before || clock_now_ms() - started >= HEALTHY_STREAM_MS;
        worked |= out.opened;
        /* An incomplete event at the end of a stream is dropped, as
         * browsers do; the last event ID is kept for Last-Event-ID. */
        sse_parser_finish(p);
        sink_stream_ended(s);
        if (sink_flush(s) < 0)
            return EXIT_RUNTIME;
        int status = exit_status_of(end);
        if (status >= 0)
            return status;
        if (!o->reconnect && end == STREAM_ENDED)
            return EXIT_OK;
        if (!o->reconnect) /* a refusal needs no word about waiting then */
            return give_up(out.why, http_client_failure_hint(out.failure));
        const char *hint = end == STREAM_NETWORK && !worked ? hopeless_at_first(o, out.failure) : NULL;
        if (hint)
            return give_up(out.why, hint);
        const char *what = end == STREAM_ENDED ? "stream ended" : out.why;
        backoff_note(&b, out.opened, healthy);
        if (o->max_retries >= 0 && b.failures > (uint64_t)o->max_retries) {
            log_error("%s; giving up after %llu reconnection attempt%s (--max-retries)", what,
                      (unsigned long long)o->max_retries, o->max_retries == 1 ? "" : "s");
            return EXIT_CONNECTION;
        }
        status = announce_and_wait(o, p, s, &b, what, l);
        if (status >= 0)
            return status;
    }
}
