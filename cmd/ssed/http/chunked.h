/* An incremental decoder for HTTP/1.1 chunked bodies (RFC 9112 7.1): feed
 * it the raw bytes as they come; it hands back the body bytes and says when
 * the body ended or its framing broke. Never allocates; the verdict, body
 * and end do not depend on how the bytes are split between calls.
 *
 * Size lines and chunk data end in CRLF. Trailer lines end in CRLF or a bare
 * LF, and the body ends at the first empty line (CRLF or LF) after the last
 * chunk. Limits: a size line (size, whitespace and extensions) and each
 * trailer line are at most 4096 bytes; a size has at most 15 significant
 * hex digits (leading zeros are free). */
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

/* Decode from in[0..len). Body bytes are passed to on_data as they appear;
 * if on_data returns < 0, decoding stops with CHUNKED_ERROR and a NULL
 * *error. *consumed is set to the bytes of `in` used (less than len only
 * when the body ended: the rest belongs to the next request). Once the body
 * has ended, every later call returns CHUNKED_DONE and consumes nothing. */
int chunked_feed(chunked_decoder *d, const char *in, size_t len, size_t *consumed,
                 int (*on_data)(void *ctx, const char *bytes, size_t len), void *ctx, const char **error);

#endif
