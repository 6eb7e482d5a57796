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

void json_tests_register(void) { harness_add("json: strings are escaped and always valid UTF-8", escapes, NULL); }
