/* An incremental decoder for HTTP/1.1 chunked bodies (RFC 9112 7.1): feed
 * it the raw bytes as they come; it hands back the body bytes and says when
 * the body ended or its framing broke. Never allocates. */
#ifndef SSED_CHUNKED_H
#define SSED_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

typedef struct chunked_decoder {
    int state;
    uint64_t remaining; /* bytes left in the current chunk */
    int size_digits;
    size_t line_bytes; /* length of the extension or trailer line so far */
} chunked_decoder;

enum { CHUNKED_MORE = 0, CHUNKED_DONE = 1, CHUNKED_ERROR = -1 };

void chunked_init(chunked_decoder *d);

/* Decode from in[0..len). Body bytes are passed to on_data as they appear.
 * *consumed is set to the bytes of `in` used (less than len only when the
 * body ended: the rest belongs to the next request). */
int chunked_feed(chunked_decoder *d, const char *in, size_t len, size_t *consumed,
                 int (*on_data)(void *ctx, const char *bytes, size_t len), void *ctx, const char **error);

#endif
