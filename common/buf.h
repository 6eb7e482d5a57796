/* A growable byte buffer: the one place the suite grows memory, so every
 * growth is doubling (amortised O(1) per byte) and every failure is seen. */
#ifndef SSETOOLS_BUF_H
#define SSETOOLS_BUF_H

#include <stddef.h>
#include <string.h>

typedef struct buf {
    char *data;
    size_t len;
    size_t cap;
    /* Some append failed since the buffer was made, cleared or freed: what
     * it holds is incomplete. Lets a caller build a reply with unchecked
     * appends and look once at the end. */
    int failed;
} buf;

#define BUF_INIT {NULL, 0, 0, 0}

/* Make room for `extra` more bytes; 0 on success, -1 (errno ENOMEM) on failure. */
int buf_reserve(buf *b, size_t extra);
/* Appends are inline: parsers and formatters call them per field. */
static inline int buf_append(buf *b, const void *bytes, size_t len) {
    if (len == 0)
        return 0;
    if (len > b->cap - b->len && buf_reserve(b, len) < 0)
        return -1;
    memcpy(b->data + b->len, bytes, len);
    b->len += len;
    return 0;
}
static inline int buf_append_char(buf *b, char c) {
    if (b->len == b->cap && buf_reserve(b, 1) < 0)
        return -1;
    b->data[b->len++] = c;
    return 0;
}
int buf_append_str(buf *b, const char *s);
/* printf-style append; -1 on allocation or format failure. */
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_clear(buf *b);
void buf_free(buf *b);

#endif
