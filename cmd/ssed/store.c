/* Opening the store: the file made with mode 0600 and locked for this
 * process, SQLite set up (write-ahead log, exclusive locking), its
 * integrity checked before anything is served from it, and a damaged one
 * moved aside only when --store-repair says so. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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

static int exec_sql(store *s, const char *sql, char *err, size_t errlen) {
    char *why = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &why) == SQLITE_OK)
        return 0;
    snprintf(err, errlen, "store %s: %s", s->path, why ? why : sqlite3_errmsg(s->db));
    sqlite3_free(why);
    return -1;
}

/* A single-integer answer (a PRAGMA's); -1 with err filled. */
static int query_int(store *s, const char *sql, long long *out, char *err, size_t errlen) {
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_OK)
        return 0;
    snprintf(err, errlen, "store %s: %s", s->path, sqlite3_errmsg(s->db));
    return -1;
}

/* SQLite's own check of every page and index: a truncated or damaged file
 * is found here, before any of it is served. 1 when damaged. */
static int damaged(store *s, char *err, size_t errlen) {
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL);
    const char *first = NULL;
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        first = (const char *)sqlite3_column_text(st, 0);
    int bad = !first || strcmp(first, "ok") != 0;
    if (bad)
        snprintf(err, errlen, "store %s: damaged (%s)", s->path, first ? first : sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    return bad;
}

/* A new file gets the schema; an existing one must be an ssed store of
 * this version. 1 when it is not (damaged, or someone else's file). */
static int check_or_create(store *s, char *err, size_t errlen) {
    long long app = 0, version = 0, tables = 0;
    if (query_int(s, "PRAGMA application_id", &app, err, errlen) < 0 ||
        query_int(s, "PRAGMA user_version", &version, err, errlen) < 0 ||
        query_int(s, "SELECT count(*) FROM sqlite_schema", &tables, err, errlen) < 0)
        return 1;
    if (app == 0 && version == 0 && tables == 0) {
        char sql[sizeof schema + 100];
        snprintf(sql, sizeof sql, "BEGIN; %s PRAGMA application_id=%d; PRAGMA user_version=%d; COMMIT;", schema,
                 STORE_APPLICATION_ID, STORE_VERSION);
        return exec_sql(s, sql, err, errlen) < 0 ? 1 : 0;
    }
    if (app != STORE_APPLICATION_ID || version != STORE_VERSION) {
        /* Someone else's database: never moved aside, even with repair. */
        snprintf(err, errlen, "store %s: not an ssed store (application id %lld, version %lld)", s->path, app,
                 version);
        return -1;
    }
    return damaged(s, err, errlen);
}

/* The file itself: made 0600 if missing, kept 0600 (history is as private
 * as the events), and locked so a second ssed is told at once. */
static int lock_file(store *s, char *err, size_t errlen) {
    s->lock_fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0) {
        snprintf(err, errlen, "store %s: %s", s->path, strerror(errno));
        return -1;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            snprintf(err, errlen, "store %s: in use by another process (another ssed?)", s->path);
        else
            snprintf(err, errlen, "store %s: flock: %s", s->path, strerror(errno));
        return -1;
    }
    if (fchmod(s->lock_fd, 0600) < 0) {
        snprintf(err, errlen, "store %s: chmod 0600: %s", s->path, strerror(errno));
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

static int open_database(store *s, char *err, size_t errlen) {
    if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "store %s: %s", s->path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
        return -1;
    }
    sqlite3_extended_result_codes(s->db, 1);
    /* Exclusive locking: no shared-memory file, and no other process can
     * read a half-written store. */
    if (exec_sql(s, "PRAGMA locking_mode=EXCLUSIVE", err, errlen) < 0)
        return 1;
    if (exec_sql(s, "PRAGMA journal_mode=WAL", err, errlen) < 0)
        return 1; /* the header could not be read: not a database */
    /* The log shrinks back to this after a checkpoint, even after the large
     * commit that follows a long failure. */
    if (exec_sql(s, "PRAGMA journal_size_limit=16777216", err, errlen) < 0)
        return -1;
    return exec_sql(s, sync_pragma(s->sync), err, errlen) < 0 ? -1 : 0;
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

/* One attempt: 0 opened, -1 failed, 1 the file is damaged or not ours. */
static int open_once(store *s, char *err, size_t errlen) {
    if (lock_file(s, err, errlen) < 0)
        return -1;
    int rc = open_database(s, err, errlen);
    if (rc != 0)
        return rc;
    return check_or_create(s, err, errlen);
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
