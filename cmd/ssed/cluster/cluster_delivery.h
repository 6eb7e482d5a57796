/* Delivery in a cluster: Redis pub/sub is at-most-once, so each node checks,
 * per channel, that every event it receives follows the one it delivered
 * last (the message carries its channel's previous cluster number). When
 * one does not, the node reads the hole from the channel's stream (a fill)
 * and holds that channel's later messages until the fill is back, so
 * subscribers never see a hole that history covers, nor an event twice.
 * What the stream no longer holds is announced as a gap. An event that
 * knows no previous one (prev 0) on a channel that had some is read from
 * the stream like any that does not follow; found there, it follows what
 * was delivered: the publish script wrote it after Redis lost its data
 * (the channel's last number gone with it), and what the nodes held
 * before was written back (cluster_write_back.h), not lost.
 *
 * Pure logic over callbacks (no Redis, no hub), so it is unit-tested.
 * Invariants per channel: `last` only grows; an event is delivered only
 * when its prev is `last` (or after a gap was announced); at most one fill
 * is in flight; held messages keep their arrival order. */
#ifndef SSED_CLUSTER_DELIVERY_H
#define SSED_CLUSTER_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

#include "cluster_message.h"

typedef struct delivery_hooks {
    /* Deliver ev to the channel's history and, when `live`, to its local
     * subscribers (not live: read by a resync's first fill of a channel,
     * old events a subscriber gets only by asking for history). */
    void (*deliver)(void *ctx, const char *chan, size_t len, const cluster_event *ev, int live);
    /* Events after `last` up to ev->prev are lost: the stream no longer
     * has them. */
    void (*gap)(void *ctx, const char *chan, size_t len, uint64_t last, const cluster_event *ev);
    /* Read the channel's stream after cluster number `after` (0: its
     * newest --history entries, as history for a channel this node never
     * saw; an entry holds one script call's events, so one read from
     * `after` also gives the events before it in its first entry);
     * answered by delivery_filled or delivery_fill_failed. -1: cannot
     * now (Redis is down); delivery_resync or delivery_retry_fills asks
     * again. */
    int (*fill)(void *ctx, const char *chan, size_t len, uint64_t after);
    void *ctx;
} delivery_hooks;

typedef struct held_message held_message;
typedef struct chan_state chan_state;

typedef struct delivery_stats {
    uint64_t delivered;
    uint64_t duplicates_dropped; /* already delivered (by a fill, or twice) */
    uint64_t holes;              /* fills started because an event did not follow */
    uint64_t filled;             /* events delivered from the stream by fills */
    uint64_t gaps;               /* holes the stream could not cover */
    uint64_t malformed;
    uint64_t fills_failed;       /* answered with an error, or lost */
    uint64_t held_dropped;       /* messages dropped over DELIVERY_HELD_MAX */
} delivery_stats;

/* Messages held per channel behind a fill; past it they are dropped, and
 * read back from the stream by the fill. */
#define DELIVERY_HELD_MAX 10000

typedef struct delivery {
    delivery_hooks hooks;
    chan_state **buckets;
    size_t bucket_count, channel_count;
    size_t filling_count; /* channels waiting for a fill */
    uint64_t history;     /* --history: a tail read keeps this many (0: all) */
    int resynced;         /* the first resync (at start) was asked for */
    delivery_stats stats;
} delivery;

int delivery_init(delivery *d, const delivery_hooks *hooks, uint64_t history);
void delivery_free(delivery *d);

/* A pub/sub message for a channel: one event, or a script call's batch
 * (cluster_message.h), whose events are checked one by one. */
void delivery_message(delivery *d, const char *chan, size_t len, const char *msg, size_t msg_len);
/* A fill's answer: the stream's entries in order (messages as stored);
 * `read_on_after`: it stopped at its count, read on after this number (the
 * last entry's); 0: that was all. */
void delivery_filled(delivery *d, const char *chan, size_t len, const char *const *msgs, const size_t *lens,
                     size_t count, uint64_t read_on_after);
/* A fill failed (an error, or lost with the connection); the channel
 * keeps waiting for it until delivery_retry_fills or delivery_resync. */
void delivery_fill_failed(delivery *d, const char *chan, size_t len);
/* Ask again every fill that failed (the caller's timer, with backoff). */
void delivery_retry_fills(delivery *d);
/* No channel waits for a fill: every channel is caught up with its stream. */
static inline int delivery_caught_up(const delivery *d) { return d->filling_count == 0; }
/* Redis is (back) up: fill every channel known here and every one in
 * `names` (all channels Redis has), from what each delivered last, so what
 * pub/sub dropped while the link was down is read from the streams. */
void delivery_resync(delivery *d, const char *const *names, const size_t *lens, size_t count);
/* No fill is wanted for the channel: what it delivered follows, without
 * a hole, from what the stream held when it was last read. */
int delivery_channel_caught_up(const delivery *d, const char *chan, size_t len);
/* Call fn with the name of every channel the delivery knows. */
void delivery_each_channel(const delivery *d, void (*fn)(void *ctx, const char *chan, size_t len), void *ctx);
/* The highest cluster number delivered on any channel (0: none). */
uint64_t delivery_highest(const delivery *d);
/* The last cluster number delivered on a channel (0: none). */
uint64_t delivery_last(const delivery *d, const char *chan, size_t len);

#endif
