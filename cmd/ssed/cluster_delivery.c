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
    size_t len;
    char msg[];
};

struct chan_state {
    chan_state *hash_next;
    char *name;
    size_t len;
    uint64_t last;  /* cluster number of the last event delivered */
    int filling;    /* a fill is wanted; messages wait behind it */
    int in_flight;  /* and has been sent */
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

int delivery_init(delivery *d, const delivery_hooks *hooks) {
    memset(d, 0, sizeof *d);
    d->hooks = *hooks;
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

uint64_t delivery_last(const delivery *d, const char *chan, size_t len) {
    const chan_state *cs = find(d, chan, len);
    return cs ? cs->last : 0;
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

static void start_fill(delivery *d, chan_state *cs) {
    set_filling(d, cs, 1);
    cs->in_flight = d->hooks.fill(d->hooks.ctx, cs->name, cs->len, cs->last) == 0;
}

static void deliver(delivery *d, chan_state *cs, const cluster_event *ev) {
    cs->last = ev->n;
    d->stats.delivered++;
    d->hooks.deliver(d->hooks.ctx, cs->name, cs->len, ev, !cs->quiet);
}

/* Deliver held messages in order until one needs a fill first. */
static void drain(delivery *d, chan_state *cs) {
    while (cs->held && !cs->filling) {
        held_message *m = cs->held;
        cluster_event ev;
        int parsed = cluster_event_parse(m->msg, m->len, &ev) == 0;
        if (!parsed) {
            d->stats.malformed++;
        } else if (ev.n <= cs->last) {
            d->stats.duplicates_dropped++;
        } else if (ev.prev == cs->last) {
            deliver(d, cs, &ev);
        } else if (m->covered) {
            /* The stream was read after this arrived and still has nothing
             * between: what came before it is gone. */
            if (cs->last) {
                d->stats.gaps++;
                d->hooks.gap(d->hooks.ctx, cs->name, cs->len, cs->last, &ev);
            }
            deliver(d, cs, &ev);
        } else {
            m->covered = 1;
            d->stats.holes++;
            start_fill(d, cs);
            return;
        }
        cs->held = m->next;
        cs->held_count--;
        if (!cs->held)
            cs->held_tail = &cs->held;
        free(m);
    }
}

/* One event of a pub/sub message, queued behind the channel's others. */
static void hold_event(delivery *d, chan_state *cs, const char *msg, size_t msg_len) {
    held_message *m = malloc(sizeof *m + msg_len);
    if (!m) {
        /* Dropped like a pub/sub loss: the next event's continuity check
         * reads it back from the stream. */
        d->stats.malformed++;
        free(m);
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
    m->covered = 0;
    m->len = msg_len;
    memcpy(m->msg, msg, msg_len);
    *cs->held_tail = m;
    cs->held_tail = &m->next;
    cs->held_count++;
    drain(d, cs);
}

void delivery_filled(delivery *d, const char *chan, size_t len, const char *const *msgs, const size_t *lens,
                     size_t count, int more) {
    chan_state *cs = find(d, chan, len);
    if (!cs || !cs->filling)
        return;
    cs->in_flight = 0;
    for (size_t i = 0; i < count; i++) {
        cluster_event ev;
        if (cluster_event_parse(msgs[i], lens[i], &ev) < 0) {
            d->stats.malformed++;
            continue;
        }
        if (ev.n <= cs->last) {
            d->stats.duplicates_dropped++;
            continue;
        }
        if (cs->last && ev.prev != cs->last) {
            d->stats.gaps++;
            d->hooks.gap(d->hooks.ctx, cs->name, cs->len, cs->last, &ev);
        }
        d->stats.filled++;
        deliver(d, cs, &ev);
    }
    if (more && count > 0) {
        start_fill(d, cs);
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
                start_fill(d, cs);
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
                start_fill(d, cs);
            }
    d->resynced = 1;
}

typedef struct split_target {
    delivery *d;
    chan_state *cs;
} split_target;

static void hold_piece(void *ctx, const char *piece, size_t len) {
    split_target *t = ctx;
    hold_event(t->d, t->cs, piece, len);
}

void delivery_message(delivery *d, const char *chan, size_t len, const char *msg, size_t msg_len) {
    split_target t = {d, find_or_add(d, chan, len)};
    if (!t.cs) {
        /* Out of memory: dropped like a pub/sub loss (read back from the
         * stream after the next event's continuity check). */
        d->stats.malformed++;
        return;
    }
    if (cluster_message_split(msg, msg_len, hold_piece, &t) < 0)
        d->stats.malformed++;
}
