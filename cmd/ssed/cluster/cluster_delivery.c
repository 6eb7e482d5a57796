/* Per-channel continuity of a cluster's events (see cluster_delivery.h).
 * Every message first joins its channel's queue of held messages; the
 * queue drains while no fill is outstanding, so the order of delivery is
 * the order of arrival, fills slotted in where the holes were. */
#include "cluster_delivery.h"

#include <stdlib.h>
#include <string.h>

struct held_message {
    held_message *next;
    int covered; /* a fill read the stream after it arrived: if it still does
                    not follow, the stream cannot say what came between */
    uint64_t n, prev;
    size_t len;
    char enc[]; /* the event's encoding (cluster_message.h) */
};

struct chan_state {
    chan_state *hash_next;
    char *name;
    size_t len;
    uint64_t last;  /* cluster number of the last event delivered */
    int filling;    /* a fill is wanted; messages wait behind it */
    int in_flight;  /* and has been sent */
    uint64_t fill_after; /* the wanted fill reads after this (0: the tail) */
    int quiet;      /* the fill is the node's first read of the channel, at
                       start: old events, for history only */
    size_t held_count;
    held_message *held, **held_tail;
};

static size_t name_hash(const char *s, size_t len) {
    uint64_t x = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++)
        x = (x ^ (unsigned char)s[i]) * 1099511628211ULL;
    return (size_t)x;
}

int delivery_init(delivery *d, const delivery_hooks *hooks, uint64_t history) {
    memset(d, 0, sizeof *d);
    d->hooks = *hooks;
    d->history = history;
    d->bucket_count = 256;
    d->buckets = calloc(d->bucket_count, sizeof *d->buckets);
    return d->buckets ? 0 : -1;
}

static void free_held(chan_state *cs) {
    while (cs->held) {
        held_message *m = cs->held;
        cs->held = m->next;
        free(m);
    }
    cs->held_tail = &cs->held;
    cs->held_count = 0;
}

void delivery_free(delivery *d) {
    for (size_t b = 0; b < d->bucket_count && d->buckets; b++)
        for (chan_state *cs = d->buckets[b], *next; cs; cs = next) {
            next = cs->hash_next;
            free_held(cs);
            free(cs->name);
            free(cs);
        }
    free(d->buckets);
    d->buckets = NULL;
}

static chan_state *find(const delivery *d, const char *chan, size_t len) {
    for (chan_state *cs = d->buckets[name_hash(chan, len) % d->bucket_count]; cs; cs = cs->hash_next)
        if (cs->len == len && memcmp(cs->name, chan, len) == 0)
            return cs;
    return NULL;
}

/* The channel's state, made on first sight; NULL when memory ran out. */
static chan_state *find_or_add(delivery *d, const char *chan, size_t len) {
    chan_state *cs = find(d, chan, len);
    if (cs)
        return cs;
    cs = calloc(1, sizeof *cs);
    if (!cs || !(cs->name = malloc(len + 1))) {
        free(cs);
        return NULL;
    }
    memcpy(cs->name, chan, len);
    cs->name[len] = '\0';
    cs->len = len;
    cs->held_tail = &cs->held;
    size_t b = name_hash(chan, len) % d->bucket_count;
    cs->hash_next = d->buckets[b];
    d->buckets[b] = cs;
    d->channel_count++;
    return cs;
}

void delivery_each_channel(const delivery *d, void (*fn)(void *ctx, const char *chan, size_t len), void *ctx) {
    for (size_t b = 0; b < d->bucket_count; b++)
        for (const chan_state *cs = d->buckets[b]; cs; cs = cs->hash_next)
            fn(ctx, cs->name, cs->len);
}

uint64_t delivery_highest(const delivery *d) {
    uint64_t highest = 0;
    for (size_t b = 0; b < d->bucket_count; b++)
        for (const chan_state *cs = d->buckets[b]; cs; cs = cs->hash_next)
            if (cs->last > highest)
                highest = cs->last;
    return highest;
}

uint64_t delivery_last(const delivery *d, const char *chan, size_t len) {
    const chan_state *cs = find(d, chan, len);
    return cs ? cs->last : 0;
}

