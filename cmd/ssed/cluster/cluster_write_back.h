/* A node's part when Redis lost its data (the epoch changed,
 * cluster_link_epoch.c): it writes back every channel's history it still
 * holds, so nothing acknowledged is lost while a node that held it runs,
 * and a node started afterwards can resume from before the loss. The
 * events are taken from the hub's history (their cluster numbers,
 * shared_event.cluster_number), turned back into the cluster's encoding
 * (cluster_message.h) and merged into each stream by one script call per
 * channel (cluster_script_restore.c). One warning line says it, once every
 * channel's call is answered. */
#ifndef SSED_CLUSTER_WRITE_BACK_H
#define SSED_CLUSTER_WRITE_BACK_H

#include <stddef.h>
#include <stdint.h>

#include "cluster_delivery.h"
#include "cluster_link.h"
#include "hub.h"

typedef struct write_back_tally {
    size_t pending;     /* calls not answered yet */
    size_t channels;    /* calls sent for this loss */
    size_t failed;      /* calls answered with an error, or lost */
    uint64_t held;      /* events this node handed back */
    uint64_t written;   /* of them, what Redis did not hold yet */
} write_back_tally;

/* Write back every channel the delivery knows, from h's history. */
void cluster_write_back(hub *h, const delivery *d, cluster_link *k, write_back_tally *t);

/* One event of history in the cluster's one-event message form, "#N PREV
 * 1\n" LEN "\n" ENCODING, appended to out; -1 when its wire bytes cannot
 * be read back or memory ran out. Exposed for the unit tests. */
int cluster_write_back_message(const shared_event *e, uint64_t prev, buf *out);

#endif
