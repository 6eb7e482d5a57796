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

void json_tests_register(void) {
    harness_add("json: escaping matches the per-character reference", escapes_match_reference, NULL);
    harness_add("json: strings are escaped and always valid UTF-8", escapes, NULL);
    harness_add("json: C1 controls are escaped at any offset", c1_at_every_offset, NULL);
}
