#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "json.h"

static void escapes(const void *arg) {
    (void)arg;
    const struct {
        const char *in;
        size_t len;
        const char *want;
    } cases[] = {
        {"plain", 5, "\"plain\""},
        {"q\"b\\", 4, "\"q\\\"b\\\\\""},
        {"a\nb\rc\td", 7, "\"a\\nb\\rc\\td\""},
        {"\x01\x1f", 2, "\"\\u0001\\u001f\""},
        {"nul\0x", 5, "\"nul\\u0000x\""},
        {"caf\xC3\xA9", 5, "\"caf\xC3\xA9\""},
        {"bad\xFF", 4, "\"bad\xEF\xBF\xBD\""},
        {"c1\xC2\x80\xC2\x9B[2J\xC2\x9F", 11, "\"c1\\u0080\\u009b[2J\\u009f\""},
        {"\xC2\xA0\xC2\xA9 not C1", 11, "\"\xC2\xA0\xC2\xA9 not C1\""},
        {"long enough for a word: \xC2\x85 and \xC2\xBF", 33, "\"long enough for a word: \\u0085 and \xC2\xBF\""},
    };
    buf out = BUF_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_clear(&out);
        CHECK(json_append_string(&out, cases[i].in, cases[i].len) == 0);
        buf_append_char(&out, '\0');
        CHECK_STR(out.data, cases[i].want);
    }
    /* An empty string may come as NULL (an event without an id). */
    buf_clear(&out);
    CHECK(json_append_string(&out, NULL, 0) == 0);
    buf_append_char(&out, '\0');
    CHECK_STR(out.data, "\"\"");
    buf_free(&out);
}

/* A C1 control is escaped wherever it falls: at every offset around the
 * 4096-byte blocks the encoder works in, and inside and across 8-byte words. */
static void c1_at_every_offset(const void *arg) {
    (void)arg;
    char in[4200];
    buf out = BUF_INIT;
    for (size_t at = 4080; at < 4110; at++) {
        memset(in, 'a', sizeof in);
        in[at] = '\xC2';
        in[at + 1] = '\x9B';
        buf_clear(&out);
        CHECK(json_append_string(&out, in, at + 10) == 0);
        CHECK(out.len == at + 10 - 2 + 6 + 2);
        CHECK(out.len > at + 6 && memcmp(out.data + 1 + at, "\\u009b", 6) == 0);
    }
    buf_free(&out);
}

/* The escaping as the JSON and terminal rules state it, one character at
 * a time, for valid UTF-8: what the word-at-a-time encoder must match. */
static void reference_escape(buf *out, const unsigned char *s, size_t len) {
    buf_append_char(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\')
            buf_printf(out, "\\%c", c);
        else if (c == '\n' || c == '\r' || c == '\t')
            buf_printf(out, "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
        else if (c < 0x20)
            buf_printf(out, "\\u%04x", c);
        else if (c == 0xC2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9F)
            buf_printf(out, "\\u%04x", s[++i]);
        else
            buf_append_char(out, (char)c);
    }
    buf_append_char(out, '"');
}

/* Property: random valid UTF-8, dense in quotes, backslashes, controls and
 * C1 controls at every offset within and across 8-byte words, escapes as
 * the reference does. */
static void escapes_match_reference(const void *arg) {
    (void)arg;
    static const char *const pieces[] = {"a", "bcdefgh", "\"", "\\", "\n", "\t", "\x01", "\x1f", " ",
                                         "\xC2\x85", "\xC2\xA0", "\xC3\xA9", "\xE2\x82\xAC", "\x7f", "~"};
    unsigned state = 12345;
    buf in = BUF_INIT, got = BUF_INIT, want = BUF_INIT;
    for (int round = 0; round < 3000; round++) {
        buf_clear(&in);
        int n = round % 40;
        for (int i = 0; i < n; i++) {
            state = state * 1103515245u + 12345u;
            buf_append_str(&in, pieces[(state >> 16) % (sizeof pieces / sizeof pieces[0])]);
        }
        buf_clear(&got);
        buf_clear(&want);
        CHECK(json_append_string(&got, in.data, in.len) == 0);
        reference_escape(&want, (const unsigned char *)in.data, in.len);
        CHECK(got.len == want.len && memcmp(got.data, want.data, got.len) == 0);
    }
    buf_free(&in);
    buf_free(&got);
    buf_free(&want);
}

/* The valid UTF-8 sequence at s: its length, or 0 with *bad set to the
 * length of the maximal subpart a decoder replaces with one U+FFFD. From
 * the table of well-formed sequences in Unicode 3.9 (table 3-7), not from
 * utf8.c. */
static size_t reference_sequence(const unsigned char *s, size_t len, size_t *bad) {
    static const struct {
        unsigned char lead_lo, lead_hi, second_lo, second_hi, n;
    } shapes[] = {
        {0xC2, 0xDF, 0x80, 0xBF, 2}, {0xE0, 0xE0, 0xA0, 0xBF, 3}, {0xE1, 0xEC, 0x80, 0xBF, 3},
        {0xED, 0xED, 0x80, 0x9F, 3}, {0xEE, 0xEF, 0x80, 0xBF, 3}, {0xF0, 0xF0, 0x90, 0xBF, 4},
        {0xF1, 0xF3, 0x80, 0xBF, 4}, {0xF4, 0xF4, 0x80, 0x8F, 4},
    };
    *bad = 1;
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        if (s[0] < shapes[k].lead_lo || s[0] > shapes[k].lead_hi)
            continue;
        size_t ok = 1;
        if (len > 1 && s[1] >= shapes[k].second_lo && s[1] <= shapes[k].second_hi)
            ok = 2;
        while (ok >= 2 && ok < shapes[k].n && ok < len && s[ok] >= 0x80 && s[ok] <= 0xBF)
            ok++;
        if (ok == shapes[k].n)
            return ok;
        *bad = ok;
        return 0;
    }
    return 0;
}

