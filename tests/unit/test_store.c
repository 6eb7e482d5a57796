/* The store (--store): what a hub and dedup table hold comes back after a
 * close and reopen (events in publish order, ids, eviction marks, counters,
 * dedup entries); limits smaller than the store's evict on load; a store
 * held by another opener, or damaged, is refused with its path, and
 * repaired only when asked. Built without an engine (make STORE=0), --store
 * is refused with a clear error. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "store.h"

/* A fresh directory per test, removed with what it holds. */
static void temp_dir(char *out, size_t size) {
    snprintf(out, size, "/tmp/ssed-store-test-XXXXXX");
    if (!mkdtemp(out))
        out[0] = '\0';
}

static void remove_dir(const char *dir) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "# could not remove %s\n", dir);
}

static int init_hub(hub *h, size_t history) {
    hub_limits limits = {history, 0, 1 << 20, 100, 100};
    return hub_init(h, &limits);
}

static void publish(hub *h, const char *name, const char *id, const char *data) {
    channel *ch = hub_channel_acquire(h, name, strlen(name), HUB_FOR_PUBLISHING);
    sse_out_event ev = {NULL, 0, id, id ? strlen(id) : 0, id != NULL, data, strlen(data), -1};
    CHECK(ch && hub_publish_event(h, ch, &ev) == SSE_ENCODE_OK);
    if (ch)
        hub_channel_release(h, ch);
}

/* The ids a channel retains, oldest first, space-separated. */
static void retained_ids(hub *h, const char *name, char *out, size_t size) {
    out[0] = '\0';
    channel *ch = hub_channel_find(h, name, strlen(name));
    for (size_t i = 0; ch && i < ch->ring_len; i++) {
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s", i ? " " : "", channel_history_at(ch, i)->id);
    }
}

static store *open_and_load(const char *path, hub *h, dedup_table *d) {
    char err[600];
    store *s = store_open(path, STORE_SYNC_BATCH, 0, err, sizeof err);
    if (!s) {
        harness_fail(__FILE__, __LINE__, "%s", err);
        return NULL;
    }
    if (store_load(s, h, d, err, sizeof err) < 0) {
        harness_fail(__FILE__, __LINE__, "%s", err);
        store_close(s);
        return NULL;
    }
    return s;
}

static void check_round_trip(const void *arg) {
    (void)arg;
    char dir[64], path[128], err[600], ids[200];
    temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/s.store", dir);
    hub h;
    dedup_table *d = calloc(1, sizeof *d);
    CHECK(d && init_hub(&h, 2) == 0);
    store *s = open_and_load(path, &h, d);
    if (!s || !d)
        return;
    publish(&h, "a", "a1", "one");
    publish(&h, "b", "b1", "uno");
    publish(&h, "a", "a2", "two");
    publish(&h, "a", "a3", "three"); /* evicts a1 */
    dedup_published(d, 0xabc, 6);
    uint64_t next_seq = h.next_seq, first_id = h.first_id;
    CHECK(store_commit(s, 1, err, sizeof err) == 0);
    store_close(s);
    hub_free(&h);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);

    memset(d, 0, sizeof *d);
    CHECK(init_hub(&h, 2) == 0);
    s = open_and_load(path, &h, d);
    if (!s)
        return;
    retained_ids(&h, "a", ids, sizeof ids);
    CHECK_STR(ids, "a2 a3");
    retained_ids(&h, "b", ids, sizeof ids);
    CHECK_STR(ids, "b1");
    channel *a = hub_channel_find(&h, "a", 1);
    CHECK(a && a->evicted_any && a->events_in == 3 && channel_history_at(a, 0)->chan_seq == 1);
    CHECK(h.next_seq == next_seq && h.first_id == first_id);
    CHECK(dedup_next(d, 0xabc) == 7);
    /* Publish order across channels is kept: b1 came between a1 and a2. */
    channel *b = hub_channel_find(&h, "b", 1);
    CHECK(b && a && channel_history_at(b, 0)->seq < channel_history_at(a, 0)->seq);
    store_close(s);
    hub_free(&h);
    free(d);
    remove_dir(dir);
}

static void check_smaller_limit_evicts(const void *arg) {
    (void)arg;
    char dir[64], path[128], err[600], ids[200];
    temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/s.store", dir);
    hub h;
    dedup_table *d = calloc(1, sizeof *d);
    CHECK(d && init_hub(&h, 10) == 0);
    store *s = open_and_load(path, &h, d);
    if (!s || !d)
        return;
    publish(&h, "c", "1", "x");
    publish(&h, "c", "2", "y");
    publish(&h, "c", "3", "z");
    CHECK(store_commit(s, 0, err, sizeof err) == 0);
    store_close(s);
    hub_free(&h);
    for (int round = 0; round < 2; round++) { /* the eviction on load is itself stored */
        memset(d, 0, sizeof *d);
        CHECK(init_hub(&h, round == 0 ? 1 : 10) == 0);
        s = open_and_load(path, &h, d);
        if (!s)
            return;
        retained_ids(&h, "c", ids, sizeof ids);
        CHECK_STR(ids, "3");
        channel *c = hub_channel_find(&h, "c", 1);
        CHECK(c && c->evicted_any && c->last_evicted_is_number && c->last_evicted_number == 2);
        CHECK(store_commit(s, 0, err, sizeof err) == 0);
        store_close(s);
        hub_free(&h);
    }
    free(d);
    remove_dir(dir);
}

