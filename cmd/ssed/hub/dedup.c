#include "dedup.h"

#include <stddef.h>

/* Open addressing over a small window; when the window is full the least
 * recently used entry in it is replaced. */
#define PROBE_WINDOW 16

static dedup_entry *find(dedup_table *t, uint64_t session, int create) {
    size_t start = (size_t)(session * 0x9E3779B97F4A7C15ULL >> 52) % DEDUP_SESSIONS;
    dedup_entry *victim = NULL;
    for (size_t i = 0; i < PROBE_WINDOW; i++) {
        dedup_entry *e = &t->entries[(start + i) % DEDUP_SESSIONS];
        if (e->session == session)
            return e;
        if (victim && victim->session == 0)
            continue; /* a free entry is the best place already */
        if (!victim || e->session == 0 || e->last_used < victim->last_used)
            victim = e;
    }
    if (!create)
        return NULL;
    victim->session = session;
    victim->next_seq = 0;
    return victim;
}

uint64_t dedup_next(dedup_table *t, uint64_t session) {
    dedup_entry *e = find(t, session, 0);
    return e ? e->next_seq : 0;
}

void dedup_published(dedup_table *t, uint64_t session, uint64_t seq) {
    dedup_entry *e = find(t, session, 1);
    if (seq + 1 > e->next_seq)
        e->next_seq = seq + 1;
    e->last_used = ++t->clock;
    if (t->changed)
        t->changed(t->changed_ctx, (size_t)(e - t->entries));
}
