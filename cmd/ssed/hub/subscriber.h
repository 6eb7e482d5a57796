/* A subscriber: the channels it follows, its queue of references to shared
 * events with a bound on what it may owe, history replayed a window at a
 * time as its socket drains, and the gap notice it is told when history
 * no longer covers its resume. Subscribers read history and channels; the
 * hub, above them, fans events out to them and gives them the callbacks
 * they need from it (subscriber_hooks).
 *
 * Ownership: a connection owns its subscriber (embedded); a subscriber
 * holds each channel it follows until subscriber_detach hands the holds
 * back (hooks.release), and a reference on each event in its queue. */
#ifndef SSED_SUBSCRIBER_H
#define SSED_SUBSCRIBER_H

#include <stddef.h>
#include <stdint.h>

#include "channel.h"
#include "history.h"
#include "latency.h"
#include "list.h"
#include "shared_event.h"

typedef struct subscriber subscriber;

/* A subscriber's place in one channel's list, and while it replays history,
 * the chan_seq of the next event of that channel it is owed. */
typedef struct sub_link {
    list_node node;
    channel *ch;
    subscriber *owner;
    uint64_t next_chan_seq;
    /* 1 + the seq of the event after a hole that the replay need not
     * announce (history_start.hole_told); 0: none. */
    uint64_t hole_told_seq1;
} sub_link;

/* A subscriber's view of its stream: the channels it follows (usually one,
 * kept inline) and a queue of references to shared events, the first
 * possibly partly written. Embedded in a connection.
 *
 * A new subscriber first replays history: it is owed a window of events at
 * a time, refilled as its socket drains (subscriber_replay_more), so
 * history of any length costs it at most a window of queue. Live events
 * skip it until it catches up (they are in history, where the replay finds
 * them); then it gets each live event as it is published.
 *
 * What it is sent of each event: the envelope (?envelope=1); otherwise,
 * following more than one channel, the tagged variant that names the
 * channel; otherwise the event itself. ssed's own notices and keep-alives
 * come from no channel, so are never tagged. */
struct subscriber {
    sub_link link0;
    sub_link *more_links; /* the second and later channels */
    size_t link_count;
    list_node dirty_link; /* on subscriber_set.dirty while it has unflushed events */
    shared_event **queue; /* a ring; q_cap is a power of two, so indexes are masked */
    size_t q_head, q_len, q_cap;
    size_t head_offset;   /* bytes of queue[q_head] already written */
    size_t pending_bytes; /* unwritten bytes in the queue */
    size_t held_bytes;    /* bytes its transport holds unsent, an HTTP/2 stream's
                           * frames: owed as much as the queue's */
    int replaying;        /* still catching up through history */
    int overflowed;       /* to be closed: too far behind, or out of memory */
    int envelope;         /* every event as type message, {"type","data"} (?envelope=1) */
    int finished;         /* takes no more events: its stream is ending (subscriber_finish) */
    int own_timeline;     /* gets no channel's events: it plays a recording of its own (replay.h) */
    uint64_t events_queued;
    /* The hub's next_seq when its replay caught up: events from this seq
     * on came live (a clock would tie with events of the same microsecond). */
    uint64_t live_from_seq;
};

/* What subscribers need from the hub above them. */
typedef struct subscriber_hooks {
    /* The seq where a replay stops: events from it on reach the subscriber
     * live (hub_first_held_seq). */
    uint64_t (*replay_end)(void *ctx);
    /* The subscriber let go of its hold on ch (subscriber_detach). */
    void (*release)(void *ctx, channel *ch);
    void *ctx;
} subscriber_hooks;

/* What all subscribers share; embedded in the hub (subscriber_set_init). */
typedef struct subscriber_set {
    list_node dirty;      /* subscribers with events to flush */
    size_t max_pending;   /* bytes a live subscriber may owe */
    uint64_t slow_drops;  /* subscribers dropped for owing more */
    history *history;     /* variants made for retained events count there */
    subscriber_hooks hooks;
    /* Allocation for growing queues; realloc, or a failing one in tests. */
    void *(*grow)(void *ptr, size_t size);
} subscriber_set;

