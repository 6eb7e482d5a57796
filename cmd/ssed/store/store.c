/* Opening the store: the file checked and locked (store_file.c), then
 * recognised as ssed's by its application id before SQLite writes
 * anything, SQLite set up (write-ahead log, exclusive locking), its
 * integrity checked before anything is served from it, and a damaged one
 * (never a locked one, nor someone else's) moved aside only when
 * --store-repair says so. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store_internal.h"

const int store_available = 1;

/* "SSED" in the database header: a SQLite file that is not ours is not
 * taken for an empty store. */
#define STORE_APPLICATION_ID 0x53534544
#define STORE_VERSION 1

static const char schema[] =
    "CREATE TABLE meta(one INTEGER PRIMARY KEY CHECK(one = 1), first_id INTEGER NOT NULL,"
    " last_id INTEGER NOT NULL, next_seq INTEGER NOT NULL, forgot_any INTEGER NOT NULL,"
    " forgot_seq INTEGER NOT NULL, forgot_number INTEGER NOT NULL, next_channel_id INTEGER NOT NULL);"
    "CREATE TABLE channels(id INTEGER PRIMARY KEY, name TEXT NOT NULL, events_in INTEGER NOT NULL,"
    " evicted_any INTEGER NOT NULL, last_evicted_seq INTEGER NOT NULL,"
    " last_evicted_is_number INTEGER NOT NULL, last_evicted_number INTEGER NOT NULL);"
    "CREATE TABLE events(seq INTEGER PRIMARY KEY, channel INTEGER NOT NULL, chan_seq INTEGER NOT NULL,"
    " id BLOB NOT NULL, bytes BLOB NOT NULL);"
    "CREATE TABLE dedup(slot INTEGER PRIMARY KEY, session INTEGER NOT NULL, next_seq INTEGER NOT NULL,"
    " last_used INTEGER NOT NULL);";

/* How long SQLite waits for a lock another process holds (a backup, or
 * someone looking with sqlite3) before ssed gives up and names it. */
#define STORE_BUSY_MS 5000

/* What an SQLite failure means: real damage (1: --store-repair may move the
 * file aside), a lock another process holds (-1, naming the holder: a
 * locked store is healthy and must never be moved), anything else -1. */
static int failed(store *s, int rc, const char *why, char *err, size_t errlen) {
    int primary = rc & 0xff;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
        char holder[64];
        store_file_lock_holder(s, holder, sizeof holder);
        snprintf(err, errlen, "store %s: locked by another process (%s; waited %d s); not damaged, left as it is",
                 s->path, holder, STORE_BUSY_MS / 1000);
        return -1;
    }
    snprintf(err, errlen, "store %s: %s", s->path, why ? why : sqlite3_errstr(rc));
    return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB ? 1 : -1;
}

/* 0, or failed()'s answer. */
static int exec_sql(store *s, const char *sql, char *err, size_t errlen) {
    char *why = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &why);
    if (rc == SQLITE_OK)
        return 0;
    rc = failed(s, rc, why ? why : sqlite3_errmsg(s->db), err, errlen);
    sqlite3_free(why);
    return rc;
}

/* A single-integer answer (a PRAGMA's); 0, or failed()'s answer. */
static int query_int(store *s, const char *sql, long long *out, char *err, size_t errlen) {
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? 0 : failed(s, rc, sqlite3_errmsg(s->db), err, errlen);
}

/* SQLite's own check of every page and index: a truncated or damaged file
 * is found here, before any of it is served. 1 when damaged; -1 when the
 * check itself could not run (locked, out of memory). */
static int damaged(store *s, char *err, size_t errlen) {
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *first = (const char *)sqlite3_column_text(st, 0);
        int bad = !first || strcmp(first, "ok") != 0;
        if (bad)
            snprintf(err, errlen, "store %s: damaged (%s)", s->path, first ? first : "no answer");
        sqlite3_finalize(st);
        return bad;
    }
    sqlite3_finalize(st);
    return failed(s, rc, sqlite3_errmsg(s->db), err, errlen);
}

/* Only reads: an ssed store of this version, or an empty file that becomes
 * one (given the schema in one transaction, before the log is turned on,
 * so the file holds its application id from its first commit on). Anything
 * else is someone else's file and is left exactly as it was. */
static int recognise(store *s, char *err, size_t errlen) {
    long long app = 0, version = 0, tables = 0;
    int rc;
    if ((rc = query_int(s, "PRAGMA application_id", &app, err, errlen)) != 0 ||
        (rc = query_int(s, "PRAGMA user_version", &version, err, errlen)) != 0 ||
        (rc = query_int(s, "SELECT count(*) FROM sqlite_schema", &tables, err, errlen)) != 0)
        return rc;
    if (app == 0 && version == 0 && tables == 0 && s->file_empty) {
        char sql[sizeof schema + 100];
        snprintf(sql, sizeof sql, "BEGIN; %s PRAGMA application_id=%d; PRAGMA user_version=%d; COMMIT;", schema,
                 STORE_APPLICATION_ID, STORE_VERSION);
        return exec_sql(s, sql, err, errlen);
    }
    if (app != STORE_APPLICATION_ID || version != STORE_VERSION) {
        /* Someone else's database: never moved aside, even with repair. */
        snprintf(err, errlen, "store %s: not an ssed store (application id %lld, version %lld); left as it is",
                 s->path, app, version);
        return -1;
    }
    return 0;
}

static const char *sync_pragma(enum store_sync sync) {
    /* NORMAL: the log is synced before each checkpoint, and store_write.c
     * syncs it when the mode asks; OFF: never. Either way a crash leaves a
     * consistent database (the log's frames are checksummed). */
    return sync == STORE_SYNC_OFF ? "PRAGMA synchronous=OFF" : "PRAGMA synchronous=NORMAL";
}

