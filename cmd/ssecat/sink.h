/* Where parsed events go: the selection (-e), the stopping rules (-n,
 * --until), the output format, and writing to stdout. Both inputs (a URL, or
 * a captured stream) feed one parser whose handlers are these. */
#ifndef SSECAT_SINK_H
#define SSECAT_SINK_H

#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "options.h"
#include "output.h"
#include "record.h"
#include "sse_parser.h"

typedef struct sink {
    const ssecat_options *opts;
    recorder *rec; /* --record or -o record; NULL when not recording */
    output out;
    buf pending;        /* formatted, not yet written */
    uint64_t printed;   /* events shown, for -n */
    uint64_t received;  /* events dispatched, shown or not: a stream that
                         * delivers one ends a run of failed reconnections */
    int done;           /* -n or --until reached, or the reader went away: stop reading */
    int failed;         /* the output could not be written, or memory ran out */
    /* The channel ssed named for the next event (": ssed-channel /NAME"
     * on a stream of several channels), "/NAME"; empty when none. It names
     * that event only: cleared when an event is dispatched or dropped, and
     * when the stream ends. */
    buf channel;
    unsigned long long retry_ms; /* the reconnection time the server asked for */
    int has_retry;
    /* Worked out once, not per event: */
    int needs_time;   /* the format shows when an event arrived */
    size_t until_len; /* strlen of --until */
    /* The receive time of the chunk being parsed: read at its first event
     * and forgotten at sink_flush, so the clock is read once a read, not
     * once an event (a captured stream is a few events a microsecond). */
    struct timespec chunk_time;
    int chunk_time_known;
} sink;

void sink_init(sink *s, const ssecat_options *o);
sse_parser_handlers sink_handlers(sink *s);
/* When recording: the parser's blank-line report (sse_parser_record_blocks),
 * which also hands comments over with their leading space. */
void sink_on_blank_line(void *ctx);
/* Write the recording's pending blocks, then what is pending to stdout. Called after each parsed chunk, so an
 * event is out before ssecat waits for more input. A closed pipe (the
 * reader, e.g. head, went away) ends the run quietly; any other write error
 * is reported and ends it with a failure. 0, or -1 on failure. */
int sink_flush(sink *s);
/* One stream ended (ssecat reconnects, or the input ends): a channel named
 * for an event that never came does not carry over to the next stream. */
void sink_stream_ended(sink *s);
void sink_free(sink *s);

#endif