static void check_refusals(const void *arg) {
    (void)arg;
    char dir[64], path[128], err[600];
    temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/s.store", dir);
    store *first = store_open(path, STORE_SYNC_OFF, 0, err, sizeof err);
    CHECK(first != NULL);
    CHECK(store_open(path, STORE_SYNC_OFF, 0, err, sizeof err) == NULL);
    CHECK(strstr(err, path) && strstr(err, "in use by another process"));
    store_close(first);

    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    for (int i = 0; f && i < 1000; i++)
        fputs("not a database, not at all ", f);
    if (f)
        fclose(f);
    /* No SQLite header: nothing says it was ever a store, so it is left
     * where it is, even when repair is asked for. */
    CHECK(store_open(path, STORE_SYNC_OFF, 0, err, sizeof err) == NULL);
    CHECK(strstr(err, path) && strstr(err, "not an SQLite database"));
    CHECK(store_open(path, STORE_SYNC_OFF, 1, err, sizeof err) == NULL);
    char aside[160];
    snprintf(aside, sizeof aside, "%s.corrupt", path);
    CHECK(access(aside, F_OK) != 0);

    /* A store of ssed's whose pages past the header are damaged is
     * refused, and repair moves it aside. */
    CHECK(unlink(path) == 0);
    store *made = store_open(path, STORE_SYNC_OFF, 0, err, sizeof err);
    CHECK(made != NULL);
    if (made)
        store_close(made);
    int fd = open(path, O_WRONLY);
    CHECK(fd >= 0);
    char junk[4096];
    memset(junk, 0x5a, sizeof junk);
    for (off_t at = 4096; fd >= 0 && at < 4 * 4096; at += 4096)
        CHECK(pwrite(fd, junk, sizeof junk, at) == (ssize_t)sizeof junk);
    if (fd >= 0)
        close(fd);
    CHECK(store_open(path, STORE_SYNC_OFF, 0, err, sizeof err) == NULL);
    CHECK(strstr(err, path) && strstr(err, "--store-repair"));
    store *repaired = store_open(path, STORE_SYNC_OFF, 1, err, sizeof err);
    CHECK(repaired != NULL);
    CHECK(access(aside, F_OK) == 0);
    if (repaired)
        store_close(repaired);
    remove_dir(dir);
}

/* A commit that fails takes back what it could not write: the events
 * leave history and their channel's count, and the dedup record goes back
 * to the store's, so a numbered resend is taken again. Deleting the file
 * is the failure here, and it is final. */
static void check_failed_commit_withdraws(const void *arg) {
    (void)arg;
    char dir[64], path[128], err[600], ids[200];
    temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/s.store", dir);
    hub h;
    dedup_table *d = calloc(1, sizeof *d);
    CHECK(d && init_hub(&h, 10) == 0);
    store *s = open_and_load(path, &h, d);
    if (!s || !d)
        return;
    publish(&h, "a", "a1", "one");
    dedup_published(d, 0xabc, 7);
    CHECK(store_commit(s, 1, err, sizeof err) == 0);
    publish(&h, "a", "a2", "two");
    publish(&h, "b", "b1", "uno");
    dedup_published(d, 0xabc, 8);
    dedup_published(d, 0xdef, 1);
    CHECK(dedup_next(d, 0xabc) == 9);
    CHECK(unlink(path) == 0);
    CHECK(store_commit(s, 1, err, sizeof err) == -1);
    CHECK(strstr(err, path) && strstr(err, "deleted or replaced while ssed ran"));
    CHECK(store_failing(s) && store_broken(s));
    uint64_t input_lost = 1;
    CHECK(store_take_withdrawn(s, &input_lost) == 2 && input_lost == 0);
    retained_ids(&h, "a", ids, sizeof ids);
    CHECK_STR(ids, "a1");
    channel *a = hub_channel_find(&h, "a", 1);
    CHECK(a && a->events_in == 1);
    CHECK(hub_channel_find(&h, "b", 1) == NULL); /* nothing holds it, nothing retained */
    CHECK(dedup_next(d, 0xabc) == 8);
    CHECK(dedup_next(d, 0xdef) == 0);
    CHECK(h.held_count == 0);
    store_close(s);
    hub_free(&h);
    free(d);
    remove_dir(dir);
}

static void check_no_engine(const void *arg) {
    (void)arg;
    char err[300];
    CHECK(store_open("/tmp/nowhere.store", STORE_SYNC_OFF, 0, err, sizeof err) == NULL);
    CHECK(strstr(err, "built without a store engine") != NULL);
}

void store_tests_register(void) {
    if (!store_available) {
        harness_add("store: without an engine (STORE=0), --store is refused clearly", check_no_engine, NULL);
        return;
    }
    harness_add("store: events, ids, eviction marks, counters and dedup come back after a reopen", check_round_trip,
                NULL);
    harness_add("store: a smaller --history evicts the oldest on load, and that is stored too",
                check_smaller_limit_evicts, NULL);
    harness_add("store: a held store and a damaged one are refused naming the path; repair moves it aside",
                check_refusals, NULL);
    harness_add("store: a failed commit (the file deleted) takes its events and dedup records back",
                check_failed_commit_withdraws, NULL);
}
