/* The hub: channels, their history, and fan-out. An event is encoded once
 * into a shared_event; history and every subscriber's queue hold references
 * to those same bytes, so memory grows with events retained, not with
 * events times subscribers.
 *
 * Who owns what:
 * - A shared_event is freed when its last reference goes: one per history
 *   slot, one per subscriber queue slot, one held by whoever is publishing
 *   it until hub_publish returns. Its variants (envelope, tagged) are
 *   shared_events too, held by the event and by the queue slots that hold
 *   them; a queue slot holds the variant it sends, not the event.
 * - A channel is held by every subscriber link, every publisher whose body
 *   is in progress, and the input that feeds it (hub_channel_acquire /
 *   hub_channel_release); its history keeps it too. It is freed only when
 *   nothing holds it and its history is empty, so a holder's pointer is
 *   always valid until it releases it.
 * - The hub owns the channels; a connection owns its subscriber (embedded)
 *   and its publish request. */
#ifndef SSED_HUB_H
#define SSED_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "intake_gate.h"
#include "latency.h"
#include "list.h"
#include "shared_event.h"
#include "sse_encode.h"

typedef struct channel channel;

typedef struct subscriber subscriber;

/* A subscriber's place in one channel's list, and while it replays history,
 * the chan_seq of the next event of that channel it is owed. */
typedef struct sub_link {
    list_node node;
    channel *ch;
    subscriber *owner;
    uint64_t next_chan_seq;
} sub_link;

/* A subscriber's view of its stream: the channels it follows (usually one,
 * kept inline) and a queue of references to shared events, the first
 * possibly partly written. Embedded in a connection.
 *
 * A new subscriber first replays history: it is owed a window of events at
 * a time, refilled as its socket drains (hub_replay_more), so history of
 * any length costs it at most a window of queue. Live events skip it until
 * it catches up (they are in history, where the replay finds them); then it
 * gets each live event as it is published.
 *
 * What it is sent of each event: the envelope (?envelope=1); otherwise,
 * following more than one channel, the tagged variant that names the
 * channel; otherwise the event itself. ssed's own notices and keep-alives
 * come from no channel, so are never tagged. */
struct subscriber {
    sub_link link0;
    sub_link *more_links; /* the second and later channels */
    size_t link_count;
    list_node dirty_link; /* on hub.dirty while it has unflushed events */
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
    uint64_t events_queued;
    /* The hub's next_seq when its replay caught up: events from this seq
     * on came live (a clock would tie with events of the same microsecond). */
    uint64_t live_from_seq;
};

struct channel {
    char *name;
    size_t name_len;
    channel *hash_next;
    shared_event **ring; /* history, oldest at ring_head */
    size_t ring_cap, ring_head, ring_len;
    list_node subscribers;
    size_t subscriber_count;
    uint32_t holders;  /* subscriber links, publishers, inputs */
    int waiting;       /* created by a subscriber; nothing published yet */
    uint64_t events_in, events_out;
    int evicted_any;           /* events of it are no longer retained */
    uint64_t last_evicted_seq; /* seq of the newest event evicted */
    int last_evicted_is_number;
    uint64_t last_evicted_number;
    uint64_t journal_id; /* its number in the journal (--store); 0: none yet */
};

typedef struct hub_stats {
    uint64_t slow_drops;
    uint64_t channels_created;
    uint64_t history_evicted_for_memory;
} hub_stats;

typedef struct hub_limits {
    size_t history_max;       /* events per channel */
    size_t max_history_bytes; /* all channels' history together */
    size_t max_pending;       /* bytes a live subscriber may owe */
    size_t max_channels;      /* channels that publishers and inputs made */
    size_t max_waiting;       /* channels that only subscribers wait on */
} hub_limits;

/* Told of every change to what history holds, so a store can keep a copy
 * of it (store.c); a hub without one keeps history in memory only. Called
 * as the change happens; a callback must not call back into the hub.
 * - retained: ev (its seq and chan_seq set) joined ch's history.
 * - evicted: ev left ch's history, or was published to a channel that
 *   keeps none (--history 0); ch's eviction marks are already updated.
 * - channel_freed: ch is about to be freed.
 * - withdrawn: ev, published to ch but never committed, was taken back
 *   (hub_withdraw_held): out of history if it was there, and ch's event
 *   count is what it was before ev. */
typedef struct hub_journal {
    void (*retained)(void *ctx, channel *ch, shared_event *ev);
    void (*evicted)(void *ctx, channel *ch, const shared_event *ev);
    void (*channel_freed)(void *ctx, const channel *ch);
    void (*withdrawn)(void *ctx, channel *ch, const shared_event *ev);
    void *ctx;
} hub_journal;

/* An event published while fan-out is held back, and its channel (held
 * until the event is released or withdrawn); keep: published from input,
 * which no one can be told was refused, so a withdrawal defers it. */
typedef struct hub_held {
    shared_event *ev;
    channel *ch;
    int keep;
} hub_held;

