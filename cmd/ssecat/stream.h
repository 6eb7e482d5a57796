/* One HTTP request for an event stream, through libcurl: the response is
 * checked as EventSource checks it (status 200, text/event-stream), and the
 * body goes through the parser to the sink as it arrives. */
#ifndef SSECAT_STREAM_H
#define SSECAT_STREAM_H

#include <stddef.h>

#include "http_client.h"
#include "limits.h"
#include "options.h"
#include "sink.h"
#include "sse_parser.h"

enum stream_end {
    STREAM_ENDED,       /* the open stream ended cleanly */
    STREAM_NETWORK,     /* connecting or reading failed; `why` says how */
    STREAM_REFUSED,     /* wrong status or content type; already reported */
    STREAM_DONE,        /* -n or --until reached */
    STREAM_TIMEOUT,     /* --idle-timeout or --max-time; already reported */
    STREAM_INTERRUPTED, /* Ctrl-C or SIGTERM */
    STREAM_FAILED,      /* a local failure (memory, output); already reported */
};

/* What one request left to decide on beyond how it ended. */
typedef struct stream_outcome {
    int opened;                /* the stream opened (reconnecting starts again from the plain reconnection time) */
    enum http_failure failure; /* STREAM_NETWORK: whether waiting can heal it */
    char why[768];             /* STREAM_NETWORK: "connect URL: Connection refused" */
} stream_outcome;

/* Make one request to o->url, sending the parser's last event ID as
 * Last-Event-ID. */
enum stream_end stream_run(const ssecat_options *o, sse_parser *p, sink *s, limits *l, stream_outcome *out);

#endif
