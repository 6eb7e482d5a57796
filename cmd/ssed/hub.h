/* The hub: channels, their history, and fan-out. An event is encoded once
 * into a shared_event; history and every subscriber's queue hold references
 * to those same bytes, so memory grows with events retained, not with
 * events times subscribers. */
#ifndef SSED_HUB_H
#define SSED_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "list.h"
#include "sse_encode.h"

typedef struct shared_event {
    uint32_t refs;
    uint64_t seq; /* publish order across all channels */
    int id_is_number;
    uint64_t id_number;
    const char *id; /* points into bytes, after the encoded event */
    size_t id_len;
    struct shared_event *envelope; /* the same event as a message envelope, made on first need */
    size_t len; /* encoded length */
    char bytes[];
} shared_event;

/* Encode an event (with its id) into a new shared_event holding one
 * reference. NULL with *rc set (an sse_encode error) on failure. */
shared_event *shared_event_new(const sse_out_event *ev, int *rc);
/* A shared_event of raw wire bytes (comments, notices); id empty. */
shared_event *shared_event_raw(const char *bytes, size_t len);
static inline shared_event *shared_event_ref(shared_event *e) {
    e->refs++;
    return e;
}
void shared_event_unref(shared_event *e);
/* envelope.c: the event as type `message` whose data is the JSON
 * {"type":TYPE,"data":DATA}, with the same id; for pages that can only
 * listen to message events. Made once per event and cached; comments and
 * other raw events are their own envelope. NULL if memory ran out. */
shared_event *shared_event_envelope(shared_event *e);

typedef struct channel channel;

typedef struct subscriber subscriber;

/* A subscriber's place in one channel's list. */
typedef struct sub_link {
    list_node node;
    channel *ch;
    subscriber *owner;
} sub_link;

/* A subscriber's view of its stream: the channels it follows (usually one,
 * kept inline) and a queue of references to shared events, the first
 * possibly partly written. Embedded in a connection. */
struct subscriber {
    sub_link link0;
    sub_link *more_links; /* the second and later channels */
    size_t link_count;
    list_node dirty_link; /* on hub.dirty while it has unflushed events */
    shared_event **queue; /* a ring; q_cap is a power of two, so indexes are masked */
    size_t q_head, q_len, q_cap;
    size_t head_offset;   /* bytes of queue[q_head] already written */
    size_t pending_bytes; /* unwritten bytes in the queue */
    int overflowed;       /* pending_bytes went past the limit */
    int envelope;         /* every event as type message, {"type","data"} (?envelope=1) */
    uint64_t events_queued;
};

struct channel {
    char *name;
    size_t name_len;
    channel *hash_next;
    shared_event **ring; /* history, oldest at ring_head */
    size_t ring_cap, ring_head, ring_len;
    list_node subscribers;
    size_t subscriber_count;
    int pinned; /* fed by an input: kept even with no subscribers */
    uint64_t events_in, events_out;
    int evicted_any;
    int last_evicted_is_number;
    uint64_t last_evicted_number;
};

typedef struct hub_stats {
    uint64_t slow_drops;
    uint64_t channels_created;
} hub_stats;

typedef struct hub {
    channel **buckets;
    size_t bucket_count, channel_count, max_channels;
    size_t history_max;
    size_t max_pending;
    uint64_t last_id;      /* the last numeric id handed out */
    uint64_t first_id;     /* the first id of this run: older ones are from before */
    uint64_t next_seq;
    list_node dirty;       /* subscribers with events to flush */
    hub_stats stats;
} hub;

int hub_init(hub *h, size_t history_max, size_t max_pending, size_t max_channels);
void hub_free(hub *h);

/* A channel name: up to 200 letters, digits, - _ . ~ and /, never "..". */
int hub_channel_name_valid(const char *name, size_t len);

/* The channel of that name, created if asked and allowed; NULL otherwise. */
channel *hub_channel(hub *h, const char *name, size_t len, int create);
/* Free a channel nobody needs: no subscribers, no history. */
void hub_release_channel(hub *h, channel *ch);

/* A fresh numeric id: increasing, seeded from the clock (microseconds), so
 * ids stay increasing across restarts. */
uint64_t hub_next_id(hub *h);

/* Retain ev in the channel's history and queue it to every subscriber.
 * Takes over the caller's reference. */
void hub_publish(hub *h, channel *ch, shared_event *ev);
/* Encode and publish an event; one without an id (has_id == 0) gets a
 * fresh numeric one from hub_next_id. An sse_encode error code, nothing
 * published, when the event is invalid. */
int hub_publish_event(hub *h, channel *ch, const sse_out_event *ev);

/* Queue to a new subscriber the history it is owed: with a Last-Event-ID
 * (last_id != NULL), every retained event after it in any of its channels;
 * otherwise the last `replay` events. Events of several channels come in
 * publish order. If events after last_id are no longer retained (a gap),
 * on_gap is called first, so it can queue a notice ahead of them. */
void hub_queue_history(hub *h, subscriber *s, const char *last_id, size_t last_id_len, size_t replay,
                       void (*on_gap)(void *ctx), void *ctx);
static inline shared_event *channel_history_at(const channel *ch, size_t i) {
    return ch->ring[(ch->ring_head + i) % ch->ring_cap];
}

/* Follow these channels (all at once: the links must not move later). */
int subscriber_attach(hub *h, subscriber *s, channel **channels, size_t count);
static inline channel *subscriber_channel(const subscriber *s) { return s->link_count ? s->link0.ch : NULL; }
void subscriber_detach(hub *h, subscriber *s);
/* Queue a reference to ev; marks the subscriber dirty, or overflowed when
 * its pending bytes pass the hub's max_pending. */
void subscriber_enqueue(hub *h, subscriber *s, shared_event *ev);
/* Drop the first `written` bytes of the queue after a write. */
void subscriber_consume(subscriber *s, size_t written);

#endif
