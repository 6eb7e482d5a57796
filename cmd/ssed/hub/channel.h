/* A channel's fields, read by the three modules that share it: the hub
 * owns channels (the table, holds, limits), history keeps its ring and
 * eviction marks, and subscribers sit on its list. Data only: no module
 * behind it, so it depends on nothing above shared_event.
 *
 * Lifetime: a channel is held by every subscriber link, every publisher
 * whose body is in progress, and the input that feeds it (hub.h); its
 * history keeps it too. */
#ifndef SSED_CHANNEL_H
#define SSED_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "list.h"
#include "shared_event.h"

typedef struct channel {
    char *name;
    size_t name_len;
    struct channel *hash_next;
    shared_event **ring; /* history, oldest at ring_head */
    size_t ring_cap, ring_head, ring_len;
    list_node subscribers; /* sub_link.node of each subscriber following it */
    size_t subscriber_count;
    uint32_t holders;  /* subscriber links, publishers, inputs */
    int waiting;       /* created by a subscriber; nothing published yet */
    uint64_t events_in, events_out;
    int evicted_any;           /* events of it are no longer retained */
    uint64_t last_evicted_seq; /* seq of the newest event evicted */
    int last_evicted_is_number;
    uint64_t last_evicted_number;
    uint64_t journal_id; /* its number in the journal (--store); 0: none yet */
} channel;

#endif
