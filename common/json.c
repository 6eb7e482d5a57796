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
static int is_c1(const unsigned char *s) { return s[0] == C1_LEAD && s[1] >= 0x80 && s[1] <= 0x9F; }

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

/* The bytes of x, a little-endian word, that must be escaped in a JSON
 * string or looked at: control characters, quote, backslash, and C1_LEAD,
 * which may start a C1 control. The high bit of each such byte is set, and
 * only of those (the tests cannot borrow across bytes). */
static uint64_t escape_mask(uint64_t x) {
    const uint64_t ones = 0x0101010101010101ULL, low7 = ones * 0x7F;
    uint64_t quote = x ^ (ones * '"'), backslash = x ^ (ones * '\\'), lead = x ^ (ones * C1_LEAD);
    uint64_t control = (x & low7) + ones * (0x80 - 0x20) /* high bit: 0x20 or more */;
    uint64_t zeros = (((quote & low7) + low7) | quote) & (((backslash & low7) + low7) | backslash) &
                     (((lead & low7) + low7) | lead);
    return ~((control | x) & zeros) & (ones * 0x80);
}

/* The character at s at *w, escaped if it must be; returns where the next
 * one starts. A quote or a backslash takes no branch. */
static const char *escape_char(char **w, const char *s) {
    unsigned char c = (unsigned char)*s;
    if (c < 0x20 || (c == C1_LEAD && is_c1((const unsigned char *)s))) {
        *w = write_escape(*w, c < 0x20 ? c : (unsigned char)s[1]);
        return s + (c < 0x20 ? 1 : 2);
    }
    int escaped = c == '"' || c == '\\';
    (*w)[0] = '\\';
    (*w)[escaped] = (char)c;
    *w += 1 + escaped;
    return s + 1;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* The n (1 to 8) bytes at s as a word, the first lowest, zeros above;
 * start (at most s) is where s's bytes may be read from: the last bytes of
 * a longer text are read as the word that ends with them. */
static uint64_t load_word(const char *start, const char *s, size_t n) {
    uint64_t x = 0;
    if (n == 8 || s + n - start >= 8) {
        memcpy(&x, s + n - 8, 8);
        return n == 8 ? x : x >> (8 * (8 - n));
    }
    for (size_t i = 0; i < n; i++)
        x |= (uint64_t)(unsigned char)s[i] << (8 * i);
    return x;
}

/* The n bytes at s, x, at *w, escaped; mask is escape_mask(x) for those n.
 * Returns how many bytes of s were used (n + 1 when a C1 control began at
 * the last). The clean bytes between escapes are stored a word at a time
 * from x shifted, never byte by byte, and a quote or backslash is escaped
 * in line: JSON data is full of them. */
static size_t escape_word(char **wp, const char *s, uint64_t x, uint64_t mask, size_t n) {
    char *w = *wp;
    size_t pos = 0;
    while (mask) {
        size_t at = (size_t)__builtin_ctzll(mask) >> 3;
        uint64_t rest = x >> (8 * pos);
        memcpy(w, &rest, 8);
        w += at - pos;
        unsigned char c = (unsigned char)s[at];
        if (c == '"' || c == '\\') {
            w[0] = '\\';
            w[1] = (char)c;
            w += 2;
            pos = at + 1;
        } else {
            pos = (size_t)(escape_char(&w, s + at) - s);
        }
        if (pos >= n)
            break;
        mask &= ~0ULL << (8 * pos);
    }
    if (pos < n) {
        uint64_t rest = x >> (8 * pos);
        memcpy(w, &rest, 8);
        w += n - pos;
        pos = n;
    }
    *wp = w;
    return pos;
}

#ifdef __SSE2__
/* Which of the 16 bytes at s must be escaped or looked at (as for
 * escape_mask), one bit a byte. */
static unsigned escape_bits(const char *s) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
    __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1F)), _mm_set1_epi8(0x1F));
    __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    __m128i lead = _mm_cmpeq_epi8(v, _mm_set1_epi8((char)C1_LEAD));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(control, quote), _mm_or_si128(backslash, lead)));
}

/* Escape the 16 bytes at s, where 16 more may be read after them, at *wp;
 * returns how many bytes of s were used (17 when a C1 control began at the
 * last). The clean bytes before each escape are copied 16 at a time, and
 * w moves past the clean ones only. */
static size_t escape_16(char **wp, const char *s) {
    char *w = *wp;
    unsigned bits = escape_bits(s);
    size_t pos = 0;
    while (bits) {
        size_t at = (size_t)__builtin_ctz(bits);
        memcpy(w, s + pos, 16);
        w += at - pos;
        unsigned char c = (unsigned char)s[at];
        if (c == '"' || c == '\\') {
            w[0] = '\\';
            w[1] = (char)c;
            w += 2;
            pos = at + 1;
        } else {
            pos = (size_t)(escape_char(&w, s + at) - s);
        }
        if (pos >= 16)
            break;
        bits &= ~0u << pos;
    }
    if (pos < 16) {
        memcpy(w, s + pos, 16);
        w += 16 - pos;
        pos = 16;
    }
    *wp = w;
    return pos;
}
#endif

/* Escape s[0..len) at w, given room for 6 bytes an input byte and 16 more;
 * returns the end. Sixteen bytes at a time with SSE2 while 16 more follow,
 * then eight, the last few as one short word; a C1 control is whole in s. */
static char *escape_block(char *w, const char *s, size_t len) {
    const char *start = s, *end = s + len;
#ifdef __SSE2__
    while (end - s >= 32)
        s += escape_16(&w, s);
#endif
    while (s < end) {
        size_t n = end - s < 8 ? (size_t)(end - s) : 8;
        uint64_t x = load_word(start, s, n);
        uint64_t mask = escape_mask(x) & (n == 8 ? ~0ULL : (1ULL << (8 * n)) - 1);
        if (mask) {
            s += escape_word(&w, s, x, mask, n);
        } else {
            memcpy(w, &x, 8);
            w += n;
            s += n;
        }
    }
    return w;
}
#else
/* Escape s[0..len) at w, given room for 6 bytes an input byte; returns the
 * end. One character at a time; a C1 control is whole in s. */
static char *escape_block(char *w, const char *s, size_t len) {
    const char *end = s + len;
    while (s < end)
        s = escape_char(&w, s);
    return w;
}
#endif

/* Valid UTF-8 as JSON string content, in blocks so that the room reserved
 * for the worst case (6 bytes a byte) stays small. */
static int append_valid(buf *out, const char *s, size_t len) {
    while (len > 0) {
        size_t block = len < 4096 ? len : 4096;
        if (block < len && (unsigned char)s[block - 1] == C1_LEAD)
            block++; /* a two-byte sequence stays whole for escape_block */
        if (6 * block + 16 > out->cap - out->len && buf_reserve(out, 6 * block + 16) < 0)
            return -1;
        char *w = escape_block(out->data + out->len, s, block);
        out->len = (size_t)(w - out->data);
        s += block;
        len -= block;
    }
    return 0;
}

int json_append_string(buf *out, const char *s, size_t len) {
    if (buf_append_char(out, '"') < 0)
        return -1;
    while (len > 0) {
        size_t valid = utf8_valid_prefix(s, len);
        if (append_valid(out, s, valid) < 0)
            return -1;
        if (valid == len)
            break;
        size_t bad = utf8_invalid_run(s + valid, len - valid);
        if (buf_append(out, "\xEF\xBF\xBD", 3) < 0)
            return -1;
        s += valid + bad;
        len -= valid + bad;
    }
    return buf_append_char(out, '"');
}
