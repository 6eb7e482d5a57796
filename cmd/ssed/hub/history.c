/* Channel history: a ring of the channel's last events per channel, a cap
 * on all channels' history together that evicts the oldest first wherever
 * it is, and where a resuming subscriber starts. */
#include <stdlib.h>
#include <string.h>

#include "hub.h"

size_t history_retained_size(const shared_event *e) {
    size_t envelope = e->envelope && e->envelope != e ? e->envelope->len : 0;
    size_t tagged = e->tagged ? e->tagged->len : 0;
    return sizeof *e + e->len + e->id_len + envelope + tagged;
}

static void remember_eviction(channel *ch, const shared_event *old) {
    ch->evicted_any = 1;
    ch->last_evicted_seq = old->seq;
    ch->last_evicted_is_number = old->id_is_number;
    ch->last_evicted_number = old->id_number;
}

void history_evict_oldest(hub *h, channel *ch) {
    shared_event *old = ch->ring[ch->ring_head];
    remember_eviction(ch, old);
    if (h->journal)
        h->journal->evicted(h->journal->ctx, ch, old);
    ch->ring_head = (ch->ring_head + 1) & (ch->ring_cap - 1);
    ch->ring_len--;
    list_remove(&old->history_link);
    old->history_channel = NULL;
    h->history_bytes -= history_retained_size(old);
    shared_event_unref(old);
}

void history_withdraw_newest(hub *h, channel *ch, shared_event *ev) {
    if (ev->history_channel != ch || channel_history_at(ch, ch->ring_len - 1) != ev)
        return; /* evicted already, or never retained (--history 0) */
    ch->ring_len--;
    list_remove(&ev->history_link);
    ev->history_channel = NULL;
    h->history_bytes -= history_retained_size(ev);
    shared_event_unref(ev);
}

/* Room for one more event: the ring grows by doubling (a power of two) up
 * to the per-channel limit, so a quiet channel costs little. */
static int ring_make_room(hub *h, channel *ch) {
    if (ch->ring_len == h->limits.history_max) {
        history_evict_oldest(h, ch);
        return 0;
    }
    if (ch->ring_len < ch->ring_cap)
        return 0;
    size_t cap = ch->ring_cap ? ch->ring_cap * 2 : 16;
    shared_event **ring = h->grow(NULL, cap * sizeof *ring);
    if (!ring) {
        if (ch->ring_len == 0)
            return -1;
        history_evict_oldest(h, ch); /* keep going with the ring we have */
        return 0;
    }
    for (size_t i = 0; i < ch->ring_len; i++)
        ring[i] = channel_history_at(ch, i);
    free(ch->ring);
    ch->ring = ring;
    ch->ring_cap = cap;
    ch->ring_head = 0;
    return 0;
}

/* Over the global cap: evict the oldest retained events of any channel.
 * A channel left with no history and no holder is freed. */
static void enforce_history_bytes(hub *h, const channel *keep) {
    while (h->limits.max_history_bytes && h->history_bytes > h->limits.max_history_bytes &&
           !list_empty(&h->history_order)) {
        shared_event *oldest = list_entry(h->history_order.next, shared_event, history_link);
        channel *ch = oldest->history_channel;
        history_evict_oldest(h, ch);
        h->stats.history_evicted_for_memory++;
        if (ch != keep)
            hub_channel_collect(h, ch);
    }
}

void history_append(hub *h, channel *ch, shared_event *ev) {
    if (h->limits.history_max == 0) {
        remember_eviction(ch, ev); /* not retained: a resume from before it has a gap */
        if (h->journal)
            h->journal->evicted(h->journal->ctx, ch, ev);
        return;
    }
    if (ring_make_room(h, ch) < 0)
        return; /* history is best effort; live delivery goes on */
    ch->ring[(ch->ring_head + ch->ring_len) & (ch->ring_cap - 1)] = shared_event_ref(ev);
    ch->ring_len++;
    ev->history_channel = ch;
    list_push_back(&h->history_order, &ev->history_link);
    h->history_bytes += history_retained_size(ev);
    if (h->journal)
        h->journal->retained(h->journal->ctx, ch, ev);
    enforce_history_bytes(h, ch);
}

void history_variant_made(hub *h, shared_event *ev, const shared_event *variant) {
    if (!ev->history_channel || variant == ev)
        return;
    h->history_bytes += variant->len;
    enforce_history_bytes(h, NULL);
}

