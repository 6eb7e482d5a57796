/* LMDB next to SQLite on ssed's access pattern for --store: append events
 * in publish order (a transaction per batch, as ssed commits once per loop
 * iteration), evict the oldest once a channel holds HISTORY events, and
 * read a range after an id (what a start-up load or a resume reads). Each
 * durability mode is measured: off (commit, never fsync), batch (fsync at
 * most every 100 ms) and always (fsync every commit). Prints events/s,
 * range reads/s and the file size at the end; asserts nothing.
 *
 * Usage: store-bench DIR [EVENTS] [HISTORY] [BATCH] */
#include <errno.h>
#include <lmdb.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum sync_mode { SYNC_OFF, SYNC_BATCH, SYNC_ALWAYS };
static const char *mode_names[] = {"off", "batch", "always"};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why) {
    fprintf(stderr, "store-bench: %s: %s\n", what, why);
    exit(1);
}

/* An encoded event of about 100 bytes, as `seq N | ssepub` makes. */
static size_t make_event(char *out, size_t cap, uint64_t seq) {
    return (size_t)snprintf(out, cap, "id: %llu\ndata: %llu some payload to make a typical small event body\n\n",
                            (unsigned long long)(1700000000000000ULL + seq), (unsigned long long)seq);
}

static long long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

typedef struct result {
    double append_rate, read_rate;
    long long bytes;
} result;

/* ---- LMDB: key = seq (native integer key), value = the encoded event. */

static void lmdb_check(int rc, const char *what) {
    if (rc != MDB_SUCCESS)
        die(what, mdb_strerror(rc));
}

static result run_lmdb(const char *dir, enum sync_mode mode, uint64_t events, uint64_t history, uint64_t batch) {
    char path[4096];
    snprintf(path, sizeof path, "%s/bench.mdb", dir);
    unlink(path);
    char lock[4200];
    snprintf(lock, sizeof lock, "%s-lock", path);
    unlink(lock);
    MDB_env *env;
    lmdb_check(mdb_env_create(&env), "mdb_env_create");
    lmdb_check(mdb_env_set_mapsize(env, (size_t)1 << 30), "mdb_env_set_mapsize");
    lmdb_check(mdb_env_open(env, path, MDB_NOSUBDIR | (mode == SYNC_ALWAYS ? 0 : MDB_NOSYNC), 0600), path);
    MDB_dbi dbi;
    MDB_txn *txn;
    lmdb_check(mdb_txn_begin(env, NULL, 0, &txn), "mdb_txn_begin");
    lmdb_check(mdb_dbi_open(txn, NULL, MDB_INTEGERKEY, &dbi), "mdb_dbi_open");
    lmdb_check(mdb_txn_commit(txn), "mdb_txn_commit");
    char ev[256];
    double start = now(), last_sync = start;
    for (uint64_t seq = 0; seq < events;) {
        lmdb_check(mdb_txn_begin(env, NULL, 0, &txn), "mdb_txn_begin");
        for (uint64_t i = 0; i < batch && seq < events; i++, seq++) {
            size_t key_v = (size_t)seq;
            MDB_val key = {sizeof key_v, &key_v}, val = {make_event(ev, sizeof ev, seq), ev};
            lmdb_check(mdb_put(txn, dbi, &key, &val, MDB_APPEND), "mdb_put");
            if (seq >= history) {
                size_t old = (size_t)(seq - history);
                MDB_val okey = {sizeof old, &old};
                lmdb_check(mdb_del(txn, dbi, &okey, NULL), "mdb_del");
            }
        }
        lmdb_check(mdb_txn_commit(txn), "mdb_txn_commit");
        if (mode == SYNC_BATCH && now() - last_sync >= 0.1) {
            lmdb_check(mdb_env_sync(env, 1), "mdb_env_sync");
            last_sync = now();
        }
    }
    result r;
    r.append_rate = (double)events / (now() - start);
    /* Range reads: the 100 events after a random retained seq. */
    int reads = 20000;
    start = now();
    for (int k = 0; k < reads; k++) {
        lmdb_check(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), "mdb_txn_begin");
        MDB_cursor *cur;
        lmdb_check(mdb_cursor_open(txn, dbi, &cur), "mdb_cursor_open");
        size_t from = (size_t)(events - history + (uint64_t)rand() % (history - 100));
        MDB_val key = {sizeof from, &from}, val;
        int rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
        for (int n = 0; n < 100 && rc == MDB_SUCCESS; n++)
            rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
        mdb_cursor_close(cur);
        mdb_txn_abort(txn);
    }
    r.read_rate = reads / (now() - start);
    mdb_env_close(env);
    r.bytes = file_size(path);
    unlink(path);
    unlink(lock);
    return r;
}

/* ---- SQLite: WAL; a rowid table keyed by seq, so appends go to the end
 * of the b-tree and eviction deletes by key. */

static void sql_exec(sqlite3 *db, const char *sql) {
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        die(sql, err ? err : sqlite3_errmsg(db));
}

