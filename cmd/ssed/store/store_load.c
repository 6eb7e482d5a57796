/* Start-up from an existing store: the hub's counters, every channel with
 * its eviction marks, every event in publish order, and the publisher
 * dedup table, put back as they were, so a resume with a Last-Event-ID from
 * before the restart finds its place and no gap where none was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_internal.h"

typedef struct loaded_channel {
    uint64_t id;
    channel *ch; /* held until the load ends */
    int seen;    /* an event of it was loaded */
} loaded_channel;

static int sql_error(store *s, char *err, size_t errlen) {
    snprintf(err, errlen, "store %s: %s", s->path, sqlite3_errmsg(s->db));
    return -1;
}

static uint64_t column_u64(sqlite3_stmt *st, int i) { return (uint64_t)sqlite3_column_int64(st, i); }

static int load_meta(store *s, hub *h, char *err, size_t errlen) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT first_id, last_id, next_seq, forgot_any, forgot_seq, forgot_number, next_channel_id"
                           " FROM meta",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_error(s, err, errlen);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        h->first_id = column_u64(st, 0);
        if (column_u64(st, 1) > h->last_id)
            h->last_id = column_u64(st, 1);
        h->next_seq = column_u64(st, 2);
        h->forgot_any = sqlite3_column_int(st, 3);
        h->forgot_seq = column_u64(st, 4);
        h->forgot_number = column_u64(st, 5);
        s->next_channel_id = column_u64(st, 6);
    } else {
        s->meta_dirty = 1; /* a new store: record this run's counters */
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sql_error(s, err, errlen);
}

static int load_channels(store *s, hub *h, loaded_channel **out, size_t *count, char *err, size_t errlen) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, name, events_in, evicted_any, last_evicted_seq, last_evicted_is_number,"
                           " last_evicted_number FROM channels ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_error(s, err, errlen);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        channel *ch = name && hub_channel_name_valid(name, len) ? hub_channel_acquire(h, name, len, HUB_FOR_PUBLISHING)
                                                                 : NULL;
        loaded_channel *grown = *out;
        if (ch && *count == cap && (grown = realloc(*out, (cap ? cap * 2 : 16) * sizeof **out)) != NULL) {
            *out = grown;
            cap = cap ? cap * 2 : 16;
        }
        if (!ch || !grown) {
            snprintf(err, errlen, "store %s: cannot restore channel /%s (more channels than --max-channels?)",
                     s->path, name ? name : "");
            if (ch)
                hub_channel_release(h, ch);
            sqlite3_finalize(st);
            return -1;
        }
        ch->journal_id = column_u64(st, 0);
        ch->events_in = column_u64(st, 2);
        ch->evicted_any = sqlite3_column_int(st, 3);
        ch->last_evicted_seq = column_u64(st, 4);
        ch->last_evicted_is_number = sqlite3_column_int(st, 5);
        ch->last_evicted_number = column_u64(st, 6);
        (*out)[(*count)++] = (loaded_channel){ch->journal_id, ch, 0};
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sql_error(s, err, errlen);
}

static loaded_channel *find_loaded(loaded_channel *chans, size_t count, uint64_t id) {
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (chans[mid].id == id)
            return &chans[mid];
        if (chans[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Every event in publish order, into its channel's history as a publish
 * would put it (limits smaller than the store's evict its oldest). */
static int load_events(store *s, hub *h, loaded_channel *chans, size_t count, char *err, size_t errlen) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT seq, channel, chan_seq, id, bytes FROM events ORDER BY seq", -1, &st,
                           NULL) != SQLITE_OK)
        return sql_error(s, err, errlen);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        loaded_channel *lc = find_loaded(chans, count, column_u64(st, 1));
        const void *id = sqlite3_column_blob(st, 3);
        size_t id_len = (size_t)sqlite3_column_bytes(st, 3);
        const void *bytes = sqlite3_column_blob(st, 4);
        size_t len = (size_t)sqlite3_column_bytes(st, 4);
        if (!lc || id_len > HUB_MAX_ID_LEN) {
            snprintf(err, errlen, "store %s: damaged (event %llu of an unknown channel or with a bad id)", s->path,
                     (unsigned long long)column_u64(st, 0));
            sqlite3_finalize(st);
            return -1;
        }
        shared_event *ev = shared_event_restore(bytes ? bytes : "", len, id ? id : "", id_len);
        if (!ev) {
            snprintf(err, errlen, "store %s: out of memory loading history", s->path);
            sqlite3_finalize(st);
            return -1;
        }
        if (!lc->seen) {
            lc->seen = 1;
            lc->ch->events_in = column_u64(st, 2);
        }
        ev->seq = column_u64(st, 0);
        ev->chan_seq = lc->ch->events_in++;
        if (ev->seq >= h->next_seq)
            h->next_seq = ev->seq + 1;
        history_append(&h->history, lc->ch, ev);
        shared_event_unref(ev);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sql_error(s, err, errlen);
}

static int load_dedup(store *s, dedup_table *d, char *err, size_t errlen) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT slot, session, next_seq, last_used FROM dedup", -1, &st, NULL) != SQLITE_OK)
        return sql_error(s, err, errlen);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t slot = column_u64(st, 0);
        if (slot >= DEDUP_SESSIONS)
            continue;
        d->entries[slot] = (dedup_entry){column_u64(st, 1), column_u64(st, 2), column_u64(st, 3)};
        if (d->entries[slot].last_used > d->clock)
            d->clock = d->entries[slot].last_used;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sql_error(s, err, errlen);
}

int store_load(store *s, hub *h, dedup_table *d, char *err, size_t errlen) {
    loaded_channel *chans = NULL;
    size_t count = 0;
    store_attach(s, h, d);
    s->loading = 1;
    int rc = load_meta(s, h, err, errlen);
    if (rc == 0)
        rc = load_channels(s, h, &chans, &count, err, errlen);
    if (rc == 0)
        rc = load_events(s, h, chans, count, err, errlen);
    if (rc == 0)
        rc = load_dedup(s, d, err, errlen);
    if (rc < 0) {
        /* Nothing of a failed load may reach the store: letting go of the
         * channels below would otherwise delete their rows and leave their
         * events orphaned, a store no later start could load. */
        store_detach(s);
        store_drop_pending(s);
    } else if (s->dropped_at_load) {
        log_warn("store %s: %llu event%s beyond --history or --max-history-bytes %s dropped from it", s->path,
                 (unsigned long long)s->dropped_at_load, s->dropped_at_load == 1 ? "" : "s",
                 s->dropped_at_load == 1 ? "was" : "were");
    }
    /* A channel whose events were all evicted is freed, as it would have
     * been then; what it evicted stays known to the hub. */
    for (size_t i = 0; i < count; i++)
        hub_channel_release(h, chans[i].ch);
    free(chans);
    s->loading = 0;
    if (rc == 0)
        store_start_holding(s);
    return rc;
}