typedef struct hub {
    channel **buckets;
    size_t bucket_count, channel_count, waiting_count;
    hub_limits limits;
    size_t history_bytes;
    /* What channels freed with events evicted no longer say: a channel made
     * again under such a name must not claim it lost nothing. */
    int forgot_any;
    uint64_t forgot_seq, forgot_number;
    list_node history_order; /* every retained event, oldest first */
    uint64_t last_id;      /* the last numeric id handed out */
    uint64_t first_id;     /* the first id of this run: older ones are from before */
    uint64_t next_seq;
    list_node dirty;       /* subscribers with events to flush */
    size_t round_bytes;    /* published since every subscriber was last written */
    intake_gate *gate;     /* closed for INTAKE_ROUND past a round's share; NULL: none (tests) */
    const hub_journal *journal; /* NULL: no store */
    /* With a store (hub_hold_fanout): events published since the last
     * commit, in publish order, sent to no subscriber yet; a subscriber
     * sees an event only once the store has it. */
    int hold_fanout;
    hub_held *held;
    size_t held_count, held_cap;
    /* Input events withdrawn, oldest first, to be published again once
     * the store can write (hub_republish_deferred). */
    hub_held *deferred;
    size_t deferred_count, deferred_cap;
    hub_stats stats;
    /* Allocation for growing queues and rings; realloc, or a failing one
     * in tests. */
    void *(*grow)(void *ptr, size_t size);
} hub;

int hub_init(hub *h, const hub_limits *limits);
void hub_free(hub *h);

/* A channel name: up to 200 letters, digits, - _ . ~ and /, never "..". */
int hub_channel_name_valid(const char *name, size_t len);

/* The channel of that name if it exists; NULL otherwise. */
channel *hub_channel_find(hub *h, const char *name, size_t len);
enum hub_acquire_for { HUB_FOR_PUBLISHING, HUB_FOR_SUBSCRIBING };
/* The channel of that name, held for the caller, created if it does not
 * exist and the limit for `purpose` allows (subscribers may wait on at most
 * max_waiting channels nothing was published to; publishers and inputs get
 * max_channels of their own). NULL when the limit is reached or memory ran
 * out. */
channel *hub_channel_acquire(hub *h, const char *name, size_t len, enum hub_acquire_for purpose);
/* Call fn for every channel (in no particular order); fn must not add or
 * free channels. */
void hub_for_each_channel(const hub *h, void (*fn)(void *ctx, const channel *ch), void *ctx);
/* Let go of a hold; the channel is freed if nothing holds it and it has no
 * history. */
void hub_channel_release(hub *h, channel *ch);
/* Free the channel if nothing holds it and it has no history. */
void hub_channel_collect(hub *h, channel *ch);

/* A fresh numeric id: increasing, seeded from the clock (microseconds), so
 * ids stay increasing across restarts. */
uint64_t hub_next_id(hub *h);

/* A round: subscribers are written a slice at a time; one still waiting
 * its turn owes all that was published since its last write, and must not
 * pass max_pending for that (it would be dropped as slow when it is not).
 * Once a quarter of it was published in a round (room for a read in
 * flight), the hub closes the intake gate for INTAKE_ROUND; hub_round_end
 * opens it when every subscriber was written. */
void hub_round_end(hub *h);

/* Retain ev in the channel's history and queue it to every subscriber that
 * is live (with fan-out held: once hub_release_held says so). Takes over
 * the caller's reference. */
void hub_publish(hub *h, channel *ch, shared_event *ev);
/* From now on, live subscribers get an event only when hub_release_held
 * is called after it was published: a store commits first. */
void hub_hold_fanout(hub *h);
/* The store has everything published so far: queue the held events to
 * their channels' live subscribers. */
void hub_release_held(hub *h);
/* The store could not keep the held events: take them back from history,
 * newest first, as if never published (their seqs are not reused; their
 * channels' event counts are); those from input are deferred. Returns how
 * many there were. */
size_t hub_withdraw_held(hub *h);
/* The store can write again: publish the deferred input events anew, in
 * their order (held, as any event). Returns how many were lost because
 * memory ran out copying them. */
size_t hub_republish_deferred(hub *h);
/* The store can never write again (until a restart): the deferred input
 * events are let go. Returns how many. */
size_t hub_drop_deferred(hub *h);
/* The seq of the oldest event held back, or the next seq when none is: a
 * replay stops there, and what follows reaches it live. */
static inline uint64_t hub_first_held_seq(const hub *h) {
    return h->held_count ? h->held[0].ev->seq : h->next_seq;
}
/* The newest event held back; NULL when none is. Its fate (released or
 * withdrawn) is that of every event held with it. */
static inline shared_event *hub_newest_held(const hub *h) {
    return h->held_count ? h->held[h->held_count - 1].ev : NULL;
}
/* Whether an event hub_newest_held named is still waiting for the store. */
static inline int hub_still_held(const hub *h, const shared_event *e) {
    return !e->withdrawn && e->seq >= hub_first_held_seq(h);
}
/* Encode and publish an event; one without an id (has_id == 0) gets a
 * fresh numeric one from hub_next_id. An sse_encode error code, nothing
 * published, when the event is invalid, or one of these: */
