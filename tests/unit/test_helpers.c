/* The small shared helpers: digit parsing at its bounds, backoff doubling,
 * floor, ceiling and jitter, the token table, and buf's failed flag. */
#include <string.h>

#include "backoff.h"
#include "buf.h"
#include "digits.h"
#include "harness.h"
#include "http_token.h"

typedef struct decimal_case {
    const char *text;
    size_t max_digits;
    int rc;
    uint64_t value;
} decimal_case;

static const decimal_case decimal_cases[] = {
    {"0", 19, 0, 0},
    {"42", 2, 0, 42},
    {"123", 2, -1, 0},
    {"", 19, -1, 0},
    {"-1", 19, -1, 0},
    {"+1", 19, -1, 0},
    {"1 ", 19, -1, 0},
    {"9999999999999999999", 19, 0, 9999999999999999999ULL},
    {"18446744073709551615", 20, -1, 0}, /* 20 digits never: they could overflow */
};

static void check_decimal(const void *arg) {
    (void)arg;
    for (size_t i = 0; i < sizeof decimal_cases / sizeof decimal_cases[0]; i++) {
        const decimal_case *c = &decimal_cases[i];
        uint64_t v = 7;
        int rc = digits_parse_decimal(c->text, strlen(c->text), c->max_digits, &v);
        if (rc != c->rc || (rc == 0 && v != c->value))
            harness_fail(__FILE__, __LINE__, "'%s': rc %d value %llu", c->text, rc, (unsigned long long)v);
    }
}

static void check_hex(const void *arg) {
    (void)arg;
    uint64_t v;
    CHECK(digits_parse_lower_hex("1a2b3c4d5e6f7081", 16, &v) == 0 && v == 0x1a2b3c4d5e6f7081ULL);
    CHECK(digits_parse_lower_hex("ff", 2, &v) == 0 && v == 255);
    CHECK(digits_parse_lower_hex("FF", 2, &v) == -1);
    CHECK(digits_parse_lower_hex("", 0, &v) == -1);
    CHECK(digits_parse_lower_hex("12345678901234567", 17, &v) == -1);
    CHECK(digits_parse_lower_hex("xyz", 3, &v) == -1);
}

static void check_backoff(const void *arg) {
    (void)arg;
    CHECK(backoff_next_ms(0, 100, 60000) == 100);  /* a zero delay still backs off */
    CHECK(backoff_next_ms(100, 100, 60000) == 200);
    CHECK(backoff_next_ms(40000, 100, 60000) == 60000);
    CHECK(backoff_next_ms(60000, 100, 60000) == 60000);
    CHECK(backoff_next_ms(UINT64_MAX / 2 + 5, 100, UINT64_MAX) == UINT64_MAX); /* no overflow */
    CHECK(backoff_jitter_ms(1000, 0) == 1000);
    CHECK(backoff_jitter_ms(1000, 250) == 750);
    CHECK(backoff_jitter_ms(1000, 251) == 1000); /* random % 251 == 0 */
    for (uint32_t r = 0; r < 1000; r++) {
        uint64_t d = backoff_jitter_ms(1000, r * 2654435761u);
        if (d < 750 || d > 1000)
            harness_fail(__FILE__, __LINE__, "jitter took %llu", (unsigned long long)d);
    }
    CHECK(backoff_jitter_ms(3, 12345) == 3);
}

static void check_token_table(const void *arg) {
    (void)arg;
    const char *tokens = "abcxyzABCXYZ0189!#$%&'*+-.^_`|~";
    for (const char *p = tokens; *p; p++)
        CHECK(http_is_tchar((unsigned char)*p));
    const char *not_tokens = " \t\r\n:;,\"()/<=>?@[\\]{}\x7f";
    for (const char *p = not_tokens; *p; p++)
        CHECK(!http_is_tchar((unsigned char)*p));
    CHECK(!http_is_tchar(0) && !http_is_tchar(0x80) && !http_is_tchar(0xff));
}

/* A request larger than memory could ever hold fails like an allocation
 * that fails, without taking memory: the flag stays set over later
 * appends that work, and the contents are kept. */
static void check_buf_failed(const void *arg) {
    (void)arg;
    buf b = BUF_INIT;
    CHECK(buf_append_str(&b, "ab") == 0 && !b.failed);
    CHECK(buf_reserve(&b, (size_t)-1 / 2) == -1 && b.failed);
    CHECK(buf_append_char(&b, 'c') == 0 && b.failed);
    CHECK(b.len == 3 && memcmp(b.data, "abc", 3) == 0);
    buf_clear(&b);
    CHECK(!b.failed && b.len == 0);
    CHECK(buf_reserve(&b, (size_t)-1 / 2 + 1) == -1);
    buf_free(&b);
    CHECK(!b.failed && b.data == NULL);
}

void helpers_tests_register(void) {
    harness_add("digits: decimal within bounds, never a sign, space or 20 digits", check_decimal, NULL);
    harness_add("digits: lower-case hex, 1 to 16 digits", check_hex, NULL);
    harness_add("backoff: doubling from a floor to a ceiling; jitter takes off at most a quarter", check_backoff,
                NULL);
    harness_add("http token: RFC 9110 tchar exactly", check_token_table, NULL);
    harness_add("buf: an append that cannot grow the buffer sets failed until it is cleared", check_buf_failed, NULL);
}
