/* Channels and publishing: the channel table, the ids ssed hands out, and
 * fan-out of each event to the channel's history and live subscribers. */
#include "hub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "clock.h"

static uint64_t wall_clock_us(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
}

/* History emptied a channel other than the one it appended to. */
static void history_emptied(void *ctx, channel *ch) { hub_channel_collect(ctx, ch); }

/* Where a subscriber's replay stops (subscriber_hooks). */
static uint64_t replay_end(void *ctx) { return hub_first_held_seq(ctx); }

/* A subscriber let go of ch (subscriber_hooks). */
static void release_channel(void *ctx, channel *ch) { hub_channel_release(ctx, ch); }

int hub_init(hub *h, const hub_limits *limits) {
    memset(h, 0, sizeof *h);
    h->bucket_count = 256;
    h->buckets = calloc(h->bucket_count, sizeof *h->buckets);
    if (!h->buckets)
        return -1;
    h->limits = *limits;
    h->first_id = wall_clock_us();
    h->last_id = h->first_id - 1;
    h->grow = realloc;
    history_init(&h->history, limits->history_max, limits->max_history_bytes, h->first_id);
    h->history.emptied = history_emptied;
    h->history.ctx = h;
    subscriber_hooks hooks = {replay_end, release_channel, h};
    subscriber_set_init(&h->subs, limits->max_pending, &h->history, &hooks);
    return 0;
}

uint64_t hub_next_id(hub *h) {
    uint64_t now = wall_clock_us();
    h->last_id = now > h->last_id ? now : h->last_id + 1;
    return h->last_id;
}

