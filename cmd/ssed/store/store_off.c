/* The store when ssed is built without an engine (make STORE=0): --store
 * is refused at start with a clear error; nothing else is ever called. */
#include <stdio.h>

#include "store.h"

const int store_available = 0;

store *store_open(const char *path, enum store_sync sync, int repair, char *err, size_t errlen) {
    (void)sync;
    (void)repair;
    snprintf(err, errlen, "store %s: this ssed was built without a store engine (make STORE=0)", path);
    return NULL;
}

int store_load(store *s, hub *h, dedup_table *d, char *err, size_t errlen) {
    (void)s, (void)h, (void)d;
    snprintf(err, errlen, "no store engine");
    return -1;
}

int store_commit(store *s, int ack, char *err, size_t errlen) {
    (void)s, (void)ack, (void)err, (void)errlen;
    return 0;
}

int store_failing(const store *s) { return s != NULL && 0; }

const char *store_error(const store *s) { return s ? "" : ""; }

int store_broken(const store *s) { return s != NULL && 0; }

uint64_t store_take_withdrawn(store *s, uint64_t *input_lost) {
    *input_lost = 0;
    return s != NULL && 0;
}

int store_tick(store *s, uint64_t now_ms, char *err, size_t errlen) {
    (void)s, (void)now_ms, (void)err, (void)errlen;
    return 0;
}

int store_next_timeout(const store *s, uint64_t now_ms) {
    (void)s, (void)now_ms;
    return -1;
}

void store_detach(store *s) { (void)s; }

void store_close(store *s) { (void)s; }
