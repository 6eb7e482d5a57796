/* The hard cap on pub/sub messages waiting for their check against the
 * stream (cluster_link_verify.c): each waits, copied, until Redis answers
 * its check, so a Redis slow to answer while messages keep coming would
 * grow a node's memory without bound. Past either limit the link is
 * treated as behind: it reconnects, and the resync reads what the
 * subscription brought from the streams instead (man/ssed.1, CLUSTER). */
#ifndef SSED_CLUSTER_CHECK_BUDGET_H
#define SSED_CLUSTER_CHECK_BUDGET_H

#include <stddef.h>

#define CLUSTER_CHECK_MAX_MESSAGES 100000
#define CLUSTER_CHECK_MAX_BYTES ((size_t)64 << 20) /* 64 MiB */

typedef struct check_budget {
    size_t messages, bytes;         /* waiting now */
    size_t max_messages, max_bytes; /* the limits (tests make them small) */
} check_budget;

static inline void check_budget_init(check_budget *b, size_t max_messages, size_t max_bytes) {
    *b = (check_budget){0, 0, max_messages, max_bytes};
}

/* One more message of `bytes` waits: 0, or -1 (nothing taken) when it
 * would pass either limit. A message larger than the byte limit alone
 * still passes when nothing else waits, so one large call is never
 * refused for its own size. */
static inline int check_budget_take(check_budget *b, size_t bytes) {
    if (b->messages >= b->max_messages || (b->messages && b->bytes + bytes > b->max_bytes))
        return -1;
    b->messages++;
    b->bytes += bytes;
    return 0;
}

/* A message's check was answered (or lost): it waits no more. */
static inline void check_budget_give(check_budget *b, size_t bytes) {
    b->messages--;
    b->bytes -= bytes;
}

#endif
