#include "utf8.h"

#include <stdint.h>
#include <string.h>

static const char replacement_char[3] = {'\xEF', '\xBF', '\xBD'};

/* Number of bytes of the sequence at s that are well formed so far: equal to
 * the sequence length when it is complete and valid. */
static size_t well_formed_bytes(const unsigned char *s, size_t len, int *need) {
    unsigned char lo, hi;
    *need = utf8_sequence_shape(s[0], &lo, &hi);
    if (*need == 0)
        return 0;
    size_t ok = 1;
    while (ok < (size_t)*need && ok < len) {
        unsigned char c = s[ok];
        if (ok == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF))
            break;
        ok++;
    }
    return ok;
}

size_t utf8_valid_prefix(const char *str, size_t len) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    for (;;) {
        /* ASCII runs dominate real streams: check eight bytes at a time. */
        while (i + 8 <= len) {
            uint64_t word;
            memcpy(&word, s + i, 8);
            if (word & UINT64_C(0x8080808080808080))
                break;
            i += 8;
        }
        while (i < len && s[i] < 0x80)
            i++;
        if (i >= len)
            return len;
        int need;
        size_t ok = well_formed_bytes(s + i, len - i, &need);
        if (need == 0 || ok < (size_t)need)
            return i;
        i += ok;
    }
}

size_t utf8_invalid_run(const char *str, size_t len) {
    int need;
    size_t ok = well_formed_bytes((const unsigned char *)str, len, &need);
    return ok ? ok : 1;
}

int utf8_sanitize_append(buf *out, const char *s, size_t len) {
    while (len > 0) {
        size_t valid = utf8_valid_prefix(s, len);
        if (buf_append(out, s, valid) < 0)
            return -1;
        if (valid == len)
            return 0;
        size_t bad = utf8_invalid_run(s + valid, len - valid);
        if (buf_append(out, replacement_char, sizeof replacement_char) < 0)
            return -1;
        s += valid + bad;
        len -= valid + bad;
    }
    return 0;
}