int hub_channel_name_valid(const char *name, size_t len) {
    if (len > 200)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (!(ch == '-' || ch == '_' || ch == '.' || ch == '~' || ch == '/' || (ch >= '0' && ch <= '9') ||
              (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
            return 0;
        if (ch == '.' && i + 1 < len && name[i + 1] == '.')
            return 0;
    }
    return 1;
}

static size_t name_hash(const char *s, size_t len) {
    uint64_t x = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++)
        x = (x ^ (unsigned char)s[i]) * 1099511628211ULL;
    return (size_t)x;
}

channel *hub_channel_find(hub *h, const char *name, size_t len) {
    size_t b = name_hash(name, len) % h->bucket_count;
    for (channel *c = h->buckets[b]; c; c = c->hash_next)
        if (c->name_len == len && memcmp(c->name, name, len) == 0)
            return c;
    return NULL;
}

/* A channel that nothing waits on only because of a subscriber any more
 * counts against the publishers' budget from now on. */
static void channel_stop_waiting(hub *h, channel *c) {
    if (c->waiting) {
        c->waiting = 0;
        h->waiting_count--;
    }
}

static channel *channel_create(hub *h, const char *name, size_t len, enum hub_acquire_for purpose) {
    size_t published = h->channel_count - h->waiting_count;
    if (purpose == HUB_FOR_SUBSCRIBING ? h->waiting_count >= h->limits.max_waiting
                                       : published >= h->limits.max_channels)
        return NULL;
    channel *c = calloc(1, sizeof *c);
    if (!c || !(c->name = malloc(len + 1))) {
        free(c);
        return NULL;
    }
    memcpy(c->name, name, len);
    c->name[len] = '\0';
    c->name_len = len;
    list_init(&c->subscribers);
    if (h->forgot_any) {
        c->evicted_any = 1;
        c->last_evicted_seq = h->forgot_seq;
        c->last_evicted_is_number = 1;
        c->last_evicted_number = h->forgot_number;
    }
    size_t b = name_hash(name, len) % h->bucket_count;
    c->hash_next = h->buckets[b];
    h->buckets[b] = c;
    h->channel_count++;
    h->stats.channels_created++;
    if (purpose == HUB_FOR_SUBSCRIBING) {
        c->waiting = 1;
        h->waiting_count++;
    }
    return c;
}

channel *hub_channel_acquire(hub *h, const char *name, size_t len, enum hub_acquire_for purpose) {
    channel *c = hub_channel_find(h, name, len);
    if (c && purpose == HUB_FOR_PUBLISHING && c->waiting) {
        /* A subscriber made it; a publisher now needs a place in its own
         * budget for it. */
        if (h->channel_count - h->waiting_count >= h->limits.max_channels)
            return NULL;
        channel_stop_waiting(h, c);
    }
    if (!c && !(c = channel_create(h, name, len, purpose)))
        return NULL;
    c->holders++;
    return c;
}

/* Keep the newest eviction of a channel about to be freed. */
static void forget_channel(hub *h, const channel *c) {
    if (!c->evicted_any)
        return;
    h->forgot_any = 1;
    if (c->last_evicted_seq > h->forgot_seq)
        h->forgot_seq = c->last_evicted_seq;
    uint64_t number = c->last_evicted_is_number ? c->last_evicted_number : UINT64_MAX;
    if (number > h->forgot_number)
        h->forgot_number = number;
}

static void channel_free(hub *h, channel *c) {
    forget_channel(h, c);
    if (h->history.journal)
        h->history.journal->channel_freed(h->history.journal->ctx, c);
    history_free(&h->history, c);
    free(c->name);
    free(c);
}

void hub_for_each_channel(const hub *h, void (*fn)(void *ctx, const channel *ch), void *ctx) {
    for (size_t b = 0; b < h->bucket_count; b++)
        for (const channel *c = h->buckets[b]; c; c = c->hash_next)
            fn(ctx, c);
}

void hub_channel_release(hub *h, channel *ch) {
    ch->holders--;
    hub_channel_collect(h, ch);
}

void hub_channel_collect(hub *h, channel *ch) {
    if (ch->holders > 0 || ch->ring_len > 0)
        return;
    channel **pp = &h->buckets[name_hash(ch->name, ch->name_len) % h->bucket_count];
    while (*pp && *pp != ch)
        pp = &(*pp)->hash_next;
    if (!*pp)
        return;
    *pp = ch->hash_next;
    h->channel_count--;
    channel_stop_waiting(h, ch);
    channel_free(h, ch);
}

void hub_free(hub *h) {
    /* Their channels go below whoever holds them. */
    for (size_t i = 0; i < h->held_count; i++)
        shared_event_unref(h->held[i].ev);
    free(h->held);
    h->held = NULL;
    h->held_count = h->held_cap = 0;
    for (size_t i = 0; i < h->deferred_count; i++)
        shared_event_unref(h->deferred[i].ev);
    free(h->deferred);
    h->deferred = NULL;
    h->deferred_count = h->deferred_cap = 0;
    for (size_t b = 0; b < h->bucket_count; b++) {
        channel *c = h->buckets[b];
        while (c) {
            channel *next = c->hash_next;
            channel_free(h, c);
            c = next;
        }
    }
    free(h->buckets);
    h->buckets = NULL;
}

static void fan_out(hub *h, channel *ch, shared_event *ev) {
    for (list_node *n = ch->subscribers.next; n != &ch->subscribers; n = n->next) {
        subscriber *s = list_entry(n, sub_link, node)->owner;
        if (s->replaying || s->own_timeline)
            continue; /* it is in history, where the replay will find it; or
                       * the subscriber plays a recording of its own (replay.h) */
        if (ev->seq < s->live_from_seq)
            continue; /* held while it joined: its replay sent it already */
        subscriber_enqueue(&h->subs, s, ev, ch);
        ch->events_out++;
    }
}

void hub_send_live(hub *h, channel *ch, shared_event *ev) {
    for (list_node *n = ch->subscribers.next; n != &ch->subscribers; n = n->next) {
        subscriber *s = list_entry(n, sub_link, node)->owner;
        if (!s->replaying && !s->own_timeline)
            subscriber_enqueue(&h->subs, s, ev, ch);
    }
}

/* Append to a list of held events, taking over a reference on ev and
 * adding a hold on ch. */
static int held_push(hub *h, hub_held **list, size_t *count, size_t *cap, hub_held x) {
    if (*count == *cap) {
        size_t cap2 = *cap ? *cap * 2 : 64;
        hub_held *grown = h->grow(*list, cap2 * sizeof *grown);
        if (!grown)
            return -1;
        *list = grown;
        *cap = cap2;
    }
    x.ch->holders++;
    (*list)[(*count)++] = x;
    return 0;
}

/* Retain, then send now or (with fan-out held) once the store says. Out
 * of memory holding it: sent at once, as without a store, rather than
 * never. */
static void publish(hub *h, channel *ch, shared_event *ev, int keep) {
    channel_stop_waiting(h, ch);
    ev->seq = h->next_seq++;
    ev->chan_seq = ch->events_in++;
    ev->born_us = clock_now_us(); /* one clock read per event, however many subscribers */
    h->round_bytes += ev->len;
    if (h->gate && h->round_bytes >= h->limits.max_pending / 4)
        intake_gate_set(h->gate, INTAKE_ROUND, 1);
    history_append(&h->history, ch, ev);
    if (h->hold_fanout && held_push(h, &h->held, &h->held_count, &h->held_cap, (hub_held){ev, ch, keep}) == 0)
        return; /* the reference is the held slot's now */
    fan_out(h, ch, ev);
    shared_event_unref(ev);
}

void hub_publish(hub *h, channel *ch, shared_event *ev) { publish(h, ch, ev, 0); }

void hub_round_end(hub *h) {
    h->round_bytes = 0;
    if (h->gate)
        intake_gate_set(h->gate, INTAKE_ROUND, 0);
}

void hub_hold_fanout(hub *h) { h->hold_fanout = 1; }

void hub_release_held(hub *h) {
    /* Counted down first: fan-out and a channel freed by the release must
     * find the list as it will be. */
    size_t n = h->held_count;
    h->held_count = 0;
    for (size_t i = 0; i < n; i++) {
        hub_held x = h->held[i];
        fan_out(h, x.ch, x.ev);
        shared_event_unref(x.ev);
        hub_channel_release(h, x.ch);
    }
}

size_t hub_withdraw_held(hub *h) {
    size_t n = h->held_count;
    for (size_t i = 0; i < n; i++) {
        hub_held x = h->held[i];
        if (x.keep && held_push(h, &h->deferred, &h->deferred_count, &h->deferred_cap, x) == 0)
            shared_event_ref(x.ev);
    }
    while (h->held_count > 0) {
        hub_held x = h->held[--h->held_count];
        /* Newest first: each is the newest of its channel, in history or
         * not, so the channel's chan_seqs stay contiguous. */
        history_withdraw_newest(&h->history, x.ch, x.ev);
        x.ch->events_in--;
        x.ev->withdrawn = 1;
        const hub_journal *j = h->history.journal;
        if (j && j->withdrawn)
            j->withdrawn(j->ctx, x.ch, x.ev);
        shared_event_unref(x.ev);
        hub_channel_release(h, x.ch);
    }
    return n;
}

/* The event encoded, with a fresh id if it has none; NULL with *rc when it
 * is invalid or too large. */
static shared_event *hub_make_event(hub *h, const sse_out_event *ev, int *rc) {
    sse_out_event numbered = *ev;
    char numeric_id[24];
    if (numbered.has_id && numbered.id_len > HUB_MAX_ID_LEN) {
        *rc = HUB_ID_TOO_LONG;
        return NULL;
    }
    if (!numbered.has_id) {
        numbered.id_len = (size_t)snprintf(numeric_id, sizeof numeric_id, "%llu", (unsigned long long)hub_next_id(h));
        numbered.id = numeric_id;
        numbered.has_id = 1;
    }
    shared_event *e = shared_event_new(&numbered, rc);
    if (!e)
        return NULL;
    /* An event no subscriber could be sent under --max-pending would be
     * kept in history and drop everyone who is owed it. */
    if (e->len > h->limits.max_pending ||
        (h->limits.max_history_bytes && history_retained_size(e) > h->limits.max_history_bytes)) {
        shared_event_unref(e);
        *rc = HUB_EVENT_TOO_LARGE;
        return NULL;
    }
    return e;
}

/* `keep`: an input event, set aside rather than lost when its commit fails. */
static int make_and_publish(hub *h, channel *ch, const sse_out_event *ev, int keep) {
    int rc;
    shared_event *e = hub_make_event(h, ev, &rc);
    if (!e)
        return rc;
    publish(h, ch, e, keep);
    return SSE_ENCODE_OK;
}

int hub_publish_event(hub *h, channel *ch, const sse_out_event *ev) { return make_and_publish(h, ch, ev, 0); }

int hub_publish_input_event(hub *h, channel *ch, const sse_out_event *ev) { return make_and_publish(h, ch, ev, 1); }

size_t hub_republish_deferred(hub *h) {
    size_t n = h->deferred_count, lost = 0;
    h->deferred_count = 0;
    for (size_t i = 0; i < n; i++) {
        hub_held x = h->deferred[i];
        /* A fresh copy: the withdrawn one stays withdrawn for whoever
         * still follows it (publish.c). */
        shared_event *copy = shared_event_restore(x.ev->bytes, x.ev->len, x.ev->id, x.ev->id_len);
        if (copy)
            publish(h, x.ch, copy, 1);
        else
            lost++;
        shared_event_unref(x.ev);
        hub_channel_release(h, x.ch);
    }
    return lost;
}

size_t hub_drop_deferred(hub *h) {
    size_t n = h->deferred_count;
    h->deferred_count = 0;
    for (size_t i = 0; i < n; i++) {
        shared_event_unref(h->deferred[i].ev);
        hub_channel_release(h, h->deferred[i].ch);
    }
    return n;
}

int hub_event_check(hub *h, const sse_out_event *ev) {
    int rc;
    shared_event *e = hub_make_event(h, ev, &rc);
    if (!e)
        return rc;
    shared_event_unref(e);
    return SSE_ENCODE_OK;
}

int hub_retain_event(hub *h, channel *ch, const sse_out_event *ev) {
    int rc;
    shared_event *e = hub_make_event(h, ev, &rc);
    if (!e)
        return rc;
    e->seq = h->next_seq++;
    e->chan_seq = ch->events_in++;
    history_append(&h->history, ch, e);
    shared_event_unref(e);
    return SSE_ENCODE_OK;
}

void hub_announce_gap(hub *h, channel *ch, const char *asked, size_t asked_len, const char *first, size_t first_len) {
    /* Made once for streams of this channel alone, once for streams of
     * several (which are told which channel it was). */
    shared_event *plain = NULL, *named = NULL;
    for (list_node *n = ch->subscribers.next; n != &ch->subscribers; n = n->next) {
        subscriber *s = list_entry(n, sub_link, node)->owner;
        if (s->replaying)
            continue; /* its replay reads history, which tells it of any gap */
        shared_event **notice = s->link_count > 1 ? &named : &plain;
        if (!*notice)
            *notice = subscriber_gap_notice(asked, asked_len, first, first_len, s->link_count > 1 ? ch : NULL);
        if (*notice)
            subscriber_enqueue_owed(&h->subs, s, *notice);
    }
    if (plain)
        shared_event_unref(plain);
    if (named)
        shared_event_unref(named);
}

void hub_mark_hole(hub *h, channel *ch, uint64_t after, uint64_t last_lost) {
    (void)h;
    if (ch->ring_len == 0)
        return; /* not retained (--history 0): its eviction was remembered */
    shared_event *e = channel_history_at(ch, ch->ring_len - 1);
    e->hole_after = after;
    e->hole_last_lost = last_lost;
}

void hub_mark_cluster_number(hub *h, channel *ch, uint64_t n) {
    (void)h;
    if (ch->ring_len)
        channel_history_at(ch, ch->ring_len - 1)->cluster_number = n;
}

const char *hub_strerror(int rc) {
    switch (rc) {
    case HUB_ID_TOO_LONG:
        return "event id longer than 1024 bytes";
    case HUB_EVENT_TOO_LARGE:
        return "encoded event larger than --max-pending (or --max-history-bytes)";
    default:
        return sse_encode_strerror(rc);
    }
}
