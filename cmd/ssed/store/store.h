/* Durable history (--store PATH): a write-behind copy of exactly what the
 * hub's history holds (events, ids, per-channel eviction marks) and of the
 * publisher dedup table, in an embedded SQLite database. Memory still
 * serves every read; the store is read only at start-up, so fan-out costs
 * nothing more.
 *
 * Changes reach the store through the hub's journal and the dedup table's
 * callback; they are queued and written together in one transaction by
 * store_commit, so a publish request's events and its dedup record land
 * together or not at all (what keeps a resend after a crash exactly-once).
 * Subscribers are sent an event only once a commit wrote it (the hub holds
 * fan-out back until then). A commit that fails (disk full, I/O error)
 * takes the events it could not write back out of the hub and the dedup
 * table, as if never published (their publishers are answered 503; events
 * from input are published again after the next commit that works), keeps
 * the rest of its changes (evictions, counters) and retries them at the
 * next commit, at most every STORE_RETRY_MS. A store whose file was
 * deleted or replaced while open refuses every commit until a restart.
 *
 * Ownership: the store holds a reference on every event queued and not yet
 * committed; the hub and the dedup table are the caller's, and must outlive
 * the store's attachment to them (store_detach). */
#ifndef SSED_STORE_H
#define SSED_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "dedup.h"
#include "hub.h"
#include "options.h"

/* When the store's file is forced to disk (fsync of its write-ahead log):
 * - always: after every commit, so before every publish is acknowledged
 *   and after every batch of input events;
 * - batch: before a publish is acknowledged, and within
 *   STORE_SYNC_INTERVAL_MS of any other commit;
 * - off: never (the kernel writes it back when it will).
 * Every mode commits at least once per loop iteration, so a process crash
 * loses nothing committed; a power loss loses at most what was not yet
 * synced, and the store stays consistent in every mode. */
#define STORE_SYNC_INTERVAL_MS 100
#define STORE_RETRY_MS 1000

typedef struct store store;

/* Whether this ssed was built with a store engine (make STORE=0: not). */
extern const int store_available;

/* Open or create the store at path (created 0600), locked for this
 * process. A symbolic link, a device or another program's database at path
 * is refused and left untouched; a store another ssed holds, one another
 * process keeps locked (waited for a few seconds, then named by its PID),
 * or one that is damaged is an error naming the path; with repair, a
 * damaged store (only that) is moved aside to PATH.corrupt and a new empty
 * one is started. NULL with err filled on failure. */
store *store_open(const char *path, enum store_sync sync, int repair, char *err, size_t errlen);
/* Put what the store holds back into the hub and the dedup table (fresh,
 * empty ones), then attach to both so later changes are kept. Limits
 * smaller than the store's history evict its oldest events, as a publish
 * would. -1 with err filled on failure. */
int store_load(store *s, hub *h, dedup_table *d, char *err, size_t errlen);
/* Write what changed since the last commit in one transaction. ack: a
 * publish is about to be acknowledged, so --sync batch syncs too. 0 when
 * everything so far is committed (and synced as the mode asks); -1 with
 * err filled when not (the changes are kept for the next attempt). */
int store_commit(store *s, int ack, char *err, size_t errlen);
/* Whether the last commit failed and its changes still wait. */
int store_failing(const store *s);
/* Why, while it fails: "store PATH: ...". */
const char *store_error(const store *s);
/* Whether the failure is final (a failed fsync, the file deleted or
 * replaced): nothing is retried, only a restart helps. */
int store_broken(const store *s);
/* How many events were taken back since the last call, because the
 * commit that should have written them failed (never sent, not in
 * history; their publishers got 503, and input events are published
 * again once a commit succeeds); *input_lost: how many input events are
 * lost: memory ran out publishing them again, or the store can never
 * write again (store_broken). */
uint64_t store_take_withdrawn(store *s, uint64_t *input_lost);
/* The batch mode's periodic sync, and retries after a failure: what is due
 * at now_ms. -1 with err filled when a due sync or retry failed. */
int store_tick(store *s, uint64_t now_ms, char *err, size_t errlen);
/* Milliseconds until store_tick has something to do; -1: nothing waits. */
int store_next_timeout(const store *s, uint64_t now_ms);
/* Stop following the hub and the dedup table (before freeing them). */
void store_detach(store *s);
void store_close(store *s);

#endif
