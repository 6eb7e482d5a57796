/* UTF-8 decoding as the WHATWG Encoding standard does it: every invalid
 * sequence (maximal subpart) becomes U+FFFD, so what we print or send is
 * exactly what a browser's EventSource would show. */
#ifndef SSETOOLS_UTF8_H
#define SSETOOLS_UTF8_H

#include <stddef.h>

#include "buf.h"

/* Length of the longest prefix of `s` that is valid UTF-8. */
size_t utf8_valid_prefix(const char *s, size_t len);

/* Length of the invalid sequence at `s` (1 to 3 bytes) that the decoder
 * replaces with one U+FFFD; `s` must not start a valid sequence. */
size_t utf8_invalid_run(const char *s, size_t len);

/* Append `s` to `out` with each invalid sequence replaced by U+FFFD. */
int utf8_sanitize_append(buf *out, const char *s, size_t len);

#endif
