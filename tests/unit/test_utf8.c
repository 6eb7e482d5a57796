#include <string.h>

#include "harness.h"
#include "utf8.h"

#define FFFD "\xEF\xBF\xBD"

typedef struct utf8_case {
    const char *name;
    const char *input;
    const char *want;
} utf8_case;

static const utf8_case cases[] = {
    {"utf8: ASCII unchanged", "hello, world", "hello, world"},
    {"utf8: two-, three- and four-byte sequences kept", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80",
     "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"},
    {"utf8: long ASCII run then a bad byte", "abcdefghijklmnopqrstuvwxyz\xFF", "abcdefghijklmnopqrstuvwxyz" FFFD},
    {"utf8: C0 and C1 leads are invalid", "\xC0\x80\xC1\xBF", FFFD FFFD FFFD FFFD},
    {"utf8: F5 to FF are invalid", "\xF5\xFF", FFFD FFFD},
    {"utf8: E0 needs A0..BF next", "\xE0\x9F\x80", FFFD FFFD FFFD},
    {"utf8: F0 needs 90..BF next", "\xF0\x8F\x80\x80", FFFD FFFD FFFD FFFD},
    {"utf8: maximal subpart replaced once", "\xF0\x9F\x98x", FFFD "x"},
    {"utf8: truncated at the end", "ok\xF0\x9F", "ok" FFFD},
    {"utf8: U+10FFFF is valid", "\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF"},
    {"utf8: U+FFFD itself is kept", FFFD, FFFD},
};

static void check_sanitize(const void *arg) {
    const utf8_case *c = arg;
    buf out = BUF_INIT;
    CHECK(utf8_sanitize_append(&out, c->input, strlen(c->input)) == 0);
    buf_append_char(&out, '\0');
    CHECK_STR(out.data, c->want);
    size_t valid = utf8_valid_prefix(c->input, strlen(c->input));
    CHECK((valid == strlen(c->input)) == (strcmp(c->input, c->want) == 0));
    buf_free(&out);
}

void utf8_tests_register(void) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        harness_add(cases[i].name, check_sanitize, &cases[i]);
}
