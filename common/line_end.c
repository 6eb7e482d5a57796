#include "line_end.h"

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)
#define LOWS UINT64_C(0x7F7F7F7F7F7F7F7F)

/* 0x80 in every byte of x that is zero, nothing elsewhere (exact: no
 * borrow runs from one byte into the next, unlike the shorter trick). */
static inline uint64_t zero_bytes(uint64_t x) { return ~(((x & LOWS) + LOWS) | x | LOWS); }

/* Bytes before the first marked one, counted from the low end as memory
 * order on little-endian machines; on big-endian ones from the high end. */
static inline size_t bytes_before(uint64_t marks) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return (size_t)__builtin_clzll(marks) / 8;
#else
    return (size_t)__builtin_ctzll(marks) / 8;
#endif
}

/* Keep only the bytes before the first `n` (n < 8) in memory order. */
static inline uint64_t first_bytes(uint64_t x, size_t n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return n ? x & ~(~UINT64_C(0) >> (8 * n)) : 0;
#else
    return x & ((UINT64_C(1) << (8 * n)) - 1);
#endif
}

static size_t tail_scan(const unsigned char *s, size_t i, size_t len, int *non_ascii) {
    unsigned char high = 0;
    for (; i < len; i++) {
        if (s[i] == '\n' || s[i] == '\r')
            break;
        high |= s[i];
    }
    if (high & 0x80)
        *non_ascii = 1;
    return i;
}

size_t line_end_find_portable(const char *str, size_t len, int *non_ascii) {
    const unsigned char *s = (const unsigned char *)str;
#if !defined(__BYTE_ORDER__)
    return tail_scan(s, 0, len, non_ascii); /* byte order unknown: a byte at a time */
#endif
    uint64_t high = 0;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        uint64_t ends = zero_bytes(w ^ (ONES * '\n')) | zero_bytes(w ^ (ONES * '\r'));
        if (ends) {
            size_t k = bytes_before(ends);
            high |= first_bytes(w, k);
            if (high & HIGHS)
                *non_ascii = 1;
            return i + k;
        }
        high |= w;
    }
    if (high & HIGHS)
        *non_ascii = 1;
    return tail_scan(s, i, len, non_ascii);
}

#if defined(__SSE2__)
size_t line_end_find(const char *str, size_t len, int *non_ascii) {
    const unsigned char *s = (const unsigned char *)str;
    const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    unsigned high = 0;
    size_t i = 0;
    for (; i + 16 <= len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
        unsigned ends = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)));
        unsigned top = (unsigned)_mm_movemask_epi8(v);
        if (ends) {
            unsigned k = (unsigned)__builtin_ctz(ends);
            high |= top & ((1u << k) - 1);
            if (high)
                *non_ascii = 1;
            return i + k;
        }
        high |= top;
    }
    if (high)
        *non_ascii = 1;
    return tail_scan(s, i, len, non_ascii);
}
#else
size_t line_end_find(const char *s, size_t len, int *non_ascii) { return line_end_find_portable(s, len, non_ascii); }
#endif
