/* Keeping the store in step: the hub's journal and the dedup table's
 * callback queue each change as it happens (cheap: no I/O), and
 * store_commit writes the queue in one transaction, then syncs as --sync
 * asks. A failed commit keeps the queue for the next attempt. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "store_internal.h"

static const char *const statements[STMT_COUNT] = {
    [STMT_BEGIN] = "BEGIN",
    [STMT_COMMIT] = "COMMIT",
    [STMT_INSERT_EVENT] = "INSERT OR REPLACE INTO events(seq, channel, chan_seq, id, bytes) VALUES(?,?,?,?,?)",
    [STMT_DELETE_EVENT] = "DELETE FROM events WHERE seq = ?",
    [STMT_PUT_CHANNEL] = "INSERT OR REPLACE INTO channels VALUES(?,?,?,?,?,?,?)",
    [STMT_DELETE_CHANNEL] = "DELETE FROM channels WHERE id = ?",
    [STMT_PUT_DEDUP] = "INSERT OR REPLACE INTO dedup VALUES(?,?,?,?)",
    [STMT_PUT_META] = "INSERT OR REPLACE INTO meta VALUES(1,?,?,?,?,?,?,?)",
};

int store_prepare(store *s, char *err, size_t errlen) {
    for (int i = 0; i < STMT_COUNT; i++)
        if (sqlite3_prepare_v3(s->db, statements[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "store %s: %s", s->path, sqlite3_errmsg(s->db));
            return -1;
        }
    return 0;
}

/* ---- Queueing: called from inside the hub, so never fails loudly: out of
 * memory marks the store failing, and the next commit reports it. */

static void out_of_memory(store *s) {
    s->failing = 1;
    s->broken = 1;
    snprintf(s->last_error, sizeof s->last_error, "store %s: out of memory queueing a change", s->path);
}

static int grow(void **array, size_t *cap, size_t need, size_t size) {
    if (need <= *cap)
        return 0;
    size_t cap2 = *cap ? *cap * 2 : 64;
    void *p = realloc(*array, cap2 * size);
    if (!p)
        return -1;
    *array = p;
    *cap = cap2;
    return 0;
}

static void queue_append(store *s, uint64_t channel_id, shared_event *ev) {
    if (grow((void **)&s->ops, &s->op_cap, s->op_count + 1, sizeof *s->ops) < 0) {
        out_of_memory(s);
        return;
    }
    s->ops[s->op_count++] = (store_op){ev->seq, channel_id, shared_event_ref(ev)};
}

