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
 *   and its publish request.
 *
 * Layers: channel.h (the struct) < history.h < subscriber.h < hub.h. The
 * hub calls down into history and subscribers; they reach back up only
 * through the callbacks it gives them (history.emptied, subscriber_hooks). */
#ifndef SSED_HUB_H
#define SSED_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "channel.h"
#include "history.h"
#include "intake_gate.h"
#include "list.h"
#include "shared_event.h"
#include "sse_encode.h"
#include "subscriber.h"

typedef struct hub_stats {
    uint64_t channels_created;
} hub_stats;

typedef struct hub_limits {
    size_t history_max;       /* events per channel */
    size_t max_history_bytes; /* all channels' history together */
    size_t max_pending;       /* bytes a live subscriber may owe */
    size_t max_channels;      /* channels that publishers and inputs made */
    size_t max_waiting;       /* channels that only subscribers wait on */
} hub_limits;

/* The store's view of history (history.h). */
typedef history_journal hub_journal;

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
    history history;     /* every channel's, and the byte cap */
    subscriber_set subs; /* what subscribers share, the flush list among it */
    /* What channels freed with events evicted no longer say: a channel made
     * again under such a name must not claim it lost nothing. */
    int forgot_any;
    uint64_t forgot_seq, forgot_number;
    uint64_t last_id;      /* the last numeric id handed out */
    uint64_t first_id;     /* the first id of this run: older ones are from before */
    uint64_t next_seq;
    size_t round_bytes;    /* published since every subscriber was last written */
    intake_gate *gate;     /* closed for INTAKE_ROUND past a round's share; NULL: none (tests) */
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
    /* Allocation for growing the held lists; realloc, or a failing one in
     * tests (history and subs have their own). */
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
/* Queue ev (a comment, a retry-only block: raw bytes without an id) to
 * ch's live subscribers, outside history: a replayed recording's comments
 * (replay.h). The caller keeps its reference. */
void hub_send_live(hub *h, channel *ch, shared_event *ev);
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

/* The stream no longer holds what followed `asked` in ch (a cluster's
 * hole): every live subscriber of ch is told with the gap notice
 * (subscriber_gap_notice), naming `first`, the first event it gets after
 * the hole. */
void hub_announce_gap(hub *h, channel *ch, const char *asked, size_t asked_len, const char *first, size_t first_len);
/* The event just published to ch came after a cluster's hole: the events
 * numbered after `after` up to `last_lost` are lost for good. Recorded on
 * that event in history, so any later replay that crosses it is told
 * (ssed-gap) whoever was connected when it was found; once the event
 * leaves history, its eviction tells resumes from before it. */
void hub_mark_hole(hub *h, channel *ch, uint64_t after, uint64_t last_lost);
/* The event just published to ch has cluster number n (kept in history,
 * shared_event.cluster_number). */
void hub_mark_cluster_number(hub *h, channel *ch, uint64_t n);

#endif