enum { HUB_ID_TOO_LONG = -100, HUB_EVENT_TOO_LARGE = -101 };
int hub_publish_event(hub *h, channel *ch, const sse_out_event *ev);
/* As hub_publish_event, for stdin and FIFO input: if the store withdraws
 * the event, it is deferred and published again by hub_republish_deferred,
 * since its writer cannot be told it was refused. */
int hub_publish_input_event(hub *h, channel *ch, const sse_out_event *ev);
/* As hub_publish_event, into history only: a cluster node's old events,
 * read when it (re)joins, are no news to its live subscribers. */
int hub_retain_event(hub *h, channel *ch, const sse_out_event *ev);
/* What hub_publish_event would answer, without publishing: a cluster node
 * checks an event before sending it to Redis (cluster_node.c). */
int hub_event_check(hub *h, const sse_out_event *ev);
const char *hub_strerror(int rc);

/* history.c */
/* Append to the channel's history, evicting its oldest event when full and
 * the oldest events of any channel while all history is over
 * max_history_bytes. */
void history_append(hub *h, channel *ch, shared_event *ev);
/* Drop the channel's oldest event from its history. */
void history_evict_oldest(hub *h, channel *ch);
/* Take ev back out of ch's history, where it is the newest event if it is
 * there at all (hub_withdraw_held); no eviction is remembered for it. */
void history_withdraw_newest(hub *h, channel *ch, shared_event *ev);
static inline shared_event *channel_history_at(const channel *ch, size_t i) {
    return ch->ring[(ch->ring_head + i) & (ch->ring_cap - 1)];
}
/* The chan_seq the channel's next event will get, and its oldest retained. */
static inline uint64_t channel_next_chan_seq(const channel *ch) { return ch->events_in; }
static inline uint64_t channel_oldest_chan_seq(const channel *ch) { return ch->events_in - ch->ring_len; }
void history_free(hub *h, channel *ch);
/* The bytes an event costs while retained, its envelope and tagged
 * variants included. */
size_t history_retained_size(const shared_event *e);
/* A variant (envelope or tagged) was made for ev: if ev is retained, it
 * counts against max_history_bytes from now on (which may evict the oldest
 * events, ev among them). A raw event that is its own envelope costs
 * nothing more. */
void history_variant_made(hub *h, shared_event *ev, const shared_event *variant);

/* Where a new subscriber starts in history: with a Last-Event-ID (last_id
 * != NULL), after that event in each of its channels; otherwise the last
 * `replay` events. Sets each link's position and starts the replay. If any
 * channel no longer retains what follows last_id (a gap), or the id is
 * longer than any id ssed accepts, on_gap is called first, so it can queue
 * a notice ahead of the events. */
void hub_queue_history(hub *h, subscriber *s, const char *last_id, size_t last_id_len, size_t replay,
                       void (*on_gap)(void *ctx), void *ctx);

/* subscriber.c */
/* Follow these channels, taking over the caller's hold on each (all at
 * once: the links must not move later). */
int subscriber_attach(hub *h, subscriber *s, channel **channels, size_t count);
static inline channel *subscriber_channel(const subscriber *s) { return s->link_count ? s->link0.ch : NULL; }
static inline sub_link *subscriber_link(subscriber *s, size_t k) { return k == 0 ? &s->link0 : &s->more_links[k - 1]; }
void subscriber_detach(hub *h, subscriber *s);
/* Put the subscriber on hub.dirty (once), to be written at the next flush. */
void subscriber_mark_dirty(hub *h, subscriber *s);
/* Queue a live event; marks the subscriber dirty, or overflowed when what
 * it owes besides the event it is being written would pass max_pending (so
 * one event always fits, whatever its size). */
void subscriber_enqueue(hub *h, subscriber *s, shared_event *ev, const channel *from);
/* Queue an event the subscriber is owed whatever it already owes: history,
 * notices, keep-alives. Nothing once subscriber_finish has queued the last. */
void subscriber_enqueue_owed(hub *h, subscriber *s, shared_event *ev);
/* The stream ends with `last`: the subscriber takes no more events, its
 * replay stops, and of its queue only an event partly written is kept (a
 * stream must not end inside an event). What it loses the client reads
 * again from history by Last-Event-ID. */
void subscriber_finish(hub *h, subscriber *s, shared_event *last);
/* While replaying: queue the next window of history (about half of
 * max_pending, at least one event); ends the replay when caught up. */
void hub_replay_more(hub *h, subscriber *s);
/* Drop the first `written` bytes of the queue after a write (at now_us);
 * returns how many events were thereby written whole. Each of them that
 * was queued live is observed in `latency` (NULL: none is). */
size_t subscriber_consume(subscriber *s, size_t written, latency_histogram *latency, uint64_t now_us);

#endif