/* The queued append of seq, if it is not committed yet. */
static store_op *pending_append(store *s, uint64_t seq) {
    size_t lo = 0, hi = s->op_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->ops[mid].seq == seq)
            return &s->ops[mid];
        if (s->ops[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* An event evicted before its commit is simply never written: under a
 * burst, most of what passes through a short history costs the store
 * nothing. */
static void queue_eviction(store *s, uint64_t seq) {
    store_op *op = pending_append(s, seq);
    if (op) {
        if (op->ev)
            shared_event_unref(op->ev);
        op->ev = NULL;
        return;
    }
    if (grow((void **)&s->evicted, &s->evicted_cap, s->evicted_count + 1, sizeof *s->evicted) < 0) {
        out_of_memory(s);
        return;
    }
    s->evicted[s->evicted_count++] = seq;
}

/* The queued row of a channel, made on its first change in this commit. */
static channel_row *row_of(store *s, const channel *ch) {
    if (s->last_row < s->row_count && s->rows[s->last_row].id == ch->journal_id)
        return &s->rows[s->last_row];
    for (size_t i = 0; i < s->row_count; i++)
        if (s->rows[i].id == ch->journal_id)
            return &s->rows[s->last_row = i];
    char *name = strdup(ch->name);
    if (!name || grow((void **)&s->rows, &s->row_cap, s->row_count + 1, sizeof *s->rows) < 0) {
        free(name);
        out_of_memory(s);
        return NULL;
    }
    s->last_row = s->row_count++;
    s->rows[s->last_row] = (channel_row){.id = ch->journal_id, .name = name};
    return &s->rows[s->last_row];
}

static void queue_channel(store *s, channel *ch) {
    if (!ch->journal_id) {
        ch->journal_id = s->next_channel_id++;
        s->meta_dirty = 1;
    }
    channel_row *r = row_of(s, ch);
    if (!r)
        return;
    r->events_in = ch->events_in;
    r->evicted_any = ch->evicted_any;
    r->last_evicted_seq = ch->last_evicted_seq;
    r->last_evicted_is_number = ch->last_evicted_is_number;
    r->last_evicted_number = ch->last_evicted_number;
    r->freed = 0;
}

static void on_retained(void *ctx, channel *ch, shared_event *ev) {
    store *s = ctx;
    if (s->loading)
        return; /* it came from the store */
    queue_channel(s, ch);
    queue_append(s, ch->journal_id, ev);
    s->meta_dirty = 1;
}

static void on_evicted(void *ctx, channel *ch, const shared_event *ev) {
    store *s = ctx;
    if (s->loading)
        s->dropped_at_load++;
    queue_channel(s, ch);
    queue_eviction(s, ev->seq);
    s->meta_dirty = 1;
}

static void on_channel_freed(void *ctx, const channel *ch) {
    store *s = ctx;
    if (!ch->journal_id)
        return;
    channel_row *r = row_of(s, ch);
    if (r)
        r->freed = 1;
    s->meta_dirty = 1; /* what it evicted is now the hub's to remember */
}

/* A withdrawn event is never written, and its channel's row goes back to
 * the count before it. */
static void on_withdrawn(void *ctx, channel *ch, const shared_event *ev) {
    store *s = ctx;
    queue_channel(s, ch);
    store_op *op = pending_append(s, ev->seq);
    if (op && op->ev) {
        shared_event_unref(op->ev);
        op->ev = NULL;
    }
    s->meta_dirty = 1;
}

static void on_dedup_changed(void *ctx, size_t slot) {
    store *s = ctx;
    if (!s->dedup_dirty[slot]) {
        s->dedup_dirty[slot] = 1;
        s->dedup_slots[s->dedup_count++] = slot;
    }
}

void store_attach(store *s, hub *h, dedup_table *d) {
    s->hub = h;
    s->dedup = d;
    s->journal = (hub_journal){on_retained, on_evicted, on_channel_freed, on_withdrawn, s};
    h->history.journal = &s->journal;
    d->changed = on_dedup_changed;
    d->changed_ctx = s;
}

void store_start_holding(store *s) {
    memcpy(s->dedup_committed, s->dedup->entries, sizeof s->dedup_committed);
    hub_hold_fanout(s->hub);
}

void store_detach(store *s) {
    if (s->hub && s->hub->history.journal == &s->journal) {
        s->hub->history.journal = NULL;
        s->hub->hold_fanout = 0;
    }
    if (s->dedup && s->dedup->changed_ctx == s) {
        s->dedup->changed = NULL;
        s->dedup->changed_ctx = NULL;
    }
    s->hub = NULL;
    s->dedup = NULL;
}

void store_drop_pending(store *s) {
    for (size_t i = 0; i < s->op_count; i++)
        if (s->ops[i].ev)
            shared_event_unref(s->ops[i].ev);
    s->op_count = 0;
    s->evicted_count = 0;
    for (size_t i = 0; i < s->row_count; i++)
        free(s->rows[i].name);
    s->row_count = 0;
    s->last_row = 0;
    for (size_t i = 0; i < s->dedup_count; i++)
        s->dedup_dirty[s->dedup_slots[i]] = 0;
    s->dedup_count = 0;
    s->meta_dirty = 0;
}

/* ---- Writing. */

/* Run a statement to completion with its bindings, then reset it. */
static int step(store *s, enum store_stmt which) {
    sqlite3_stmt *st = s->stmt[which];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

static int write_eviction(store *s, uint64_t seq) {
    sqlite3_bind_int64(s->stmt[STMT_DELETE_EVENT], 1, (sqlite3_int64)seq);
    return step(s, STMT_DELETE_EVENT);
}

static int write_op(store *s, const store_op *op) {
    if (!op->ev)
        return 0; /* evicted before it was written */
    sqlite3_stmt *st = s->stmt[STMT_INSERT_EVENT];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)op->seq);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)op->channel_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)op->ev->chan_seq);
    sqlite3_bind_blob(st, 4, op->ev->id, (int)op->ev->id_len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, op->ev->bytes, (int)op->ev->len, SQLITE_STATIC);
    return step(s, STMT_INSERT_EVENT);
}

static int write_row(store *s, const channel_row *r) {
    if (r->freed) {
        sqlite3_bind_int64(s->stmt[STMT_DELETE_CHANNEL], 1, (sqlite3_int64)r->id);
        return step(s, STMT_DELETE_CHANNEL);
    }
    sqlite3_stmt *st = s->stmt[STMT_PUT_CHANNEL];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)r->id);
    sqlite3_bind_text(st, 2, r->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)r->events_in);
    sqlite3_bind_int(st, 4, r->evicted_any);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)r->last_evicted_seq);
    sqlite3_bind_int(st, 6, r->last_evicted_is_number);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)r->last_evicted_number);
    return step(s, STMT_PUT_CHANNEL);
}

