/* Channel history: a ring of each channel's last events, a cap on all
 * channels' history together that evicts the oldest first wherever it is,
 * and where a resume starts in it (and whether a channel lost what the
 * resume asked for). History knows channels and events only: the hub
 * gives it its limits and a callback for channels it empties, and
 * subscribers read it. */
#ifndef SSED_HISTORY_H
#define SSED_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "channel.h"
#include "list.h"
#include "shared_event.h"

/* Told of every change to what history holds, so a store can keep a copy
 * of it (store.c); a hub without one keeps history in memory only. Called
 * as the change happens; a callback must not call back into the hub.
 * - retained: ev (its seq and chan_seq set) joined ch's history.
 * - evicted: ev left ch's history, or was published to a channel that
 *   keeps none (--history 0); ch's eviction marks are already updated.
 * - channel_freed: ch is about to be freed (told by the hub).
 * - withdrawn: ev, published to ch but never committed, was taken back
 *   (hub_withdraw_held): out of history if it was there, and ch's event
 *   count is what it was before ev (told by the hub). */
typedef struct history_journal {
    void (*retained)(void *ctx, channel *ch, shared_event *ev);
    void (*evicted)(void *ctx, channel *ch, const shared_event *ev);
    void (*channel_freed)(void *ctx, const channel *ch);
    void (*withdrawn)(void *ctx, channel *ch, const shared_event *ev);
    void *ctx;
} history_journal;

/* All channels' history together; embedded in the hub, which sets the
 * limits, first_id and the callbacks (history_init). */
typedef struct history {
    list_node order;      /* every retained event, oldest first */
    size_t bytes;         /* what they cost (history_retained_size) */
    size_t per_channel;   /* events kept per channel (--history) */
    size_t max_bytes;     /* all channels together (--max-history-bytes); 0: no cap */
    uint64_t first_id;    /* the first numeric id of this run: older ones are from before */
    uint64_t evicted_for_memory;
    const history_journal *journal; /* NULL: no store */
    /* Allocation for growing rings; realloc, or a failing one in tests. */
    void *(*grow)(void *ptr, size_t size);
    /* The byte cap took the last event of ch, a channel other than the one
     * appended to: its owner may free it now (hub_channel_collect). */
    void (*emptied)(void *ctx, channel *ch);
    void *ctx;
} history;

void history_init(history *hist, size_t per_channel, size_t max_bytes, uint64_t first_id);

/* Append to the channel's history, evicting its oldest event when full and
 * the oldest events of any channel while all history is over max_bytes. */
void history_append(history *hist, channel *ch, shared_event *ev);
/* Drop the channel's oldest event from its history. */
void history_evict_oldest(history *hist, channel *ch);
/* Take ev back out of ch's history, where it is the newest event if it is
 * there at all (hub_withdraw_held); no eviction is remembered for it. */
void history_withdraw_newest(history *hist, channel *ch, shared_event *ev);
static inline shared_event *channel_history_at(const channel *ch, size_t i) {
    return ch->ring[(ch->ring_head + i) & (ch->ring_cap - 1)];
}
/* The chan_seq the channel's next event will get, and its oldest retained. */
static inline uint64_t channel_next_chan_seq(const channel *ch) { return ch->events_in; }
static inline uint64_t channel_oldest_chan_seq(const channel *ch) { return ch->events_in - ch->ring_len; }
void history_free(history *hist, channel *ch);
/* The bytes an event costs while retained, its envelope and tagged
 * variants included. */
size_t history_retained_size(const shared_event *e);
/* A variant (envelope or tagged) was made for ev: if ev is retained, it
 * counts against max_bytes from now on (which may evict the oldest events,
 * ev among them). A raw event that is its own envelope costs nothing
 * more. */
void history_variant_made(history *hist, shared_event *ev, const shared_event *variant);

/* Where a resume starts in one channel: the ring offset of the first event
 * it is owed, and whether the channel lost events the resume asked for
 * (then the offset is 0: it gets all the channel still holds). */
typedef struct history_start {
    size_t offset;
    int gap;
    /* The first event owed follows a hole (shared_event.hole_last_lost)
     * that the resume is past already (its numeric id is at or after the
     * hole's last lost event) or is told of by `gap`: its replay must not
     * announce that hole again. */
    int hole_told;
} history_start;

/* Start positions in each of n channels: with a Last-Event-ID (last_id !=
 * NULL), after that event (an id held in any of them marks an exact place
 * in publish order; other numeric ids are compared as numbers); without,
 * the last `replay` events of them all, in publish order. A channel has a
 * gap when it no longer holds what followed the id: the id is unknown,
 * longer than any id ssed accepts, from before this run with nothing after
 * it retained, or the channel evicted events after it. */
void history_find_start(const history *hist, channel *const *chans, size_t n, const char *last_id,
                        size_t last_id_len, size_t replay, history_start *start);

#endif
