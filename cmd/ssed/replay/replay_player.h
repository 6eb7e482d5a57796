/* A recording played on a timeline: items read from a file or stdin
 * (replay_reader.h) are handed to a sink when their time comes, at a
 * speed, from an offset, once or in a loop. Whoever owns the player asks
 * it when its next item is due (replay_player_due_ms: the loop's timeout)
 * and steps it; nothing sleeps. The shared timeline (replay.h) and each
 * per-request timeline (replay_stream.h) are players with different sinks.
 *
 * Memory: the player reads a chunk only when it holds no item, so it
 * holds at most one chunk's items and one event of --max-event-size.
 * Lifetime: embedded in its owner; replay_player_close before freeing. */
#ifndef SSED_REPLAY_PLAYER_H
#define SSED_REPLAY_PLAYER_H

#include <stddef.h>
#include <stdint.h>

#include "list.h"
#include "loop.h"
#include "replay_reader.h"

enum { REPLAY_SENT = 0, REPLAY_HELD = 1 };

typedef struct replay_sink {
    /* Deliver an item: REPLAY_SENT, or REPLAY_HELD when it cannot be taken
     * now (the intake gate, a slow client): it is offered again once
     * replay_player_unblock is called or, when wakes is 0, at the next
     * step after REPLAY_POLL_MS. */
    int (*deliver)(void *ctx, const replay_item *it);
    /* The recording ended (without --loop). */
    void (*ended)(void *ctx);
    /* Reading failed (why says what, with the file's name): the player
     * stops. status: 2 when the input is not a recording, 1 otherwise. */
    void (*failed)(void *ctx, const char *why, int status);
    void *ctx;
    int wakes; /* the sink calls replay_player_unblock when it can take more */
} replay_sink;

#define REPLAY_POLL_MS 5

typedef struct replay_settings {
    const char *path; /* "-": stdin */
    double speed;     /* 0: max */
    int loop;
    uint64_t from_ms;
    size_t max_event_size;
} replay_settings;

typedef struct replay_queued replay_queued;

typedef struct replay_player {
    loop_watch watch;
    list_node link;   /* a per-request player: on srv->replay_streams (replay.h);
                       * the owner's, kept by replay_player_open */
    loop *loop;
    replay_settings set;
    replay_sink sink;
    replay_reader reader;
    int fd;
    int pollable;     /* watched by the loop (stdin, a pipe); else read when needed */
    int armed;        /* LOOP_IN asked for */
    int at_eof;       /* the input ended: what is queued is the rest of this pass */
    int held;         /* the sink held the first item back */
    int done;         /* ended or failed: nothing more */
    uint64_t base_ms; /* when this pass's from_ms is due */
    uint64_t held_ms; /* when the sink held it */
    replay_queued *head, *tail;
    uint64_t oversized;
} replay_player;

/* Open the recording and check its first line (a file: now; stdin: as it
 * comes). 0; -1 when it cannot be opened (exit 1), -2 when it is not a
 * recording (exit 2), with a message naming the file in err. */
int replay_player_open(replay_player *p, loop *l, const replay_settings *s, const replay_sink *sink, uint64_t now_ms,
                       char *err, size_t errlen);
/* Milliseconds until the player has something to do: 0 now, -1 nothing
 * until its input or its sink says. */
int replay_player_due_ms(const replay_player *p, uint64_t now_ms);
/* Deliver what is due (a bounded number per call) and read on. */
void replay_player_step(replay_player *p, uint64_t now_ms);
/* The sink can take items again. */
static inline void replay_player_unblock(replay_player *p) { p->held = 0; }
void replay_player_close(replay_player *p);

#endif
