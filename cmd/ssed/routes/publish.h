/* Publishing over HTTP: a POST body turned into events as each one is
 * complete, whatever the body's framing (Content-Length or chunked) and type
 * (text/plain lines, an event stream, or one JSON document). */
#ifndef SSED_PUBLISH_H
#define SSED_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "chunked.h"
#include "cluster_message.h"
#include "dedup.h"
#include "hub.h"
#include "record_reader.h"
#include "sse_parser.h"

enum body_kind { BODY_LINES, BODY_SSE, BODY_WHOLE };

typedef struct publish_request {
    hub *hub;
    channel *ch; /* held from publish_start until publish_free */
    size_t max_event_size;
    enum body_kind kind;
    int chunked;
    chunked_decoder chunks;
    uint64_t remaining; /* Content-Length bytes still to come */
    record_reader lines; /* text/plain: one event per line */
    buf record;          /* whole: the body so far */
    /* whole: what the body must be (one JSON document), checked when it is
     * complete; 0, or -1 with a message in why (400), or
     * PUBLISH_CHECK_NO_MEMORY (503). NULL: anything. */
    int (*check_whole)(const char *body, size_t len, char *why, size_t why_size);
    sse_parser parser;
    char type[256];
    size_t type_len;
    char id[1024];
    size_t id_len;
    int has_id; /* an id from the request: for its first event */
    long long next_retry;
    uint64_t accepted;
    dedup_table *dedup;  /* set when the publisher numbers its events */
    uint64_t session;
    uint64_t seq;        /* number of the next event in the body */
    uint64_t duplicates; /* events skipped as already published */
    /* With --store: events of this request known to be committed, and the
     * newest event held back for the store when the last of the others was
     * taken (a reference; NULL: nothing was held, all is committed). A
     * commit or a withdrawal decides every held event at once, so that
     * one's fate is theirs (publish_store_outcome). */
    uint64_t committed;
    shared_event *held;
    int status; /* 0 while fine; else the HTTP status to answer */
    char error[200];
    /* In a cluster: the events collected for one script call, sent when
     * the body ends (NULL: published to the hub as they come). Numbered
     * publishers are deduplicated by the script, not by `dedup`. */
    cluster_batch *batch;
    int numbered;
    struct publish_answer *answer; /* while the cluster's answer is awaited */
} publish_request;

/* The most a POST may carry to a cluster, gathered before it is sent. */
#define PUBLISH_CLUSTER_MAX_BYTES (64u << 20)

enum { PUBLISH_MORE = 0, PUBLISH_DONE = 1, PUBLISH_FAILED = -1 };

/* What check_whole returns when memory ran out, not the body was wrong. */
#define PUBLISH_CHECK_NO_MEMORY (-2)

/* Takes over the caller's hold on ch, released by publish_free; on failure
 * (NULL, out of memory) the caller still holds it. */
publish_request *publish_start(hub *h, channel *ch, size_t max_event_size, enum body_kind kind, int chunked,
                               uint64_t content_length);
/* With --store: what became of the events taken since the last look. 0,
 * or -1 when the store could not keep them (they were withdrawn: the
 * request is failed with 503, and only `committed` were taken). */
int publish_store_outcome(publish_request *p);
/* Feed raw body bytes; *consumed says how many were part of this body. */
int publish_feed(publish_request *p, const char *bytes, size_t len, size_t *consumed);
void publish_free(publish_request *p);

#endif
