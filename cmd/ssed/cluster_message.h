/* How an event travels through Redis. A publishing node encodes each event
 * of a batch as "RETRY TYPELEN IDLEN\n" TYPE ID DATA (IDLEN -1: no id of
 * the publisher's own; RETRY -1: none); the publish script prefixes the
 * cluster number it takes and the number of the channel's previous event,
 * "N PREV ", and that text is the stream entry (field e). An event whose
 * publisher gave no id is sent with N as its id, so ids are numeric and
 * increasing across the cluster.
 * The pub/sub message of a script call is a batch: "*COUNT\n", then for
 * each event "LEN\n" and its entry text, oldest first. */
#ifndef SSED_CLUSTER_MESSAGE_H
#define SSED_CLUSTER_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sse_encode.h"

typedef struct cluster_event {
    uint64_t n;    /* its cluster number; the stream entry is N-0 */
    uint64_t prev; /* the channel's event before it; 0: none known */
    sse_out_event ev; /* points into the message */
    char number_id[24]; /* N as text, the id when the publisher gave none;
                         * ev.id may point here, so parse in place, never copy */
} cluster_event;

/* One request's or one input read's events, sent in one script call. */
/* SSE-Sequence numbers from here on are refused (400): the publish script
 * compares them as Lua numbers, exact only below 2^53. */
#define CLUSTER_MAX_SEQUENCE (UINT64_C(1) << 53)

typedef struct cluster_batch {
    buf bytes;      /* the encoded events, one after another */
    size_t *ends;   /* where each ends in bytes */
    size_t count, cap;
    uint64_t session;   /* the publisher's SSE-Publisher; 0: none */
    uint64_t first_seq; /* SSE-Sequence of the first event */
} cluster_batch;

/* Append an event; -1 when memory ran out. */
int cluster_batch_add(cluster_batch *b, const sse_out_event *ev);
void cluster_batch_clear(cluster_batch *b);
void cluster_batch_free(cluster_batch *b);
static inline size_t cluster_batch_start(const cluster_batch *b, size_t i) { return i ? b->ends[i - 1] : 0; }

/* Parse one event's text (a stream entry, or a piece of a batch); 0, or
 * -1 when malformed. */
int cluster_event_parse(const char *msg, size_t len, cluster_event *out);

/* Hand each event of a pub/sub message to `piece` in order: every piece
 * of a batch, or the message itself when it is not one. -1 when the batch
 * is malformed (pieces before the fault were handed over; the rest are
 * lost like a pub/sub loss, and read back from the stream). */
typedef void (*cluster_piece_fn)(void *ctx, const char *piece, size_t len);
int cluster_message_split(const char *msg, size_t len, cluster_piece_fn piece, void *ctx);

#endif
