/* UTF-8 decoding as the WHATWG Encoding standard does it: every invalid
 * sequence (maximal subpart) becomes U+FFFD, so what we print or send is
 * exactly what a browser's EventSource would show. */
#ifndef SSETOOLS_UTF8_H
#define SSETOOLS_UTF8_H

#include <stddef.h>

#include "buf.h"

/* Length of the longest prefix of `s` that is valid UTF-8. */
size_t utf8_valid_prefix(const char *s, size_t len);

/* The length of the sequence that `lead` starts (2 to 4; 0 when it starts
 * none), and the range its second byte must be in: it depends on the lead
 * (this is what rules out overlongs, surrogates and code points above
 * U+10FFFF); later continuation bytes are always 80..BF. */
static inline int utf8_sequence_shape(unsigned char lead, unsigned char *second_lo, unsigned char *second_hi) {
    *second_lo = lead == 0xE0 ? 0xA0 : lead == 0xF0 ? 0x90 : 0x80;
    *second_hi = lead == 0xED ? 0x9F : lead == 0xF4 ? 0x8F : 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF)
        return 2;
    if (lead >= 0xE0 && lead <= 0xEF)
        return 3;
    if (lead >= 0xF0 && lead <= 0xF4)
        return 4;
    return 0;
}

/* Length of the valid sequence that starts at `s` (1 to 4 bytes; `len`
 * at least 1), or 0 when none does: `s` starts an invalid sequence or one
 * that `len` cuts short. For encoders that walk the text once and
 * validate as they go, so inline: it runs once a non-ASCII character. */
static inline size_t utf8_sequence_length(const char *str, size_t len) {
    const unsigned char *s = (const unsigned char *)str;
    if (s[0] < 0x80)
        return 1;
    unsigned char lo, hi;
    size_t need = (size_t)utf8_sequence_shape(s[0], &lo, &hi);
    if (need == 0 || len < need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return need;
}

/* Length of the invalid sequence at `s` (1 to 3 bytes) that the decoder
 * replaces with one U+FFFD; `s` must not start a valid sequence. */
size_t utf8_invalid_run(const char *s, size_t len);

/* Append `s` to `out` with each invalid sequence replaced by U+FFFD. */
int utf8_sanitize_append(buf *out, const char *s, size_t len);

#endif
