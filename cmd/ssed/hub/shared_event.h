/* An event encoded once into wire bytes and shared, by reference count, by
 * the history and every subscriber queue that holds it; and its variants,
 * each made once on first need and shared the same way: the message
 * envelope for pages that can only listen to message events, and the
 * tagged form for streams that follow several channels.
 *
 * Ownership: an event holds one reference on each variant it made (freed
 * with its last reference); a queue that holds a variant holds its own
 * reference on the variant, not on the event. */
#ifndef SSED_SHARED_EVENT_H
#define SSED_SHARED_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "list.h"
#include "sse_encode.h"

/* The longest event id ssed accepts at publish, and so the longest
 * Last-Event-ID it can resume from. */
#define HUB_MAX_ID_LEN 1024

struct channel;

typedef struct shared_event {
    uint32_t refs;
    uint64_t seq;      /* publish order across all channels */
    uint64_t chan_seq; /* publish order within its channel: 0, 1, 2... */
    uint64_t born_us;  /* monotonic time it was published live; 0: not (history, notices) */
    list_node history_link; /* on history.order while in a channel's history */
    struct channel *history_channel; /* that channel, while in its history */
    int id_is_number;
    uint64_t id_number;
    int withdrawn; /* taken back unsent: the store could not keep it (hub_withdraw_held) */
    /* A cluster's hole comes right before it in its channel: the events
     * numbered after hole_after up to hole_last_lost are lost for good
     * (hub_mark_hole). A replay that crosses it is told (ssed-gap), as a
     * resume from before an eviction is. 0: no hole. */
    uint64_t hole_after, hole_last_lost;
    /* Its cluster number (hub_mark_cluster_number; 0: not a cluster's), so
     * a node can write its history back to a Redis that lost its data. */
    uint64_t cluster_number;
    const char *id; /* the id exactly as sent (after UTF-8 repair); in bytes */
    size_t id_len;
    struct shared_event *envelope; /* the same event as a message envelope, made on first need */
    struct shared_event *tagged;   /* the same event after a comment naming its channel, made on first need */
    size_t len; /* encoded length */
    char bytes[];
} shared_event;

/* Encode an event (with its id) into a new shared_event holding one
 * reference. NULL with *rc set (an sse_encode error) on failure. */
shared_event *shared_event_new(const sse_out_event *ev, int *rc);
/* A shared_event of raw wire bytes (comments, notices); id empty. */
shared_event *shared_event_raw(const char *bytes, size_t len);
/* An event as shared_event_new made it, from its wire bytes and id as kept
 * (a store reading back what it saved). NULL if memory ran out. */
shared_event *shared_event_restore(const char *bytes, size_t len, const char *id, size_t id_len);
static inline shared_event *shared_event_ref(shared_event *e) {
    e->refs++;
    return e;
}
void shared_event_unref(shared_event *e);
/* The event as type `message` whose data is the JSON
 * {"type":TYPE,"data":DATA,"channel":"/NAME"}, with the same id, for pages
 * that can only listen to message events; "channel" names the channel the
 * event was published to (left out for ssed's own notices). Made once per
 * event and cached, so every call for an event names the same channel;
 * comments and other raw events are their own envelope. NULL if memory ran
 * out. */
shared_event *shared_event_envelope(shared_event *e, const char *channel, size_t channel_len);
/* The event's bytes preceded by the comment line ": ssed-channel /NAME",
 * for a stream that follows several channels: a comment, so every client
 * ignores it and the event's type, id and data are untouched, while a
 * client that knows the comment (ssecat) can say where the event came from.
 * Made once per event and cached, like the envelope. NULL if memory ran
 * out. */
shared_event *shared_event_tagged(shared_event *e, const char *channel, size_t channel_len);

/* An id of 1 to 19 ASCII digits, as a number. */
int event_id_parse_number(const char *s, size_t len, uint64_t *out);

#endif
