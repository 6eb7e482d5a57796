/* Turning parsed events, comments and retry values into ssecat's output
 * formats. Pure formatting into a buffer: no I/O and no clock, so it can be
 * tested and fuzzed on its own. */
#ifndef SSECAT_OUTPUT_H
#define SSECAT_OUTPUT_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "sse_parser.h"

enum output_format {
    OUTPUT_DATA,     /* each event's data and a newline */
    OUTPUT_JSON,     /* JSON Lines; the keys are documented in ssecat(1) */
    OUTPUT_SSE,      /* a clean event stream again */
    OUTPUT_PRETTY,   /* for people */
    OUTPUT_TEMPLATE, /* -F */
    OUTPUT_RECORD,   /* -o record: nothing here; the recorder writes stdout */
};

typedef struct output_config {
    enum output_format format;
    const char *template; /* -F, checked by output_check_template */
    int comments;         /* show comments and retry values */
    int timestamps;       /* add the receive time */
    int color;            /* pretty only; decided once from the terminal, NO_COLOR and --no-color */
    int pretty_json;      /* pretty only: indent data that is JSON */
    int terminal;         /* stdout is a terminal: text from the network has its controls neutralised */
} output_config;

typedef struct output {
    output_config cfg;
    /* sse: the id the downstream client holds, so an id that changed
     * without an event (an "id:" alone) is still passed on. */
    buf sse_id;
    int sse_id_known;
    /* The receive time as last formatted ("2024-05-01T12:00:00.123Z"):
     * gmtime and printf once a second, the milliseconds once a millisecond,
     * and for the many events of one read, which share a time, a copy. */
    time_t iso_second;
    long iso_ms;        /* the milliseconds in iso_text; -1: not written yet */
    size_t iso_len;     /* 0: none formatted yet */
    char iso_text[80];
} output;

void output_init(output *o, const output_config *cfg);
void output_free(output *o);

/* Whether the output shows the receive time; if not, callers may pass any
 * time and skip reading the clock per event. */
int output_needs_time(const output *o);

/* Check a -F template: every %-placeholder and \-escape known.
 * 0, or -1 with a message in err. */
int output_check_template(const char *template, char *err, size_t errlen);

/* Append one dispatched event / comment / retry value as the format wants;
 * `now` is the receive time. `channel` is the channel ssed named for the
 * event ("/NAME", from a ": ssed-channel /NAME" comment), NULL when none:
 * json, pretty and -F's %j show it. Comments and retry values are appended
 * only when cfg.comments is set. 0, or -1 when memory ran out. */
int output_event(output *o, buf *out, const sse_event *ev, const char *channel, size_t channel_len,
                 const struct timespec *now);
int output_comment(output *o, buf *out, const char *text, size_t len, const struct timespec *now);
int output_retry(output *o, buf *out, unsigned long long ms, const struct timespec *now);

#endif