static int write_dedup(store *s, size_t slot) {
    const dedup_entry *e = &s->dedup->entries[slot];
    sqlite3_stmt *st = s->stmt[STMT_PUT_DEDUP];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)slot);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)e->session);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)e->next_seq);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)e->last_used);
    return step(s, STMT_PUT_DEDUP);
}

/* The hub's counters: ids and order continue from here after a restart. */
static int write_meta(store *s) {
    const hub *h = s->hub;
    sqlite3_stmt *st = s->stmt[STMT_PUT_META];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)h->first_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)h->last_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)h->next_seq);
    sqlite3_bind_int(st, 4, h->forgot_any);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)h->forgot_seq);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)h->forgot_number);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)s->next_channel_id);
    return step(s, STMT_PUT_META);
}

static int write_pending(store *s) {
    if (step(s, STMT_BEGIN) < 0)
        return -1;
    /* Evictions are of committed events, appends of new ones: no order
     * between the two matters. */
    for (size_t i = 0; i < s->evicted_count; i++)
        if (write_eviction(s, s->evicted[i]) < 0)
            return -1;
    for (size_t i = 0; i < s->op_count; i++)
        if (write_op(s, &s->ops[i]) < 0)
            return -1;
    for (size_t i = 0; i < s->row_count; i++)
        if (write_row(s, &s->rows[i]) < 0)
            return -1;
    for (size_t i = 0; i < s->dedup_count; i++)
        if (write_dedup(s, s->dedup_slots[i]) < 0)
            return -1;
    if (write_meta(s) < 0)
        return -1;
    return step(s, STMT_COMMIT);
}

/* fsync the write-ahead log, where every commit since the last checkpoint
 * is (checkpoints sync the database file themselves). */
static int sync_log(store *s) {
    sqlite3_file *f = NULL;
    if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f) != SQLITE_OK || !f || !f->pMethods)
        return 0; /* no log open: nothing was written */
    return f->pMethods->xSync(f, SQLITE_SYNC_NORMAL) == SQLITE_OK ? 0 : -1;
}

static int has_pending(const store *s) {
    return s->op_count || s->evicted_count || s->row_count || s->dedup_count || s->meta_dirty;
}

static int fail(store *s, uint64_t now_ms, const char *what, char *err, size_t errlen) {
    snprintf(s->last_error, sizeof s->last_error, "store %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
    snprintf(err, errlen, "%s", s->last_error);
    s->failing = 1;
    s->retry_at_ms = now_ms + STORE_RETRY_MS;
    return -1;
}

static int sync_now(store *s, uint64_t now_ms, char *err, size_t errlen) {
    errno = 0;
    if (sync_log(s) < 0) {
        /* After a failed fsync the kernel may have dropped the dirty pages
         * and a second fsync would wrongly succeed: nothing is
         * acknowledged from this store again. */
        snprintf(s->last_error, sizeof s->last_error,
                 "store %s: fsync: %s; what was written is kept but may not survive a power loss; refusing publishes until ssed is restarted", s->path,
                 errno ? strerror(errno) : "I/O error");
        snprintf(err, errlen, "%s", s->last_error);
        s->failing = 1;
        s->broken = 1;
        (void)now_ms;
        return -1;
    }
    s->unsynced = 0;
    return 0;
}

/* Whether PATH still names the file SQLite has open: deleted or renamed
 * away, every commit would go to a file no restart finds, and a second ssed
 * could start a new store there meanwhile. SQLite compares PATH's inode
 * with its open file's (one stat). */
static int file_moved(store *s) {
    int moved = 0;
    if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK)
        return 0; /* a VFS that cannot tell */
    return moved;
}

static int refuse_moved(store *s, char *err, size_t errlen) {
    snprintf(s->last_error, sizeof s->last_error,
             "store %s: the file was deleted or replaced while ssed ran; restart ssed to write a store again",
             s->path);
    snprintf(err, errlen, "%s", s->last_error);
    s->failing = 1;
    s->broken = 1;
    return -1;
}

/* Write and sync what is pending; 0 when the store has everything, -1
 * when it could not write, WRITTEN_NOT_SYNCED when what is pending went
 * into the file but its fsync failed. */