/* Until the file is known to be ours, closing it must not write to it
 * (SQLite checkpoints a log into its database on close). */
static int checkpoint_on_close(store *s, int on, char *err, size_t errlen) {
    if (sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, !on, (int *)NULL) == SQLITE_OK)
        return 0;
    snprintf(err, errlen, "store %s: %s", s->path, sqlite3_errmsg(s->db));
    return -1;
}

/* SQLite on the file store_file_open checked: first only reads to
 * recognise it, then (ours) the write-ahead log and the settings, then the
 * integrity check. 0 opened, -1 failed, 1 damaged. */
static int open_database(store *s, char *err, size_t errlen) {
    /* NOFOLLOW: PATH swapped for a symbolic link since store_file_open
     * looked is refused by SQLite too, before it opens the target. */
    int rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
    if (!s->db) {
        snprintf(err, errlen, "store %s: out of memory", s->path);
        return -1;
    }
    if (rc != SQLITE_OK)
        return failed(s, rc, sqlite3_errmsg(s->db), err, errlen);
    sqlite3_extended_result_codes(s->db, 1);
    if (sqlite3_busy_timeout(s->db, STORE_BUSY_MS) != SQLITE_OK || checkpoint_on_close(s, 0, err, errlen) < 0)
        return failed(s, sqlite3_errcode(s->db), sqlite3_errmsg(s->db), err, errlen);
    /* SQLite opened PATH by name again: it must be the file checked. */
    if (store_file_unchanged(s, err, errlen) < 0)
        return -1;
    /* Exclusive locking: no shared-memory file, and no other process can
     * read a half-written store. */
    if ((rc = exec_sql(s, "PRAGMA locking_mode=EXCLUSIVE", err, errlen)) != 0 ||
        (rc = recognise(s, err, errlen)) != 0)
        return rc;
    if (store_file_claim(s, err, errlen) < 0 || checkpoint_on_close(s, 1, err, errlen) < 0)
        return -1;
    /* The log shrinks back to journal_size_limit after a checkpoint, even
     * after the large commit that follows a long failure. */
    if ((rc = exec_sql(s, "PRAGMA journal_mode=WAL", err, errlen)) != 0 ||
        (rc = exec_sql(s, "PRAGMA journal_size_limit=16777216", err, errlen)) != 0 ||
        (rc = exec_sql(s, sync_pragma(s->sync), err, errlen)) != 0)
        return rc;
    return s->file_empty ? 0 : damaged(s, err, errlen);
}

static void close_files(store *s) {
    for (int i = 0; i < STMT_COUNT; i++) {
        sqlite3_finalize(s->stmt[i]);
        s->stmt[i] = NULL;
    }
    if (s->db)
        sqlite3_close(s->db);
    s->db = NULL;
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    s->lock_fd = -1;
}

/* Move a damaged store (and its log) aside, so it can still be looked at,
 * and start an empty one in its place. */
static int move_aside(store *s, char *err, size_t errlen) {
    size_t n = strlen(s->path) + 32;
    char aside[n], wal[n], wal_aside[n];
    snprintf(wal, n, "%s-wal", s->path);
    /* Never over an earlier PATH.corrupt: it may be the one worth keeping. */
    struct stat st;
    snprintf(aside, n, "%s.corrupt", s->path);
    for (int i = 1; i < 1000 && lstat(aside, &st) == 0; i++)
        snprintf(aside, n, "%s.corrupt.%d", s->path, i);
    snprintf(wal_aside, n, "%s-wal", aside);
    if (rename(s->path, aside) < 0) {
        snprintf(err, errlen, "store %s: rename to %s: %s", s->path, aside, strerror(errno));
        return -1;
    }
    log_warn("store %s: moved aside to %s", s->path, aside);
    if (rename(wal, wal_aside) < 0 && errno != ENOENT) {
        snprintf(err, errlen, "store %s: rename to %s: %s", wal, wal_aside, strerror(errno));
        return -1;
    }
    return 0;
}

/* One attempt: 0 opened, -1 failed (not ours, locked, not a regular
 * file...), 1 the file is damaged. */
static int open_once(store *s, char *err, size_t errlen) {
    if (store_file_open(s, err, errlen) < 0 || store_file_foreign(s, STORE_APPLICATION_ID, err, errlen) != 0)
        return -1;
    return open_database(s, err, errlen);
}

store *store_open(const char *path, enum store_sync sync, int repair, char *err, size_t errlen) {
    store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        snprintf(err, errlen, "store %s: out of memory", path);
        free(s);
        return NULL;
    }
    s->lock_fd = -1;
    s->sync = sync;
    s->next_channel_id = 1;
    int rc = open_once(s, err, errlen);
    if (rc == 1 && repair) {
        close_files(s);
        char why[300];
        snprintf(why, sizeof why, "%s", err);
        if (move_aside(s, err, errlen) == 0) {
            log_warn("%s; started an empty store in its place (--store-repair)", why);
            rc = open_once(s, err, errlen);
        } else {
            rc = -1;
        }
    } else if (rc == 1) {
        size_t used = strlen(err);
        snprintf(err + used, errlen - used, "; refusing to serve it (--store-repair moves it aside and starts empty)");
    }
    if (rc != 0 || store_prepare(s, err, errlen) < 0) {
        store_close(s);
        return NULL;
    }
    return s;
}

void store_close(store *s) {
    if (!s)
        return;
    store_detach(s);
    store_drop_pending(s);
    close_files(s);
    free(s->ops);
    free(s->evicted);
    free(s->rows);
    free(s->path);
    free(s);
}