int delivery_channel_caught_up(const delivery *d, const char *chan, size_t len) {
    const chan_state *cs = find(d, chan, len);
    return !cs || !cs->filling;
}

static void set_filling(delivery *d, chan_state *cs, int filling) {
    if (cs->filling == filling)
        return;
    cs->filling = filling;
    if (filling)
        d->filling_count++;
    else
        d->filling_count--;
}

static void start_fill(delivery *d, chan_state *cs, uint64_t after) {
    set_filling(d, cs, 1);
    cs->fill_after = after;
    cs->in_flight = d->hooks.fill(d->hooks.ctx, cs->name, cs->len, after) == 0;
}

static void deliver(delivery *d, chan_state *cs, const cluster_event *ev, int live) {
    cs->last = ev->n;
    d->stats.delivered++;
    d->hooks.deliver(d->hooks.ctx, cs->name, cs->len, ev, live && !cs->quiet);
}

/* The next event of a channel in arrival order: delivered, or dropped
 * (seen already, malformed); 0 when it must wait for a fill, started here.
 * `covered`: a fill read the stream since it arrived, so if it still does
 * not follow, what came between is gone. */
static int settle(delivery *d, chan_state *cs, uint64_t n, uint64_t prev, const char *enc, size_t len, int covered) {
    if (n <= cs->last) {
        d->stats.duplicates_dropped++;
        return 1;
    }
    int follows = prev == cs->last;
    if (!follows && !covered) {
        d->stats.holes++;
        start_fill(d, cs, cs->last);
        return 0;
    }
    cluster_event ev;
    if (cluster_event_parse(enc, len, n, prev, &ev) < 0) {
        d->stats.malformed++;
        return 1;
    }
    if (!follows && cs->last) {
        d->stats.gaps++;
        d->hooks.gap(d->hooks.ctx, cs->name, cs->len, cs->last, &ev);
    }
    deliver(d, cs, &ev, 1);
    return 1;
}

/* Deliver held messages in order until one needs a fill first. */
static void drain(delivery *d, chan_state *cs) {
    while (cs->held && !cs->filling) {
        held_message *m = cs->held;
        if (!settle(d, cs, m->n, m->prev, m->enc, m->len, m->covered)) {
            m->covered = 1;
            return;
        }
        cs->held = m->next;
        cs->held_count--;
        if (!cs->held)
            cs->held_tail = &cs->held;
        free(m);
    }
}

/* An event that must wait (behind a fill, or behind others that do),
 * copied and queued behind the channel's others. */
static void hold_event(delivery *d, chan_state *cs, uint64_t n, uint64_t prev, const char *enc, size_t len,
                       int covered) {
    held_message *m = malloc(sizeof *m + len);
    if (!m) {
        /* Dropped like a pub/sub loss: the next event's continuity check
         * reads it back from the stream. */
        d->stats.malformed++;
        return;
    }
    if (cs->held_count >= DELIVERY_HELD_MAX) {
        /* A fill that does not come back must not grow memory without
         * bound. What is dropped is in the stream, where the fill reads it
         * (or, gone from there too, announces the gap). */
        d->stats.held_dropped += cs->held_count;
        free_held(cs);
    }
    m->next = NULL;
    m->covered = covered;
    m->n = n;
    m->prev = prev;
    m->len = len;
    memcpy(m->enc, enc, len);
    *cs->held_tail = m;
    cs->held_tail = &m->next;
    cs->held_count++;
    drain(d, cs);
}

/* What a fill's answer is checked against while its entries are split. */
typedef struct fill_target {
    delivery *d;
    chan_state *cs;
    uint64_t after; /* the read's start: an entry may begin before it */
    uint64_t old;   /* a tail read's events before the newest --history */
} fill_target;

