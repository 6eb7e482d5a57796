/* jansson parses that end cleanly when memory runs out. jansson's lexer
 * drops a failed allocation of its token buffer (lex_save ignores
 * strbuffer_append_byte's -1: jansson issue #362, still so in 2.14 and
 * 2.15), then walks past the shortened token and writes past a heap
 * buffer: a crash, not an error. Every load of untrusted JSON (bodies,
 * token parts) goes through json_guard_loadb, which gives jansson an
 * allocator that never returns NULL inside a parse: a failed allocation
 * abandons the parse and frees all it had allocated. */
#ifndef SSED_JSON_GUARD_H
#define SSED_JSON_GUARD_H

#include <jansson.h>
#include <stddef.h>

/* json_loadb, except that when memory runs out it returns NULL with
 * *out_of_memory set (and err, if given, saying "out of memory") instead
 * of letting jansson go on. The document is freed with json_decref as
 * usual, before or after later loads. */
json_t *json_guard_loadb(const char *bytes, size_t len, size_t flags, json_error_t *err, int *out_of_memory);

/* For tests: where jansson's memory comes from (NULL: malloc again), so
 * that an allocation can be made to fail. */
void json_guard_set_alloc(void *(*alloc)(size_t size));

/* Blocks jansson holds now (documents not yet freed): 0 after every parse
 * that failed, and after every document is freed. For tests. */
size_t json_guard_live_blocks(void);

#endif
