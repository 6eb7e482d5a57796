/* A subscriber's queue of shared events: live events with a bound on what
 * it may owe, and history replayed a window at a time as its socket
 * drains. */
#include "subscriber.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"

void subscriber_set_init(subscriber_set *set, size_t max_pending, history *hist, const subscriber_hooks *hooks) {
    memset(set, 0, sizeof *set);
    list_init(&set->dirty);
    set->max_pending = max_pending;
    set->history = hist;
    set->hooks = *hooks;
    set->grow = realloc;
}

int subscriber_attach(subscriber_set *set, subscriber *s, channel **channels, size_t count) {
    (void)set;
    if (count > 1 && !(s->more_links = calloc(count - 1, sizeof *s->more_links)))
        return -1;
    for (size_t k = 0; k < count; k++) {
        sub_link *link = subscriber_link(s, k);
        link->ch = channels[k];
        link->owner = s;
        list_push_back(&channels[k]->subscribers, &link->node);
        channels[k]->subscriber_count++;
    }
    s->link_count = count;
    return 0;
}

void subscriber_detach(subscriber_set *set, subscriber *s) {
    list_remove(&s->dirty_link);
    for (size_t i = 0; i < s->q_len; i++)
        shared_event_unref(s->queue[(s->q_head + i) & (s->q_cap - 1)]);
    free(s->queue);
    s->queue = NULL;
    s->q_len = s->q_cap = s->q_head = 0;
    s->pending_bytes = 0;
    s->held_bytes = 0;
    s->replaying = 0;
    for (size_t k = 0; k < s->link_count; k++) {
        sub_link *link = subscriber_link(s, k);
        list_remove(&link->node);
        link->ch->subscriber_count--;
        set->hooks.release(set->hooks.ctx, link->ch);
    }
    free(s->more_links);
    s->more_links = NULL;
    s->link_count = 0;
}

void subscriber_mark_dirty(subscriber_set *set, subscriber *s) {
    if (!s->dirty_link.next)
        list_push_back(&set->dirty, &s->dirty_link);
}

/* Give up on the subscriber: it is closed at the next flush. */
static void drop(subscriber_set *set, subscriber *s) {
    s->overflowed = 1;
    subscriber_mark_dirty(set, s);
}

static int queue_grow(subscriber_set *set, subscriber *s) {
    size_t cap = s->q_cap ? s->q_cap * 2 : 8;
    shared_event **q = set->grow(NULL, cap * sizeof *q);
    if (!q)
        return -1;
    for (size_t i = 0; i < s->q_len; i++)
        q[i] = s->queue[(s->q_head + i) & (s->q_cap - 1)];
    free(s->queue);
    s->queue = q;
    s->q_cap = cap;
    s->q_head = 0;
    return 0;
}

/* Whether the subscriber is sent ev's tagged variant: it follows several
 * channels, ev came from one of them, and no envelope names it already. */
static int sends_tagged(const subscriber *s, const channel *from) {
    return !s->envelope && from && s->link_count > 1;
}

/* What the subscriber is sent of ev (see struct subscriber); *made says
 * whether it is a variant made just now. NULL if memory ran out. */
static shared_event *variant_for(const subscriber *s, shared_event *ev, const channel *from, int *made) {
    shared_event *item = ev;
    *made = 0;
    if (s->envelope) {
        *made = !ev->envelope;
        item = shared_event_envelope(ev, from ? from->name : NULL, from ? from->name_len : 0);
    } else if (sends_tagged(s, from)) {
        *made = !ev->tagged;
        item = shared_event_tagged(ev, from->name, from->name_len);
    }
    *made &= item != NULL;
    if (*made)
        item->born_us = ev->born_us;
    return item;
}

/* Append a reference; the subscriber is dropped (out of memory) rather than
 * sent a stream with a hole in it. */
static int queue_push(subscriber_set *set, subscriber *s, shared_event *ev, const channel *from) {
    if (s->overflowed)
        return -1;
    int made;
    shared_event *item = variant_for(s, ev, from, &made);
    int queued = item && (s->q_len < s->q_cap || queue_grow(set, s) == 0);
    if (queued) {
        s->queue[(s->q_head + s->q_len) & (s->q_cap - 1)] = shared_event_ref(item);
        s->q_len++;
        s->pending_bytes += item->len;
        s->events_queued++;
        subscriber_mark_dirty(set, s);
    } else {
        drop(set, s);
    }
    /* Last, queued or not (a variant made is cached on ev and counted from
     * now on): the history cap may now evict ev itself; the queue holds
     * item. */
    if (made)
        history_variant_made(set->history, ev, item);
    return queued ? 0 : -1;
}

void subscriber_enqueue_owed(subscriber_set *set, subscriber *s, shared_event *ev) {
    if (s->finished)
        return; /* nothing goes after the last event subscriber_finish queued */
    queue_push(set, s, ev, NULL);
}