void history_free(hub *h, channel *ch) {
    while (ch->ring_len > 0)
        history_evict_oldest(h, ch);
    free(ch->ring);
    ch->ring = NULL;
    ch->ring_cap = 0;
}

/* The ring offset of the first event published after `seq` (the ring is in
 * publish order). */
static size_t first_after_seq(const channel *ch, uint64_t seq) {
    size_t lo = 0, hi = ch->ring_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (channel_history_at(ch, mid)->seq > seq)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The ring offset after the newest event whose numeric id is <= wanted. */
static size_t first_newer_by_number(const channel *ch, uint64_t wanted) {
    size_t i = ch->ring_len;
    while (i > 0) {
        const shared_event *e = channel_history_at(ch, i - 1);
        if (e->id_is_number && e->id_number <= wanted)
            break;
        i--;
    }
    return i;
}

/* Resuming after a numeric id the hub does not hold: were events after it
 * lost? Not if the channel still shows where that id falls (an event with a
 * smaller or equal number retained, or the newest evicted one at or below
 * it); otherwise yes if it evicted anything, or if the id is from before
 * this run (what followed it then is gone). */
static int numeric_gap(const hub *h, const channel *ch, size_t start, uint64_t wanted) {
    if (start > 0)
        return 0;
    if (ch->evicted_any)
        return !(ch->last_evicted_is_number && ch->last_evicted_number <= wanted);
    return wanted < h->first_id;
}

/* The event with this id in any of the channels, newest first. */
static const shared_event *find_id(channel *const *chans, size_t n, const char *id, size_t len) {
    const shared_event *found = NULL;
    for (size_t k = 0; k < n; k++)
        for (size_t i = chans[k]->ring_len; i-- > 0;) {
            const shared_event *e = channel_history_at(chans[k], i);
            if (e->id_len == len && memcmp(e->id, id, len) == 0) {
                if (!found || e->seq > found->seq)
                    found = e;
                break;
            }
        }
    return found;
}

/* Start positions for a subscriber without Last-Event-ID: step back through
 * publish order until `replay` events are owed. */
static void start_for_replay(channel *const *chans, size_t n, size_t *start, size_t replay) {
    for (size_t k = 0; k < n; k++)
        start[k] = chans[k]->ring_len;
    for (size_t taken = 0; taken < replay; taken++) {
        size_t best = n;
        for (size_t k = 0; k < n; k++)
            if (start[k] > 0 && (best == n || channel_history_at(chans[k], start[k] - 1)->seq >
                                                  channel_history_at(chans[best], start[best] - 1)->seq))
                best = k;
        if (best == n)
            break;
        start[best]--;
    }
}

/* Start positions after Last-Event-ID; returns whether any channel lost
 * events after it. */
static int start_after_id(const hub *h, channel *const *chans, size_t n, size_t *start, const char *id,
                          size_t len) {
    if (len > HUB_MAX_ID_LEN) {
        for (size_t k = 0; k < n; k++)
            start[k] = 0;
        return 1;
    }
    /* An id we hold names an exact place in publish order. */
    const shared_event *found = find_id(chans, n, id, len);
    uint64_t wanted = 0;
    int numeric = !found && event_id_parse_number(id, len, &wanted);
    int gap = 0;
    for (size_t k = 0; k < n; k++) {
        const channel *ch = chans[k];
        if (found) {
            start[k] = first_after_seq(ch, found->seq);
            gap |= start[k] == 0 && ch->evicted_any && ch->last_evicted_seq > found->seq;
        } else if (numeric) {
            start[k] = first_newer_by_number(ch, wanted);
            gap |= numeric_gap(h, ch, start[k], wanted);
        } else {
            start[k] = 0;
            gap = 1;
        }
    }
    return gap;
}

void hub_queue_history(hub *h, subscriber *s, const char *id, size_t len, size_t replay, void (*on_gap)(void *ctx),
                       void *ctx) {
    size_t n = s->link_count;
    size_t start[n];
    channel *chans[n];
    for (size_t k = 0; k < n; k++)
        chans[k] = subscriber_link(s, k)->ch;
    int gap = 0;
    if (id)
        gap = start_after_id(h, chans, n, start, id, len);
    else
        start_for_replay(chans, n, start, replay);
    for (size_t k = 0; k < n; k++)
        subscriber_link(s, k)->next_chan_seq = channel_oldest_chan_seq(chans[k]) + start[k];
    if (gap && on_gap)
        on_gap(ctx);
    s->replaying = 1;
    hub_replay_more(h, s);
}