void subscriber_set_init(subscriber_set *set, size_t max_pending, history *hist, const subscriber_hooks *hooks);

/* Follow these channels, taking over the caller's hold on each (all at
 * once: the links must not move later). */
int subscriber_attach(subscriber_set *set, subscriber *s, channel **channels, size_t count);
static inline channel *subscriber_channel(const subscriber *s) { return s->link_count ? s->link0.ch : NULL; }
/* "/news", or "/news +2 more" for a stream of several channels. */
void subscriber_stream_name(const subscriber *sub, char *out, size_t size);
static inline sub_link *subscriber_link(subscriber *s, size_t k) { return k == 0 ? &s->link0 : &s->more_links[k - 1]; }
/* Leave every channel, handing back the holds (hooks.release), and let go
 * of the queue. */
void subscriber_detach(subscriber_set *set, subscriber *s);
/* Put the subscriber on set.dirty (once), to be written at the next flush. */
void subscriber_mark_dirty(subscriber_set *set, subscriber *s);
/* Queue a live event; marks the subscriber dirty, or overflowed when what
 * it owes besides the event it is being written would pass max_pending (so
 * one event always fits, whatever its size). */
void subscriber_enqueue(subscriber_set *set, subscriber *s, shared_event *ev, const channel *from);
/* Queue an event the subscriber is owed whatever it already owes: history,
 * notices, keep-alives. Nothing once subscriber_finish has queued the last. */
void subscriber_enqueue_owed(subscriber_set *set, subscriber *s, shared_event *ev);
/* The stream ends with `last`: the subscriber takes no more events, its
 * replay stops, and of its queue only an event partly written is kept (a
 * stream must not end inside an event), with the events that hold its next
 * `promised` unwritten bytes (an HTTP/1.1 chunk whose size line is sent
 * must get every byte it announced). What it loses the client reads again
 * from history by Last-Event-ID. */
void subscriber_finish(subscriber_set *set, subscriber *s, size_t promised, shared_event *last);

/* Where a new subscriber starts in history (history_find_start): with a
 * Last-Event-ID (last_id != NULL), after that event in each of its
 * channels; otherwise the last `replay` events. Sets each link's position
 * and starts the replay. Each channel that no longer holds what followed
 * last_id gets a gap notice (subscriber_gap_notice), queued ahead of the
 * events, and on_gap (if not NULL) is told of it, to log it. */
void subscriber_resume(subscriber_set *set, subscriber *s, const char *last_id, size_t last_id_len, size_t replay,
                       void (*on_gap)(void *ctx, const channel *ch), void *ctx);
/* While replaying: queue the next window of history (about half of
 * max_pending, at least one event); ends the replay when caught up. */
void subscriber_replay_more(subscriber_set *set, subscriber *s);
/* Drop the first `written` bytes of the queue after a write (at now_us);
 * returns how many events were thereby written whole. Each of them that
 * was queued live is observed in `latency` (NULL: none is). */
size_t subscriber_consume(subscriber *s, size_t written, latency_histogram *latency, uint64_t now_us);

/* The one gap notice, for resumes and for the cluster's holes alike: an
 * event of type ssed-gap whose data is
 * {"last_event_id":ASKED,"oldest_retained_id":FIRST} and, when `ch` is not
 * NULL (a stream of several channels), "channel":"/NAME" after them.
 * ASKED is what the subscriber asked for (at most HUB_MAX_ID_LEN bytes of
 * it), FIRST the id of the first event of that channel still held, or
 * null (first == NULL). NULL if memory ran out: never half a notice. */
shared_event *subscriber_gap_notice(const char *asked, size_t asked_len, const char *first, size_t first_len,
                                    const channel *ch);

#endif