void subscriber_finish(subscriber_set *set, subscriber *s, size_t promised, shared_event *last) {
    size_t keep = 0, kept_bytes = 0;
    /* Whole events only: a promise ends on an event's end (stream.c). */
    while (keep < s->q_len && (kept_bytes < promised || (keep == 0 && s->head_offset > 0))) {
        kept_bytes += s->queue[(s->q_head + keep) & (s->q_cap - 1)]->len - (keep == 0 ? s->head_offset : 0);
        keep++;
    }
    for (size_t i = keep; i < s->q_len; i++)
        shared_event_unref(s->queue[(s->q_head + i) & (s->q_cap - 1)]);
    s->q_len = keep;
    s->pending_bytes = kept_bytes;
    s->replaying = 0;
    s->finished = 1;
    queue_push(set, s, last, NULL);
}

void subscriber_enqueue(subscriber_set *set, subscriber *s, shared_event *ev, const channel *from) {
    if (s->overflowed || s->finished)
        return;
    /* The event being written does not count: one event larger than the
     * limit (an envelope escapes control bytes six-fold) must not drop a
     * subscriber that reads at a normal pace. What an HTTP/2 stream holds
     * for its DATA frames does count: it is ssed's memory, not the
     * kernel's, and is held to half the limit (h2_budget.c), so a reader at
     * a normal pace, whose window comes back a round trip later, still has
     * the other half for its queue. */
    size_t head_left = s->q_len ? s->queue[s->q_head]->len - s->head_offset : 0;
    size_t len = ev->len;
    if (s->envelope && ev->envelope)
        len = ev->envelope->len;
    else if (sends_tagged(s, from) && ev->tagged)
        len = ev->tagged->len;
    if (s->q_len > 0 && s->pending_bytes - head_left + s->held_bytes + len > set->max_pending) {
        set->slow_drops++;
        drop(set, s);
        return;
    }
    queue_push(set, s, ev, from);
}

/* The link whose next owed event was published first, or NULL when every
 * link has caught up. A link whose next event was evicted before it could
 * be sent has fallen behind the live stream: -1. */
static int next_owed(subscriber *s, sub_link **best_link, shared_event **best) {
    *best_link = NULL;
    *best = NULL;
    for (size_t k = 0; k < s->link_count; k++) {
        sub_link *link = subscriber_link(s, k);
        const channel *ch = link->ch;
        if (link->next_chan_seq < channel_oldest_chan_seq(ch))
            return -1;
        uint64_t offset = link->next_chan_seq - channel_oldest_chan_seq(ch);
        if (offset >= ch->ring_len)
            continue;
        shared_event *e = channel_history_at(ch, (size_t)offset);
        if (!*best || e->seq < (*best)->seq) {
            *best = e;
            *best_link = link;
        }
    }
    return 0;
}

/* The replay is about to cross a cluster's hole before e (hub_mark_hole):
 * the notice comes where the hole is, naming the last event before it, as
 * the live subscribers were told when it was found. */
static int tell_hole(subscriber_set *set, subscriber *s, const channel *ch, const shared_event *e) {
    char asked[24];
    int asked_len = snprintf(asked, sizeof asked, "%llu", (unsigned long long)e->hole_after);
    shared_event *notice = subscriber_gap_notice(asked, (size_t)asked_len, e->id, e->id_len,
                                                 s->link_count > 1 ? ch : NULL);
    if (!notice) {
        drop(set, s); /* rather than a hole without a notice */
        return -1;
    }
    subscriber_enqueue_owed(set, s, notice);
    shared_event_unref(notice);
    return 0;
}

void subscriber_replay_more(subscriber_set *set, subscriber *s) {
    size_t window = set->max_pending / 2;
    uint64_t end = set->hooks.replay_end(set->hooks.ctx);
    while (s->replaying && !s->overflowed) {
        sub_link *link;
        shared_event *e;
        if (next_owed(s, &link, &e) < 0) {
            set->slow_drops++;
            drop(set, s);
            return;
        }
        if (!e || e->seq >= end) {
            /* Caught up: live from now on, held events included (they
             * are not the store's yet, and may be withdrawn). */
            s->replaying = 0;
            s->live_from_seq = end;
            return;
        }
        if (s->q_len > 0 && s->pending_bytes + e->len > window)
            return;
        if (e->hole_last_lost && link->hole_told_seq1 != e->seq + 1) {
            link->hole_told_seq1 = e->seq + 1;
            if (tell_hole(set, s, link->ch, e) < 0)
                return;
        }
        if (queue_push(set, s, e, link->ch) < 0)
            return;
        link->next_chan_seq++;
        link->ch->events_out++;
    }
}

