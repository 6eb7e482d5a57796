/* What the store's files share (store_file.c checks and locks the file,
 * store.c opens it, store_load.c reads back, store_write.c queues and
 * commits); nothing outside them includes this. */
#ifndef SSED_STORE_INTERNAL_H
#define SSED_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

/* An event retained since the last commit (ev holds a reference; NULL
 * once it was evicted again before the commit, so it is never written). */
typedef struct store_op {
    uint64_t seq;
    uint64_t channel_id;
    shared_event *ev;
} store_op;

/* A channel's row as it is now: written once per commit however often it
 * changed. */
typedef struct channel_row {
    uint64_t id;
    char *name;
    uint64_t events_in;
    int evicted_any;
    uint64_t last_evicted_seq;
    int last_evicted_is_number;
    uint64_t last_evicted_number;
    int freed; /* the channel is gone: delete its row */
} channel_row;

enum store_stmt {
    STMT_BEGIN,
    STMT_COMMIT,
    STMT_INSERT_EVENT,
    STMT_DELETE_EVENT,
    STMT_PUT_CHANNEL,
    STMT_DELETE_CHANNEL,
    STMT_PUT_DEDUP,
    STMT_PUT_META,
    STMT_COUNT
};

struct store {
    char *path;
    int lock_fd; /* flock'd for as long as the store is open */
    int file_empty; /* it held nothing when opened: a new store */
    dev_t file_dev; /* which file lock_fd is, so a swap at PATH is seen */
    ino_t file_ino;
    mode_t file_mode;
    sqlite3 *db;
    sqlite3_stmt *stmt[STMT_COUNT];
    enum store_sync sync;
    hub *hub;           /* attached by store_load */
    dedup_table *dedup; /* likewise */
    hub_journal journal;
    int loading; /* events retained while loading are already stored */
    uint64_t dropped_at_load; /* stored events the limits evicted while loading */
    uint64_t next_channel_id;
    store_op *ops; /* in seq order, as published */
    size_t op_count, op_cap;
    uint64_t *evicted; /* seqs of committed events to delete */
    size_t evicted_count, evicted_cap;
    channel_row *rows;
    size_t row_count, row_cap, last_row;
    size_t dedup_slots[DEDUP_SESSIONS];
    size_t dedup_count;
    unsigned char dedup_dirty[DEDUP_SESSIONS];
    /* The dedup table as the store has it: what a changed slot goes back
     * to when the events that changed it are withdrawn. */
    dedup_entry dedup_committed[DEDUP_SESSIONS];
    uint64_t withdrawn; /* events taken back since store_take_withdrawn */
    uint64_t input_lost; /* withdrawn input events memory ran out republishing */
    int meta_dirty;
    int failing;
    int broken; /* a change could not even be queued: the store is out of step for good */
    uint64_t retry_at_ms;
    char last_error[300];
    int unsynced; /* committed since the last sync */
    uint64_t unsynced_since_ms;
};

/* store_file.c. Open PATH as a regular file, never through a symbolic
 * link (nor its side files), creating it 0600 with O_EXCL if missing, and
 * flock it; nothing in an existing file is changed. -1 with err filled. */
int store_file_open(store *s, char *err, size_t errlen);
/* From the raw header, before SQLite touches it: 1 (err filled) when the
 * file is another program's SQLite database, 0 when it may be ours (or is
 * not a database at all, which SQLite reports), -1 on a read error. */
int store_file_foreign(const store *s, uint32_t app_id, char *err, size_t errlen);
/* 0 while PATH still names the file store_file_open opened (so SQLite,
 * which opens PATH again, has the same file); -1 with err filled. */
int store_file_unchanged(const store *s, char *err, size_t errlen);
/* The file is recognised as an ssed store: keep it 0600 (history is as
 * private as the events). -1 with err filled. */
int store_file_claim(store *s, char *err, size_t errlen);
/* Who holds the POSIX lock SQLite was refused ("held by PID n" where the
 * kernel says), for the "locked" message. */
void store_file_lock_holder(const store *s, char *out, size_t outlen);

/* store_write.c */
int store_prepare(store *s, char *err, size_t errlen);
void store_attach(store *s, hub *h, dedup_table *d);
void store_drop_pending(store *s);
/* After a load: what the hub and dedup table hold is the store's, and
 * from now on subscribers are sent only what a commit wrote. */
void store_start_holding(store *s);

#endif
