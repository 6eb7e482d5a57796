/* jansson's memory, given out so that no parse sees an allocation fail
 * (see json_guard.h for the bug this avoids). A failed allocation inside
 * json_guard_loadb jumps back to it (longjmp) and every block the parse
 * had allocated is freed. That is sound for jansson's loader: a parse
 * keeps all its state on its stack and in blocks it allocated, holds no
 * lock and changes no global state (the hash seed is set without
 * allocating), so abandoning it mid-way leaves nothing half-done. */
#include "json_guard.h"

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "list.h"

/* A header before each block: which list it is on. */
typedef union guard_block {
    list_node link;
    max_align_t align; /* blocks stay aligned for any type */
} guard_block;

/* jansson's allocator hooks are process-wide, so this state is too (ssed
 * has one thread). */
static struct {
    int installed;
    int parsing;
    jmp_buf abandon;
    list_node during; /* blocks of the parse under way */
    list_node kept;   /* blocks of documents parsed and not yet freed */
    size_t live;
    void *(*alloc)(size_t size);
} guard;

static void *guard_malloc(size_t size) {
    guard_block *b = NULL;
    if (size <= SIZE_MAX - sizeof *b)
        b = (guard.alloc ? guard.alloc : malloc)(sizeof *b + size);
    if (!b) {
        if (guard.parsing)
            longjmp(guard.abandon, 1); /* jansson would carry on wrongly */
        return NULL;
    }
    list_push_back(guard.parsing ? &guard.during : &guard.kept, &b->link);
    guard.live++;
    return b + 1;
}

static void guard_free(void *ptr) {
    if (!ptr)
        return;
    guard_block *b = (guard_block *)ptr - 1;
    list_remove(&b->link);
    guard.live--;
    free(b);
}

/* Before jansson allocates anything: it frees with the hooks it has then,
 * so a block from plain malloc must never reach guard_free. */
static void guard_install(void) {
    if (guard.installed)
        return;
    list_init(&guard.during);
    list_init(&guard.kept);
    json_set_alloc_funcs(guard_malloc, guard_free);
    guard.installed = 1;
}

static void free_abandoned_parse(void) {
    while (!list_empty(&guard.during))
        guard_free((guard_block *)guard.during.next + 1);
}

json_t *json_guard_loadb(const char *bytes, size_t len, size_t flags, json_error_t *err, int *out_of_memory) {
    guard_install();
    *out_of_memory = 0;
    /* Only static state changes between setjmp and longjmp: no local
     * variable of this function needs to survive the jump. */
    guard.parsing = 1;
    if (setjmp(guard.abandon)) {
        guard.parsing = 0;
        free_abandoned_parse();
        *out_of_memory = 1;
        if (err) {
            memset(err, 0, sizeof *err);
            err->line = err->column = -1;
            snprintf(err->text, sizeof err->text, "out of memory");
        }
        return NULL;
    }
    json_t *doc = json_loadb(bytes, len, flags, err);
    guard.parsing = 0;
    list_move_all(&guard.kept, &guard.during); /* the document's blocks, freed by json_decref */
    return doc;
}

void json_guard_set_alloc(void *(*alloc)(size_t size)) { guard.alloc = alloc; }

size_t json_guard_live_blocks(void) { return guard.live; }