#define WRITTEN_NOT_SYNCED (-2)
static int write_and_sync(store *s, int ack, uint64_t now_ms, char *err, size_t errlen) {
    if (s->broken || (s->failing && now_ms < s->retry_at_ms)) {
        snprintf(err, errlen, "%s", s->last_error);
        return -1;
    }
    if (has_pending(s)) {
        /* Once per commit batch, before anything it holds is sent or
         * acknowledged. */
        if (file_moved(s))
            return refuse_moved(s, err, errlen);
        if (write_pending(s) < 0) {
            int rc = fail(s, now_ms, "write", err, errlen);
            if (!sqlite3_get_autocommit(s->db))
                sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
        for (size_t i = 0; i < s->dedup_count; i++)
            s->dedup_committed[s->dedup_slots[i]] = s->dedup->entries[s->dedup_slots[i]];
        store_drop_pending(s);
        if (!s->unsynced)
            s->unsynced_since_ms = now_ms;
        s->unsynced = 1;
    }
    int sync = s->sync == STORE_SYNC_ALWAYS || (s->sync == STORE_SYNC_BATCH && ack);
    if (s->unsynced && sync && sync_now(s, now_ms, err, errlen) < 0)
        return WRITTEN_NOT_SYNCED;
    if (s->sync == STORE_SYNC_OFF)
        s->unsynced = 0;
    s->failing = 0;
    return 0;
}

/* What the store could not keep is taken back from everywhere else: out
 * of history and the subscribers' reach (hub_withdraw_held), and the dedup
 * records it changed go back to the store's, so a numbered resend of it
 * is published (once) when the store can write again. */
static void withdraw_uncommitted(store *s) {
    if (!s->hub)
        return;
    s->withdrawn += hub_withdraw_held(s->hub);
    for (size_t i = 0; i < s->dedup_count; i++) {
        size_t slot = s->dedup_slots[i];
        s->dedup->entries[slot] = s->dedup_committed[slot];
        s->dedup_dirty[slot] = 0;
    }
    s->dedup_count = 0;
}

/* Subscribers are sent what a commit wrote, and nothing a failed one did
 * not. What was written but not synced is in the file, and a restart
 * serves it: it is sent too (taking it back would refuse an event that
 * comes back later), and the publisher hears 503 with it counted as
 * accepted, since its durability is not known. */
static int commit_at(store *s, int ack, uint64_t now_ms, char *err, size_t errlen) {
    int rc = write_and_sync(s, ack, now_ms, err, errlen);
    if (rc == -1) {
        withdraw_uncommitted(s);
        /* Final (a failed fsync, the file gone): no commit will take the
         * input set aside, so it is counted lost now, not kept for ever. */
        if (s->broken && s->hub)
            s->input_lost += hub_drop_deferred(s->hub);
    } else if (s->hub) {
        hub_release_held(s->hub);
        /* Input withdrawn earlier goes in again, to the next commit. */
        s->input_lost += hub_republish_deferred(s->hub);
    }
    return rc < 0 ? -1 : 0;
}

int store_commit(store *s, int ack, char *err, size_t errlen) { return commit_at(s, ack, clock_now_ms(), err, errlen); }

int store_failing(const store *s) { return s->failing; }

const char *store_error(const store *s) { return s->last_error; }

int store_broken(const store *s) { return s->broken; }

uint64_t store_take_withdrawn(store *s, uint64_t *input_lost) {
    uint64_t n = s->withdrawn;
    *input_lost = s->input_lost;
    s->withdrawn = 0;
    s->input_lost = 0;
    return n;
}

int store_tick(store *s, uint64_t now_ms, char *err, size_t errlen) {
    if (s->failing)
        return commit_at(s, 0, now_ms, err, errlen);
    if (s->unsynced && s->sync == STORE_SYNC_BATCH && now_ms >= s->unsynced_since_ms + STORE_SYNC_INTERVAL_MS &&
        sync_now(s, now_ms, err, errlen) < 0) {
        withdraw_uncommitted(s); /* the commit that follows would refuse them */
        return -1;
    }
    return 0;
}

int store_next_timeout(const store *s, uint64_t now_ms) {
    uint64_t at;
    if (s->broken)
        return -1; /* nothing to retry: only a restart helps */
    if (s->failing)
        at = s->retry_at_ms;
    else if (s->unsynced && s->sync == STORE_SYNC_BATCH)
        at = s->unsynced_since_ms + STORE_SYNC_INTERVAL_MS;
    else
        return -1;
    return at <= now_ms ? 0 : (int)(at - now_ms);
}