static void sql_sync_wal(sqlite3 *db) {
    sqlite3_file *f = NULL;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f) != SQLITE_OK || !f || !f->pMethods)
        die("sync", "no WAL file");
    if (f->pMethods->xSync(f, SQLITE_SYNC_NORMAL) != SQLITE_OK)
        die("sync", "xSync failed");
}

static result run_sqlite(const char *dir, enum sync_mode mode, uint64_t events, uint64_t history, uint64_t batch) {
    char path[4096], wal[4200];
    snprintf(path, sizeof path, "%s/bench.sqlite", dir);
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(path);
    unlink(wal);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die(path, sqlite3_errmsg(db));
    sql_exec(db, "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL");
    sql_exec(db, mode == SYNC_OFF ? "PRAGMA synchronous=OFF" : "PRAGMA synchronous=NORMAL");
    sql_exec(db, "CREATE TABLE events(seq INTEGER PRIMARY KEY, channel TEXT NOT NULL, chan_seq INTEGER NOT NULL,"
                 " id BLOB NOT NULL, bytes BLOB NOT NULL)");
    sqlite3_stmt *ins, *del, *rd;
    if (sqlite3_prepare_v2(db, "INSERT INTO events VALUES(?,?,?,?,?)", -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "DELETE FROM events WHERE seq=?", -1, &del, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT bytes FROM events WHERE seq>? ORDER BY seq LIMIT 100", -1, &rd, NULL) !=
            SQLITE_OK)
        die("prepare", sqlite3_errmsg(db));
    char ev[256];
    double start = now(), last_sync = start;
    for (uint64_t seq = 0; seq < events;) {
        sql_exec(db, "BEGIN");
        for (uint64_t i = 0; i < batch && seq < events; i++, seq++) {
            size_t len = make_event(ev, sizeof ev, seq);
            sqlite3_bind_int64(ins, 1, (sqlite3_int64)seq);
            sqlite3_bind_text(ins, 2, "", 0, SQLITE_STATIC);
            sqlite3_bind_int64(ins, 3, (sqlite3_int64)seq);
            sqlite3_bind_blob(ins, 4, ev + 4, 16, SQLITE_STATIC);
            sqlite3_bind_blob(ins, 5, ev, (int)len, SQLITE_STATIC);
            if (sqlite3_step(ins) != SQLITE_DONE)
                die("insert", sqlite3_errmsg(db));
            sqlite3_reset(ins);
            if (seq >= history) {
                sqlite3_bind_int64(del, 1, (sqlite3_int64)(seq - history));
                if (sqlite3_step(del) != SQLITE_DONE)
                    die("delete", sqlite3_errmsg(db));
                sqlite3_reset(del);
            }
        }
        sql_exec(db, "COMMIT");
        if (mode == SYNC_ALWAYS || (mode == SYNC_BATCH && now() - last_sync >= 0.1)) {
            sql_sync_wal(db);
            last_sync = now();
        }
    }
    result r;
    r.append_rate = (double)events / (now() - start);
    int reads = 20000;
    start = now();
    for (int k = 0; k < reads; k++) {
        sqlite3_bind_int64(rd, 1, (sqlite3_int64)(events - history + (uint64_t)rand() % (history - 100)));
        while (sqlite3_step(rd) == SQLITE_ROW)
            (void)sqlite3_column_blob(rd, 0);
        sqlite3_reset(rd);
    }
    r.read_rate = reads / (now() - start);
    r.bytes = file_size(path) + file_size(wal);
    sqlite3_finalize(ins);
    sqlite3_finalize(del);
    sqlite3_finalize(rd);
    sqlite3_close(db);
    unlink(path);
    unlink(wal);
    return r;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: store-bench DIR [EVENTS] [HISTORY] [BATCH]\n");
        return 2;
    }
    const char *dir = argv[1];
    uint64_t events = argc > 2 ? strtoull(argv[2], NULL, 10) : 200000;
    uint64_t history = argc > 3 ? strtoull(argv[3], NULL, 10) : 1000;
    uint64_t batch = argc > 4 ? strtoull(argv[4], NULL, 10) : 64;
    if (history < 200 || events < history)
        die("arguments", "need HISTORY >= 200 and EVENTS >= HISTORY");
    printf("%-8s %-7s %14s %16s %12s\n", "engine", "sync", "appends/s", "range reads/s", "file bytes");
    for (int m = SYNC_OFF; m <= SYNC_ALWAYS; m++) {
        /* fsync per commit is slow: measure it on fewer events. */
        uint64_t n = m == SYNC_ALWAYS ? events / 10 : events;
        if (n < history)
            n = history;
        result l = run_lmdb(dir, (enum sync_mode)m, n, history, batch);
        printf("%-8s %-7s %14.0f %16.0f %12lld\n", "lmdb", mode_names[m], l.append_rate, l.read_rate, l.bytes);
        result s = run_sqlite(dir, (enum sync_mode)m, n, history, batch);
        printf("%-8s %-7s %14.0f %16.0f %12lld\n", "sqlite", mode_names[m], s.append_rate, s.read_rate, s.bytes);
        fflush(stdout);
    }
    return 0;
}
