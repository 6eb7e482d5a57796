#include <string.h>

#include "harness.h"
#include "units.h"

static void durations(const void *arg) {
    (void)arg;
    const struct {
        const char *text;
        uint64_t ms;
    } good[] = {{"250ms", 250}, {"15s", 15000}, {"2m", 120000}, {"1h", 3600000}, {"3", 3000}, {"1.5s", 1500},
                {"0", 0}};
    char err[128];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint64_t ms = 99;
        CHECK(units_parse_duration(good[i].text, &ms, err, sizeof err) == 0);
        CHECK(ms == good[i].ms);
    }
    const char *bad[] = {"", "s", "5x", "-1s", "1 s", "1e3", "ms5", "1.2.3s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t ms;
        err[0] = '\0';
        CHECK(units_parse_duration(bad[i], &ms, err, sizeof err) == -1);
        CHECK(strstr(err, bad[i]) != NULL);
    }
}

static void sizes(const void *arg) {
    (void)arg;
    const struct {
        const char *text;
        uint64_t bytes;
    } good[] = {{"512", 512}, {"64K", 65536}, {"64KiB", 65536}, {"1M", 1048576}, {"1MiB", 1048576},
                {"2g", 2147483648ULL}, {"1.5K", 1536}};
    char err[128];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint64_t bytes = 0;
        CHECK(units_parse_size(good[i].text, &bytes, err, sizeof err) == 0);
        CHECK(bytes == good[i].bytes);
    }
    const char *bad[] = {"", "K", "12Q", "-5", "1 M"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t bytes;
        CHECK(units_parse_size(bad[i], &bytes, err, sizeof err) == -1);
        CHECK(strstr(err, "invalid size") != NULL);
    }
}

static void counts(const void *arg) {
    (void)arg;
    char err[128];
    uint64_t n;
    CHECK(units_parse_count("42", 0, 100, &n, err, sizeof err) == 0 && n == 42);
    CHECK(units_parse_count("101", 0, 100, &n, err, sizeof err) == -1);
    CHECK(units_parse_count("", 0, 100, &n, err, sizeof err) == -1);
    CHECK(units_parse_count("4x", 0, 100, &n, err, sizeof err) == -1);
    CHECK(units_parse_count("99999999999999999999999", 0, UINT64_MAX, &n, err, sizeof err) == -1);
}

void units_tests_register(void) {
    harness_add("units: durations with ms, s, m, h", durations, NULL);
    harness_add("units: sizes with K, KiB, M, MiB, G", sizes, NULL);
    harness_add("units: whole numbers within bounds", counts, NULL);
}
