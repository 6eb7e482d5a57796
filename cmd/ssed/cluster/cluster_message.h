/* How events travel through Redis. A publishing node encodes each event of
 * a batch as "RETRY TYPELEN IDLEN\n" TYPE ID DATA (IDLEN -1: no id of the
 * publisher's own; RETRY -1: none) and frames it as "LEN\n" and those
 * bytes; a script call gets the framed events of one part as one argument
 * (the body), with their count. The script numbers them as a range and
 * prefixes one header, so a call's message, and its one stream entry
 * (field b, entry id LAST-0), is
 *   "#FIRST PREV COUNT\n" BODY
 * the events being numbered FIRST .. FIRST+COUNT-1 in order, the first
 * following PREV (the channel's previous number; 0: none). An event whose
 * publisher gave no id is sent with its number as id, so ids are numeric
 * and increasing across the cluster.
 * Still read, as written by the version before (a Redis after an upgrade,
 * a node not yet upgraded): stream entries with field e holding one event
 * as "N PREV " and its encoding, and pub/sub batches "*COUNT\n" then per
 * event "LEN\n" and such an entry's text. */
#ifndef SSED_CLUSTER_MESSAGE_H
#define SSED_CLUSTER_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sse_encode.h"

typedef struct cluster_event {
    uint64_t n;    /* its cluster number */
    uint64_t prev; /* the channel's event before it; 0: none known */
    sse_out_event ev; /* points into the message */
    char number_id[24]; /* N as text, the id when the publisher gave none;
                         * ev.id may point here, so parse in place, never copy */
} cluster_event;

/* SSE-Sequence numbers from here on are refused (400): the publish script
 * compares them as Lua numbers, exact only below 2^53. */
#define CLUSTER_MAX_SEQUENCE (UINT64_C(1) << 53)

/* One request's or one input read's events, sent in script calls of
 * consecutive events. */
typedef struct cluster_batch {
    buf bytes;      /* the framed events ("LEN\n" ENCODING), one after another */
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

/* Parse one event's encoding (without "LEN\n"), numbered n after prev; 0,
 * or -1 when malformed. */
int cluster_event_parse(const char *enc, size_t len, uint64_t n, uint64_t prev, cluster_event *out);

/* Hand each event of a message (a pub/sub message or a stream entry, in
 * any of the formats above) to `fn` in order, with its number, previous
 * number and encoding. -1 when the message is malformed: events before the
 * fault were handed over; the rest are lost like a pub/sub loss, and read
 * back from the stream. Lengths and counts are checked against the
 * message's size, so nothing is read outside it whatever it holds. */
typedef void (*cluster_event_fn)(void *ctx, uint64_t n, uint64_t prev, const char *enc, size_t len);
int cluster_message_split(const char *msg, size_t len, cluster_event_fn fn, void *ctx);
/* How many events the message says it holds (0 when it cannot tell). */
uint64_t cluster_message_count(const char *msg, size_t len);
/* The number of the stream entry that holds the same text as the message
 * (entry id LAST-0: its last event's number; the version before's single
 * event: its number). 0 when it cannot tell: malformed (the split refuses
 * it), or the version before's batch of several entries. */
int cluster_message_last(const char *msg, size_t len, uint64_t *last);
/* Each stream entry whose text the message must match, as `fn`(number
 * of the entry, that text) in order: a script call's message is one entry
 * (id LAST-0, the whole message), the version before's single event one
 * (its number), its batch "*COUNT" one per piece (each piece's text, an
 * entry of field e). The number of entries, or -1 when the message is
 * malformed (fn was called for the entries before the fault). */
typedef void (*cluster_entry_fn)(void *ctx, uint64_t number, const char *text, size_t len);
long long cluster_message_entries(const char *msg, size_t len, cluster_entry_fn fn, void *ctx);
/* The previous number a script call's message ("#FIRST PREV COUNT")
 * names: 1 with *prev set, 0 for any other format or a malformed one. */
int cluster_message_prev(const char *msg, size_t len, uint64_t *prev);

#endif