static void fill_event(void *ctx, uint64_t n, uint64_t prev, const char *enc, size_t len) {
    fill_target *t = ctx;
    delivery *d = t->d;
    chan_state *cs = t->cs;
    int old = t->old > 0;
    if (old && --t->old > 0)
        return; /* history would let it go at once, the next older with it */
    if (n <= t->after)
        return; /* the first entry's events before the hole, read with it */
    if (n <= cs->last) {
        d->stats.duplicates_dropped++;
        return;
    }
    cluster_event ev;
    if (cluster_event_parse(enc, len, n, prev, &ev) < 0) {
        d->stats.malformed++;
        return;
    }
    if (cs->last && prev != cs->last && prev != 0) {
        d->stats.gaps++;
        d->hooks.gap(d->hooks.ctx, cs->name, cs->len, cs->last, &ev);
    }
    d->stats.filled++;
    deliver(d, cs, &ev, !old);
}

void delivery_filled(delivery *d, const char *chan, size_t len, const char *const *msgs, const size_t *lens,
                     size_t count, uint64_t read_on_after) {
    chan_state *cs = find(d, chan, len);
    if (!cs || !cs->filling)
        return;
    cs->in_flight = 0;
    fill_target t = {d, cs, cs->fill_after, 0};
    if (cs->fill_after == 0 && d->history) {
        /* The tail is read as whole entries, each of one or many events:
         * only the newest --history are delivered. Of the older ones only
         * the newest goes, to history only, which lets it go at once and
         * remembers that it did: a resume from before it is then a gap
         * exactly when it would be on a single ssed. */
        uint64_t total = 0;
        for (size_t i = 0; i < count; i++)
            total += cluster_message_count(msgs[i], lens[i]);
        t.old = total > d->history ? total - d->history : 0;
    }
    for (size_t i = 0; i < count; i++)
        if (cluster_message_split(msgs[i], lens[i], fill_event, &t) < 0)
            d->stats.malformed++;
    /* Read on after the last entry read, even when it was garbled; a
     * stream that does not advance is not read forever. */
    if (read_on_after > cs->fill_after) {
        start_fill(d, cs, read_on_after > cs->last ? read_on_after : cs->last);
        return;
    }
    set_filling(d, cs, 0);
    cs->quiet = 0;
    drain(d, cs);
}

void delivery_fill_failed(delivery *d, const char *chan, size_t len) {
    chan_state *cs = find(d, chan, len);
    if (cs && cs->in_flight) {
        cs->in_flight = 0;
        d->stats.fills_failed++;
    }
}

void delivery_retry_fills(delivery *d) {
    for (size_t b = 0; b < d->bucket_count; b++)
        for (chan_state *cs = d->buckets[b]; cs; cs = cs->hash_next)
            if (cs->filling && !cs->in_flight)
                start_fill(d, cs, cs->fill_after);
}

void delivery_resync(delivery *d, const char *const *names, const size_t *lens, size_t count) {
    for (size_t i = 0; i < count; i++)
        find_or_add(d, names[i], lens[i]);
    for (size_t b = 0; b < d->bucket_count; b++)
        for (chan_state *cs = d->buckets[b]; cs; cs = cs->hash_next)
            if (!cs->in_flight) {
                /* Only at start is what the stream holds old news. At a
                 * later resync, a channel this node has delivered nothing
                 * of may have subscribers waiting for exactly those events
                 * (they connected once the node was ready). */
                cs->quiet = cs->last == 0 && !d->resynced;
                start_fill(d, cs, cs->last);
            }
    d->resynced = 1;
}

typedef struct split_target {
    delivery *d;
    chan_state *cs;
} split_target;

/* Each event of a pub/sub message: delivered at once while nothing waits
 * (no copy), else held in order. */
static void take_event(void *ctx, uint64_t n, uint64_t prev, const char *enc, size_t len) {
    split_target *t = ctx;
    int covered = 0;
    if (!t->cs->held && !t->cs->filling) {
        if (settle(t->d, t->cs, n, prev, enc, len, 0))
            return;
        covered = 1; /* its fill was just started */
    }
    hold_event(t->d, t->cs, n, prev, enc, len, covered);
}

void delivery_message(delivery *d, const char *chan, size_t len, const char *msg, size_t msg_len) {
    split_target t = {d, find_or_add(d, chan, len)};
    if (!t.cs) {
        /* Out of memory: dropped like a pub/sub loss (read back from the
         * stream after the next event's continuity check). */
        d->stats.malformed++;
        return;
    }
    if (cluster_message_split(msg, msg_len, take_event, &t) < 0)
        d->stats.malformed++;
}