/* As reference_escape, for any bytes: each invalid sequence (maximal
 * subpart) becomes U+FFFD, as utf8_sanitize_append makes it. */
static void reference_escape_any(buf *out, const unsigned char *s, size_t len) {
    buf_append_char(out, '"');
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        size_t bad, n = c < 0x80 ? 1 : reference_sequence(s + i, len - i, &bad);
        if (n == 0)
            buf_append(out, "\xEF\xBF\xBD", 3);
        else if (c == '"' || c == '\\')
            buf_printf(out, "\\%c", c);
        else if (c == '\n' || c == '\r' || c == '\t')
            buf_printf(out, "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
        else if (c < 0x20)
            buf_printf(out, "\\u%04x", c);
        else if (c == 0xC2 && s[i + 1] <= 0x9F)
            buf_printf(out, "\\u%04x", s[i + 1]);
        else
            buf_append(out, s + i, n);
        i += n ? n : bad;
    }
    buf_append_char(out, '"');
}

/* Escape `in` from a copy at offset `align` of an allocation that ends
 * where the text does (so a sanitizer sees any read past it), after some
 * text already in the buffer, and compare with the reference. */
static int escapes_like_reference_at(const buf *in, size_t align, buf *got, buf *want) {
    char *copy = malloc(align + in->len + 1);
    if (!copy)
        return 0;
    if (in->len > 0)
        memcpy(copy + align, in->data, in->len);
    buf_clear(got);
    buf_clear(want);
    buf_append_str(got, "x");
    buf_append_str(want, "x");
    int ok = json_append_string(got, copy + align, in->len) == 0;
    free(copy);
    reference_escape_any(want, (const unsigned char *)in->data, in->len);
    return ok && got->len == want->len && memcmp(got->data, want->data, got->len) == 0;
}

/* Property: random bytes, valid UTF-8 or not, dense in everything the
 * encoder treats apart (quotes, backslashes, controls, C1 controls, every
 * kind of invalid sequence, truncated ones) and in runs of clean ASCII
 * that move them across 8- and 16-byte words, at every alignment, escape
 * as the reference does. */
static void any_bytes_match_reference(const void *arg) {
    (void)arg;
    static const char *const pieces[] = {
        "a", "bcdefgh", "0123456789abcdef", "\"", "\\", "\n", "\r", "\t", "\x01", "\x1f", "\x7f", " ",
        "\xC2\x85", "\xC2\x9B", "\xC2\xA0", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF",
        "\xC2", "\xE2\x82", "\xF0\x9F\x98", "\x80", "\xBF", "\xFF", "\xC0\x80", "\xC1\xBF", "\xE0\x9F\x80",
        "\xED\xA0\x80", "\xF0\x8F\x80\x80", "\xF4\x90\x80\x80", "\xF5\x80", "\xE6\x97\xA5",
    };
    unsigned state = 2024;
    buf in = BUF_INIT, got = BUF_INIT, want = BUF_INIT;
    for (int round = 0; round < 2000; round++) {
        buf_clear(&in);
        int n = round % 48;
        for (int i = 0; i < n; i++) {
            state = state * 1103515245u + 12345u;
            buf_append_str(&in, pieces[(state >> 16) % (sizeof pieces / sizeof pieces[0])]);
        }
        for (size_t align = 0; align < 16; align++)
            CHECK(escapes_like_reference_at(&in, align, &got, &want));
    }
    buf_free(&in);
    buf_free(&got);
    buf_free(&want);
}

/* Property: texts around the 4096-byte blocks the encoder works in, their
 * special characters falling at and across each block's end. */
static void long_texts_match_reference(const void *arg) {
    (void)arg;
    static const char *const specials[] = {"\"", "\n", "\xC2\x9B", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xF0\x9F", "\xFF"};
    buf in = BUF_INIT, got = BUF_INIT, want = BUF_INIT;
    for (size_t len = 4096 - 40; len < 4096 + 40; len++) {
        for (size_t k = 0; k < sizeof specials / sizeof specials[0]; k++) {
            buf_clear(&in);
            while (in.len < len) /* a special every 29 bytes, shifting against the blocks */
                buf_append_str(&in, in.len % 29 == 0 ? specials[k] : "a");
            in.len = len;
            CHECK(escapes_like_reference_at(&in, 0, &got, &want));
            buf_clear(&in);
            for (size_t i = 0; i + 1 < len; i++)
                buf_append_char(&in, 'a');
            buf_append_str(&in, specials[k]); /* across the block's end */
            buf_append_str(&in, "\"tail");
            CHECK(escapes_like_reference_at(&in, 0, &got, &want));
        }
    }
    buf_free(&in);
    buf_free(&got);
    buf_free(&want);
}

void json_tests_register(void) {
    harness_add("json: any bytes, at any alignment, escape as the reference does", any_bytes_match_reference, NULL);
    harness_add("json: long texts escape as the reference does across blocks", long_texts_match_reference, NULL);
    harness_add("json: escaping matches the per-character reference", escapes_match_reference, NULL);
    harness_add("json: strings are escaped and always valid UTF-8", escapes, NULL);
    harness_add("json: C1 controls are escaped at any offset", c1_at_every_offset, NULL);
}