shared_event *subscriber_gap_notice(const char *asked, size_t asked_len, const char *first, size_t first_len,
                                    const channel *ch) {
    buf data = BUF_INIT;
    buf_append_str(&data, "{\"last_event_id\":");
    json_append_string(&data, asked, asked_len);
    buf_append_str(&data, ",\"oldest_retained_id\":");
    if (first)
        json_append_string(&data, first, first_len);
    else
        buf_append_str(&data, "null");
    if (ch) {
        buf_append_str(&data, ",\"channel\":\"/");
        buf_append(&data, ch->name, ch->name_len); /* a valid name needs no escaping */
        buf_append_char(&data, '"');
    }
    buf_append_char(&data, '}');
    sse_out_event ev = {"ssed-gap", 8, NULL, 0, 0, data.data, data.len, -1};
    int rc;
    shared_event *e = data.failed ? NULL : shared_event_new(&ev, &rc);
    buf_free(&data);
    return e;
}

/* Tell the subscriber that ch no longer holds what followed the id it
 * asked for; the notice names the first event of ch it will get. Out of
 * memory: dropped, rather than sent a hole without a notice. */
static void tell_gap(subscriber_set *set, subscriber *s, const channel *ch, size_t offset, const char *id,
                     size_t len) {
    const shared_event *first = offset < ch->ring_len ? channel_history_at(ch, offset) : NULL;
    /* What was asked, as far as ssed read it: an id too long to hold is cut
     * at HUB_MAX_ID_LEN bytes, or at a NUL where the caller could not read
     * it at all (an over-long ?lastEventId= is ""). */
    size_t asked = len > HUB_MAX_ID_LEN ? strnlen(id, HUB_MAX_ID_LEN) : len;
    shared_event *e = subscriber_gap_notice(id, asked, first ? first->id : NULL, first ? first->id_len : 0,
                                            s->link_count > 1 ? ch : NULL);
    if (!e) {
        drop(set, s);
        return;
    }
    subscriber_enqueue_owed(set, s, e);
    shared_event_unref(e);
}

void subscriber_resume(subscriber_set *set, subscriber *s, const char *id, size_t len, size_t replay,
                       void (*on_gap)(void *ctx, const channel *ch), void *ctx) {
    size_t n = s->link_count;
    history_start *start = calloc(n, sizeof *start);
    channel **chans = calloc(n, sizeof *chans);
    if (!start || !chans) {
        free(start);
        free(chans);
        drop(set, s); /* out of memory: closed, and the client resumes again */
        return;
    }
    for (size_t k = 0; k < n; k++)
        chans[k] = subscriber_link(s, k)->ch;
    history_find_start(set->history, chans, n, id, len, replay, start);
    for (size_t k = 0; k < n; k++) {
        sub_link *link = subscriber_link(s, k);
        link->next_chan_seq = channel_oldest_chan_seq(chans[k]) + start[k].offset;
        link->hole_told_seq1 = start[k].hole_told && start[k].offset < chans[k]->ring_len
                                  ? channel_history_at(chans[k], start[k].offset)->seq + 1 : 0;
        if (!start[k].gap)
            continue;
        tell_gap(set, s, chans[k], start[k].offset, id, len);
        if (on_gap)
            on_gap(ctx, chans[k]);
    }
    free(start);
    free(chans);
    s->replaying = 1;
    subscriber_replay_more(set, s);
}

/* One observation per subscriber per event, not per event: the count is
 * deliveries, and one slow subscriber shows in the tail where a per-event
 * figure would hide it. Only events queued live: one replayed from history
 * was published before this subscriber came, and its age says nothing
 * about delivery. */
static void observe_latency(const subscriber *s, const shared_event *e, latency_histogram *latency, uint64_t now_us) {
    if (latency && e->born_us && !s->replaying && e->seq >= s->live_from_seq)
        latency_observe(latency, now_us > e->born_us ? now_us - e->born_us : 0);
}

size_t subscriber_consume(subscriber *s, size_t written, latency_histogram *latency, uint64_t now_us) {
    size_t completed = 0;
    s->pending_bytes -= written;
    while (written > 0) {
        shared_event *e = s->queue[s->q_head];
        size_t left = e->len - s->head_offset;
        if (written < left) {
            s->head_offset += written;
            return completed;
        }
        written -= left;
        s->head_offset = 0;
        observe_latency(s, e, latency, now_us);
        shared_event_unref(e);
        s->q_head = (s->q_head + 1) & (s->q_cap - 1);
        s->q_len--;
        completed++;
    }
    return completed;
}

void subscriber_stream_name(const subscriber *sub, char *out, size_t size) {
    const channel *ch = subscriber_channel(sub);
    if (!ch)
        snprintf(out, size, "?");
    else if (sub->link_count > 1)
        snprintf(out, size, "/%s +%zu more", ch->name, sub->link_count - 1);
    else
        snprintf(out, size, "/%s", ch->name);
}
