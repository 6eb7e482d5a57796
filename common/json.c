#include "json.h"

#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "utf8.h"

/* C1 controls (U+0080 to U+009F) are C2 80 to C2 9F in UTF-8. JSON lets
 * them through raw, but a terminal obeys them (C2 9B is CSI), so they are
 * escaped as \u0080.. too. */
#define C1_LEAD 0xC2

/* The letter of each control character's short escape (\t, \n, \r), or 'u'
 * for \u00XX. */
static const char control_escape[33] = "uuuuuuuuutnuuruuuuuuuuuuuuuuuuuu";

/* Write the escape of c (a control character, quote or backslash; C1 ones
 * by their code point) at w; returns its end. */
static char *write_escape(char *w, unsigned char c) {
    static const char hex[] = "0123456789abcdef";
    *w++ = '\\';
    if (c == '"' || c == '\\') {
        *w++ = (char)c;
    } else if (c < 0x20 && control_escape[c] != 'u') {
        *w++ = control_escape[c];
    } else {
        memcpy(w, "u00", 3);
        w[3] = hex[c >> 4];
        w[4] = hex[c & 15];
        w += 5;
    }
    return w;
}

/* The text is read a word (8 bytes), or with SSE2 16 bytes, at a time,
 * and two masks are made of it: its quotes and backslashes, which are
 * escaped in line (JSON data is full of them), and its "other" special
 * bytes, control characters and every non-ASCII byte, which end the run
 * the word is taken as and are looked at one by one. UTF-8 is validated
 * there, so the text is walked once. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define WORD_PATH 1

/* The n bytes (1 to 7) at s as a little-endian word, zeros above, read
 * without touching a byte past s + n and without a byte loop: every
 * string ends with such a tail and most types and ids are nothing else. */
static uint64_t load_short(const char *s, size_t n) {
    if (n >= 4) {
        uint32_t first, last;
        memcpy(&first, s, 4);
        memcpy(&last, s + n - 4, 4);
        return first | (uint64_t)last << (8 * (n - 4));
    }
    return (uint64_t)(unsigned char)s[0] | (uint64_t)(unsigned char)s[n / 2] << (8 * (n / 2)) |
           (uint64_t)(unsigned char)s[n - 1] << (8 * (n - 1));
}

/* The high bit of each byte of x that is zero, and only of those (the test
 * cannot borrow across bytes). */
static uint64_t zero_bytes(uint64_t x) {
    const uint64_t low7 = 0x7F7F7F7F7F7F7F7FULL;
    return ~(((x & low7) + low7) | x | low7);
}

/* The quotes and backslashes of x (in *quotes) and its other special
 * bytes, below 0x20 or above 0x7F (returned), as high bits. */
static uint64_t word_classify(uint64_t x, uint64_t *quotes) {
    const uint64_t ones = 0x0101010101010101ULL, low7 = ones * 0x7F, high = ones * 0x80;
    *quotes = zero_bytes(x ^ (ones * '"')) | zero_bytes(x ^ (ones * '\\'));
    uint64_t printable = (x & low7) + ones * (0x80 - 0x20); /* high bit: low 7 bits 0x20 or more */
    return ~(printable & ~x) & high;
}

/* The first `clean` bytes of x (none of them special but the quotes and
 * backslashes flagged in quotes) at w, a backslash before each flagged
 * one; returns their end. The bytes after each escape are stored whole
 * from x shifted, so the loop carries nothing but the mask from one
 * escape to the next. Writes up to 8 bytes past the end. */
static char *escape_quotes_word(char *w, uint64_t x, uint64_t quotes, size_t clean) {
    memcpy(w, &x, 8);
    size_t k = 0;
    for (; quotes; quotes &= quotes - 1, k++) {
        size_t at = (size_t)__builtin_ctzll(quotes) >> 3;
        uint64_t rest = x >> (8 * at);
        w[at + k] = '\\';
        memcpy(w + at + k + 1, &rest, 8);
    }
    return w + clean + k;
}

#ifdef __SSE2__
/* As word_classify, for the 16 bytes of v, a bit a byte. Controls and
 * non-ASCII bytes are those below 0x20 as signed bytes. */
