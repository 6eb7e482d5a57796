/* Recording a stream (--record FILE, -o record): the events as the parser
 * dispatched them, with their arrival times, the response status and
 * headers and the reconnects in comment lines, so the recording is itself
 * an event stream (format version 1, described in ssecat(1), RECORDING).
 *
 * Blocks are formatted into a buffer as the parser reports them and written
 * by recorder_flush, which the sink calls before it prints the events of the
 * same read: whatever ends ssecat, the file holds every event it printed,
 * each block whole. Never written: the request's headers, credentials in
 * the URL, and the response headers Authorization, Proxy-Authorization,
 * Cookie and Set-Cookie. */
#ifndef SSECAT_RECORD_H
#define SSECAT_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sse_parser.h"

typedef struct recorder {
    int fd;           /* the file, or standard output for -o record */
    const char *name; /* for messages: the file's name, or "standard output" */
    int to_stdout;
    int terminal;      /* -o record on a terminal: network text neutralised, as every format does */
    int comments;      /* --comments: record comment lines too */
    uint64_t start_us; /* monotonic clock at the start: times are relative to it */
    uint64_t last_ms;  /* the time last written: times never go back */
    buf pending;       /* whole blocks not yet written */
    buf headers;       /* header= lines of the response being read */
    unsigned attempts; /* connections tried: the second and later are reconnects */
    unsigned long long retry_ms;
    int retry_pending; /* a retry field in the block being read */
    int failed;        /* a write failed (reported) or memory ran out: write no more */
    int gone;          /* -o record's reader went away (a closed pipe) */
} recorder;

/* Open `path` (created with mode 0600, truncated), or standard output when
 * path is NULL, and write the leading lines for a recording of `url`. 0, or
 * -1 after reporting why. Call recorder_close whatever it returns. */
int recorder_open(recorder *r, const char *path, const char *url, int comments);
void recorder_close(recorder *r);

/* A connection is about to be tried. */
void recorder_attempt(recorder *r);
/* A line of the response's head as libcurl gives it, line ends removed: a
 * status line starts a new response (a redirect's or an interim one's are
 * forgotten), other lines are its headers. */
void recorder_header_line(recorder *r, const char *line, size_t len);
/* The response opened the stream with HTTP status `status`: its status and
 * headers, after a reconnect mark on a connection other than the first. */
void recorder_opened(recorder *r, long status);
/* An attempt that got no stream failed: `why`. */
void recorder_error(recorder *r, const char *why);

/* What the parser reported (comments are recorded only with --comments;
 * `text` is the comment after its colon, exactly). */
void recorder_event(recorder *r, const sse_event *ev);
void recorder_retry(recorder *r, unsigned long long ms);
void recorder_comment(recorder *r, const char *text, size_t len);
void recorder_blank_line(recorder *r);
/* The stream ended: a retry of a block cut off is still recorded, since it
 * took effect when it arrived. */
void recorder_stream_ended(recorder *r);

/* Write the pending blocks. 0; 1 when -o record's reader went away (the
 * run ends quietly); -1 after reporting a write error with the file name. */
int recorder_flush(recorder *r);
/* A clean end: "end=REASON" as the last line, written at once. */
void recorder_end(recorder *r, const char *reason);

#endif
