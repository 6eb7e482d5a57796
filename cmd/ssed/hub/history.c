/* Channel history: a ring of the channel's last events per channel, a cap
 * on all channels' history together that evicts the oldest first wherever
 * it is, and where a resume starts (with the gap decision per channel). */
#include "history.h"

#include <stdlib.h>
#include <string.h>

void history_init(history *hist, size_t per_channel, size_t max_bytes, uint64_t first_id) {
    memset(hist, 0, sizeof *hist);
    list_init(&hist->order);
    hist->per_channel = per_channel;
    hist->max_bytes = max_bytes;
    hist->first_id = first_id;
    hist->grow = realloc;
}

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

void history_evict_oldest(history *hist, channel *ch) {
    shared_event *old = ch->ring[ch->ring_head];
    remember_eviction(ch, old);
    if (hist->journal)
        hist->journal->evicted(hist->journal->ctx, ch, old);
    ch->ring_head = (ch->ring_head + 1) & (ch->ring_cap - 1);
    ch->ring_len--;
    list_remove(&old->history_link);
    old->history_channel = NULL;
    hist->bytes -= history_retained_size(old);
    shared_event_unref(old);
}

void history_withdraw_newest(history *hist, channel *ch, shared_event *ev) {
    if (ev->history_channel != ch || channel_history_at(ch, ch->ring_len - 1) != ev)
        return; /* evicted already, or never retained (--history 0) */
    ch->ring_len--;
    list_remove(&ev->history_link);
    ev->history_channel = NULL;
    hist->bytes -= history_retained_size(ev);
    shared_event_unref(ev);
}

/* Room for one more event: the ring grows by doubling (a power of two) up
 * to the per-channel limit, so a quiet channel costs little. */
static int ring_make_room(history *hist, channel *ch) {
    if (ch->ring_len == hist->per_channel) {
        history_evict_oldest(hist, ch);
        return 0;
    }
    if (ch->ring_len < ch->ring_cap)
        return 0;
    size_t cap = ch->ring_cap ? ch->ring_cap * 2 : 16;
    shared_event **ring = hist->grow(NULL, cap * sizeof *ring);
    if (!ring) {
        if (ch->ring_len == 0)
            return -1;
        history_evict_oldest(hist, ch); /* keep going with the ring we have */
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
static void enforce_history_bytes(history *hist, const channel *keep) {
    while (hist->max_bytes && hist->bytes > hist->max_bytes &&
           !list_empty(&hist->order)) {
        shared_event *oldest = list_entry(hist->order.next, shared_event, history_link);
        channel *ch = oldest->history_channel;
        history_evict_oldest(hist, ch);
        hist->evicted_for_memory++;
        if (ch != keep && ch->ring_len == 0 && hist->emptied)
            hist->emptied(hist->ctx, ch);
    }
}

void history_append(history *hist, channel *ch, shared_event *ev) {
    if (hist->per_channel == 0) {
        remember_eviction(ch, ev); /* not retained: a resume from before it has a gap */
        if (hist->journal)
            hist->journal->evicted(hist->journal->ctx, ch, ev);
        return;
    }
    if (ring_make_room(hist, ch) < 0)
        return; /* history is best effort; live delivery goes on */
    ch->ring[(ch->ring_head + ch->ring_len) & (ch->ring_cap - 1)] = shared_event_ref(ev);
    ch->ring_len++;
    ev->history_channel = ch;
    list_push_back(&hist->order, &ev->history_link);
    hist->bytes += history_retained_size(ev);
    if (hist->journal)
        hist->journal->retained(hist->journal->ctx, ch, ev);
    enforce_history_bytes(hist, ch);
}

void history_variant_made(history *hist, shared_event *ev, const shared_event *variant) {
    if (!ev->history_channel || variant == ev)
        return;
    hist->bytes += variant->len;
    enforce_history_bytes(hist, NULL);
}

void history_free(history *hist, channel *ch) {
    while (ch->ring_len > 0)
        history_evict_oldest(hist, ch);
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
 * this run (what followed it then is gone), 0 excepted. */
static int numeric_gap(const history *hist, const channel *ch, size_t start, uint64_t wanted) {
    if (start > 0)
        return 0;
    if (ch->evicted_any)
        return !(ch->last_evicted_is_number && ch->last_evicted_number <= wanted);
    /* 0 is before every id: a client that says it saw 0 (some send it for
     * "from the start") lost nothing unless the channel evicted. */
    return wanted != 0 && wanted < hist->first_id;
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

/* Start positions after Last-Event-ID, and each channel's gap. */
static void start_after_id(const history *hist, channel *const *chans, size_t n, history_start *start,
                           const char *id, size_t len) {
    if (len > HUB_MAX_ID_LEN) {
        for (size_t k = 0; k < n; k++)
            start[k] = (history_start){0, 1, 0};
        return;
    }
    /* An id we hold names an exact place in publish order. */
    const shared_event *found = find_id(chans, n, id, len);
    uint64_t wanted = 0;
    int numeric = !found && event_id_parse_number(id, len, &wanted);
    for (size_t k = 0; k < n; k++) {
        const channel *ch = chans[k];
        if (found) {
            start[k].offset = first_after_seq(ch, found->seq);
            start[k].gap = start[k].offset == 0 && ch->evicted_any && ch->last_evicted_seq > found->seq;
        } else if (numeric) {
            start[k].offset = first_newer_by_number(ch, wanted);
            start[k].gap = numeric_gap(hist, ch, start[k].offset, wanted);
        } else {
            start[k] = (history_start){0, 1, 0};
        }
        const shared_event *first = start[k].offset < ch->ring_len ? channel_history_at(ch, start[k].offset) : NULL;
        start[k].hole_told = first && first->hole_last_lost &&
                             (start[k].gap || (numeric && wanted >= first->hole_last_lost));
    }
}

void history_find_start(const history *hist, channel *const *chans, size_t n, const char *last_id,
                        size_t last_id_len, size_t replay, history_start *start) {
    if (last_id) {
        start_after_id(hist, chans, n, start, last_id, last_id_len);
        return;
    }
    for (size_t k = 0; k < n; k++)
        start[k] = (history_start){chans[k]->ring_len, 0, 0};
    for (size_t taken = 0; taken < replay; taken++) {
        size_t best = n;
        for (size_t k = 0; k < n; k++)
            if (start[k].offset > 0 &&
                (best == n || channel_history_at(chans[k], start[k].offset - 1)->seq >
                                  channel_history_at(chans[best], start[best].offset - 1)->seq))
                best = k;
        if (best == n)
            break;
        start[best].offset--;
    }
    /* A replay of the newest events promises nothing before the first. */
    for (size_t k = 0; k < n; k++)
        start[k].hole_told = 1;
}