static unsigned classify_16(__m128i v, unsigned *quotes) {
    __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    *quotes = (unsigned)_mm_movemask_epi8(_mm_or_si128(quote, backslash));
    return (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
}

/* As escape_quotes_word, for the 16 bytes at s (in v), 16 more readable
 * after them: the bytes after each escape are stored from a load at it. */
static char *escape_quotes_16(char *w, const char *s, __m128i v, unsigned quotes, size_t clean) {
    _mm_storeu_si128((__m128i *)(void *)w, v);
    size_t k = 0;
    for (; quotes; quotes &= quotes - 1, k++) {
        size_t at = (size_t)__builtin_ctz(quotes);
        w[at + k] = '\\';
        _mm_storeu_si128((__m128i *)(void *)(w + at + k + 1), _mm_loadu_si128((const __m128i *)(const void *)(s + at)));
    }
    return w + clean + k;
}
#endif
#endif

/* The non-ASCII characters from s on, up to the first ASCII byte, end or
 * the first that starts at stop or later, at *wp: valid ones as they are,
 * C1 controls escaped, each invalid sequence (maximal subpart, as
 * utf8_sanitize_append decides) as U+FFFD. Returns where it stopped. */
static const char *escape_non_ascii(char **wp, const char *s, const char *stop, const char *end) {
    char *w = *wp;
    do {
        size_t n = utf8_sequence_length(s, (size_t)(end - s));
        if (n == 0) {
            memcpy(w, "\xEF\xBF\xBD", 3);
            w += 3;
            s += utf8_invalid_run(s, (size_t)(end - s));
        } else if ((unsigned char)s[0] == C1_LEAD && (unsigned char)s[1] <= 0x9F) {
            w = write_escape(w, (unsigned char)s[1]);
            s += 2;
        } else {
            if (end - s >= 4)
                memcpy(w, s, 4); /* one store; the bytes past the character are overwritten */
            else
                memcpy(w, s, n);
            w += n;
            s += n;
        }
    } while (s < stop && (unsigned char)*s >= 0x80);
    *wp = w;
    return s;
}

/* The control character or non-ASCII character at s at *wp, as its kind
 * asks; returns where the next one starts. */
static const char *escape_other(char **wp, const char *s, const char *stop, const char *end) {
    unsigned char c = (unsigned char)*s;
    if (c < 0x80) {
        *wp = write_escape(*wp, c);
        return s + 1;
    }
    return escape_non_ascii(wp, s, stop, end);
}

#ifdef WORD_PATH
/* The first n (1 to 8) bytes of x, the text at s, at *wp, and the control
 * or non-ASCII character after them if other (word_classify's) flags one;
 * returns where the next round starts. */
static const char *escape_word(char **wp, const char *s, uint64_t x, uint64_t other, uint64_t quotes, size_t n,
                               const char *stop, const char *end) {
    if (!other) {
        *wp = escape_quotes_word(*wp, x, quotes, n);
        return s + n;
    }
    size_t clean = (size_t)__builtin_ctzll(other) >> 3;
    *wp = escape_quotes_word(*wp, x, quotes & ((other & -other) - 1), clean);
    return escape_other(wp, s + clean, stop, end);
}

/* Escape the characters of the text that start in [*sp, stop) at w,
 * reading up to end (a character that stop cuts is taken whole, and a
 * clean run that crosses stop too); *sp is moved past them, and the end
 * of what was written is returned. Room: see escape_room. Each round
 * takes the run up to the first control or non-ASCII byte in the next 16
 * (or 8) bytes, and then that byte. A run without one, the usual case,
 * moves on by a constant under a branch, not by an amount worked out from
 * the bytes, so the next load does not wait for this one. */
static char *escape_text(char *w, const char **sp, const char *stop, const char *end) {
    const char *s = *sp;
    while (s < stop) {
#ifdef __SSE2__
        if (end - s >= 32) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
            unsigned quotes, other = classify_16(v, &quotes);
            if (!other) {
                w = escape_quotes_16(w, s, v, quotes, 16);
                s += 16;
                continue;
            }
            size_t clean = (size_t)__builtin_ctz(other);
            w = escape_quotes_16(w, s, v, quotes & ((other & -other) - 1), clean);
            s = escape_other(&w, s + clean, stop, end);
            continue;
        }
#endif
        uint64_t x, quotes, other;
        if (end - s >= 8) {
            memcpy(&x, s, 8);
            other = word_classify(x, &quotes);
            s = escape_word(&w, s, x, other, quotes, 8, stop, end);
        } else {
            size_t n = (size_t)(end - s);
            x = load_short(s, n);
            other = word_classify(x, &quotes) & ((1ULL << (8 * n)) - 1); /* not the zeros above */
            s = escape_word(&w, s, x, other, quotes, n, stop, end);
        }
    }
    *sp = s;
    return w;
}
#else
/* As above, a byte at a time. */
static char *escape_text(char *w, const char **sp, const char *stop, const char *end) {
    const char *s = *sp;
    while (s < stop) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            *w++ = '\\';
            *w++ = (char)c;
            s++;
        } else if (c < 0x20 || c >= 0x80) {
            s = escape_other(&w, s, stop, end);
        } else {
            *w++ = (char)c;
            s++;
        }
    }
    *sp = s;
    return w;
}
#endif

/* Strings are escaped in blocks so that the room reserved for the worst
 * case stays small for long ones. */
#define BLOCK 4096

/* The room escape_text needs for a block of n bytes, with both quotes:
 * at most 6 bytes out for each byte in (a control character's \u00XX),
 * over the block and the bytes taken past it (under 32: a run of 16 begun
 * in the block, then a character of up to 4 after it), and the 16 bytes
 * the stores of whole words may write past the end. */
static size_t escape_room(size_t n) { return 6 * (n + 32) + 16 + 2; }

static int reserve(buf *out, size_t n) { return n > out->cap - out->len ? buf_reserve(out, n) : 0; }

int json_append_string(buf *out, const char *s, size_t len) {
    if (len == 0) /* s may be NULL, and NULL + 0 is undefined */
        return buf_append(out, "\"\"", 2);
    const char *end = s + len;
    size_t block = len < BLOCK ? len : BLOCK;
    if (reserve(out, escape_room(block)) < 0)
        return -1;
    char *w = out->data + out->len;
    *w++ = '"';
    for (;;) {
        w = escape_text(w, &s, s + block, end);
        if (s >= end)
            break;
        out->len = (size_t)(w - out->data);
        block = end - s < BLOCK ? (size_t)(end - s) : BLOCK;
        if (reserve(out, escape_room(block)) < 0)
            return -1;
        w = out->data + out->len;
    }
    *w++ = '"';
    out->len = (size_t)(w - out->data);
    return 0;
}
