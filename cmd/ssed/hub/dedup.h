/* Exactly-once publishing across retries: a publisher (ssepub) numbers its
 * events and names itself with a random session id; ssed remembers, per
 * session, the next number it expects, so a batch resent after a lost answer
 * is not published twice. Bounded: the oldest sessions are forgotten. */
#ifndef SSED_DEDUP_H
#define SSED_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#define DEDUP_SESSIONS 4096

typedef struct dedup_entry {
    uint64_t session; /* 0: free */
    uint64_t next_seq;
    uint64_t last_used;
} dedup_entry;

typedef struct dedup_table {
    dedup_entry entries[DEDUP_SESSIONS];
    uint64_t clock;
    /* Told which entry changed, so a store can keep a copy (store.c);
     * NULL: the table lives in memory only. */
    void (*changed)(void *ctx, size_t slot);
    void *changed_ctx;
} dedup_table;

/* The next sequence number expected from `session` (0 if unknown). */
uint64_t dedup_next(dedup_table *t, uint64_t session);
/* Record that the event numbered `seq` was published. */
void dedup_published(dedup_table *t, uint64_t session, uint64_t seq);

#endif
