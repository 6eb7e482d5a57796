/* The line-end scan: fixed cases, then the fast scan and the plain-C one
 * against a byte-at-a-time reference on random lines at every offset. */
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "line_end.h"

/* The reference: the spec's definition, one byte at a time. */
static size_t reference(const char *s, size_t len, int *non_ascii) {
    size_t i = 0;
    while (i < len && s[i] != '\n' && s[i] != '\r')
        i++;
    for (size_t k = 0; k < i; k++)
        if ((unsigned char)s[k] >= 0x80)
            *non_ascii = 1;
    return i;
}

typedef struct line_end_case {
    const char *name;
    const char *input;
    size_t want;
    int want_non_ascii;
} line_end_case;

static const line_end_case cases[] = {
    {"line_end: LF", "data: x\nrest", 7, 0},
    {"line_end: CR", "data: x\rrest", 7, 0},
    {"line_end: CRLF stops at the CR", "data: x\r\n", 7, 0},
    {"line_end: none in the bytes", "data: no end here at all, longer than sixteen", 45, 0},
    {"line_end: empty line", "\n", 0, 0},
    {"line_end: non-ASCII before the end", "data: caf\xC3\xA9 and more text\n", 25, 1},
    {"line_end: non-ASCII only after the end is not counted", "data: plain ascii text\n\xC3\xA9", 22, 0},
    {"line_end: non-ASCII right after a 16-byte block's end", "0123456789abcdef\n\xFF", 16, 0},
    {"line_end: end in the second block", "0123456789abcdef0123\xFF\r", 21, 1},
};

static void check_case(const void *arg) {
    const line_end_case *c = arg;
    size_t len = strlen(c->input);
    int fast = 0, plain = 0;
    CHECK(line_end_find(c->input, len, &fast) == c->want);
    CHECK(fast == c->want_non_ascii);
    CHECK(line_end_find_portable(c->input, len, &plain) == c->want);
    CHECK(plain == c->want_non_ascii);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static unsigned next_random(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state >> 32);
}

static void random_lines(const void *arg) {
    (void)arg;
    char block[96];
    for (int round = 0; round < 20000; round++) {
        /* Mostly ASCII text, a line end or a high byte now and then. */
        for (size_t i = 0; i < sizeof block; i++) {
            unsigned r = next_random() % 200;
            block[i] = r == 0 ? '\n' : r == 1 ? '\r' : r == 2 ? (char)(0x80 + next_random() % 128)
                                                        : (char)(' ' + next_random() % 95);
        }
        size_t off = next_random() % sizeof block, len = next_random() % (sizeof block - off + 1);
        int want_high = 0, fast = 0, plain = 0;
        size_t want = reference(block + off, len, &want_high);
        size_t got_fast = line_end_find(block + off, len, &fast);
        size_t got_plain = line_end_find_portable(block + off, len, &plain);
        if (got_fast != want || fast != want_high || got_plain != want || plain != want_high) {
            harness_fail(__FILE__, __LINE__, "round %d offset %zu length %zu: want %zu/%d, fast %zu/%d, plain %zu/%d",
                         round, off, len, want, want_high, got_fast, fast, got_plain, plain);
            return;
        }
    }
}

void line_end_tests_register(void) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        harness_add(cases[i].name, check_case, &cases[i]);
    harness_add("line_end: fast and plain scans match the reference on 20,000 random lines", random_lines, NULL);
}
