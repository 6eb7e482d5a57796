/* Events from stdin and a FIFO, published to the input channel: each record
 * (lines format) or each event of an event stream (sse format). */
#ifndef SSED_INPUT_H
#define SSED_INPUT_H

#include <stdint.h>
#include <sys/types.h>

#include "hub.h"
#include "intake_gate.h"
#include "loop.h"
#include "options.h"
#include "record_reader.h"
#include "sse_parser.h"

typedef struct input_source input_source;

/* Where an input's events go, and what it tells when it ends; given by the
 * server at open. */
typedef struct input_target {
    loop *loop;
    hub *hub;
    intake_gate *gate; /* the input reads only while it is open (for any reason) */
    channel *channel; /* held by the caller while the input is open */
    const ssed_options *opt;
    uint64_t *oversized_records; /* counted here */
    void (*on_end)(void *ctx);   /* end of input, or NULL */
    void *ctx;
    /* In a cluster: each event is handed to emit (an SSE_ENCODE_ or HUB_
     * code) instead of the hub, and flush is called after each read and
     * at the end, so one read's events go to Redis together. NULL: the
     * hub directly. */
    int (*emit)(void *ctx, struct input_source *in, const sse_out_event *ev);
    void (*flush)(void *ctx, struct input_source *in);
    void *emit_ctx;
} input_target;

struct input_source {
    loop_watch watch;
    input_target to;
    int fd;
    const char *name;
    int always_ready; /* a regular file or /dev/null: epoll cannot watch it */
    int open;
    int paused;       /* for this input alone: a cluster batch in flight */
    intake_waiter gated; /* on the gate while it holds this input */
    uint32_t armed;      /* the events asked of epoll */
    record_reader records; /* lines format */
    sse_parser parser;   /* sse format */
    long long next_retry; /* sse format: a retry field for the next event */
    mode_t fifo_mode;     /* a FIFO: its mode, and which file we have open */
    dev_t fifo_dev;
    ino_t fifo_ino;
    uint64_t fifo_checked_ms;
};

/* Open and watch; -1 after logging why. */
int input_open_stdin(input_source *in, const input_target *to);
int input_open_fifo(input_source *in, const input_target *to, const char *path, mode_t mode);
/* Read an input epoll cannot watch (a regular file, /dev/null). */
void input_poll_always_ready(input_source *in);
/* Would input_poll_always_ready read now (the loop must not sleep)? */
int input_wants_polling(const input_source *in);
/* How often ssed checks that a FIFO input is still the file at its path. */
#define INPUT_FIFO_CHECK_MS 1000
/* Reopen a FIFO that was removed or replaced, at most every
 * INPUT_FIFO_CHECK_MS. */
void input_check_fifo(input_source *in, uint64_t now_ms);
/* Stop reading (paused != 0) or read again, for a reason of this input
 * alone (reasons shared by all inputs are the gate's); what the source
 * holds waits in the pipe meanwhile, so a writer blocks instead of losing
 * events. */
void input_pause(input_source *in, int paused);
void input_close(input_source *in);

#endif
