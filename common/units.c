#include "units.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A non-negative decimal number (digits, optional fraction), no sign, no
 * exponent, no spaces: what people write in durations and sizes. */
static int parse_number(const char *text, double *value, const char **rest) {
    const char *p = text;
    size_t digits = 0;
    while (*p >= '0' && *p <= '9')
        p++, digits++;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9')
            p++, digits++;
    }
    if (digits == 0)
        return -1;
    char tmp[64];
    size_t n = (size_t)(p - text);
    if (n >= sizeof tmp)
        return -1;
    memcpy(tmp, text, n);
    tmp[n] = '\0';
    *value = strtod(tmp, NULL);
    *rest = p;
    return 0;
}

int units_parse_duration(const char *text, uint64_t *ms, char *err, size_t errlen) {
    static const struct {
        const char *suffix;
        double ms;
    } units[] = {{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    double value;
    const char *rest;
    if (parse_number(text, &value, &rest) == 0) {
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            if (strcmp(rest, units[i].suffix) != 0)
                continue;
            double total = value * units[i].ms;
            if (total > 1e15)
                break;
            *ms = (uint64_t)llround(total);
            return 0;
        }
    }
    snprintf(err, errlen, "invalid duration '%s' (expected e.g. 250ms, 15s, 2m, 1h)", text);
    return -1;
}

int units_parse_size(const char *text, uint64_t *bytes, char *err, size_t errlen) {
    static const struct {
        const char *suffix;
        double factor;
    } units[] = {{"", 1},          {"b", 1},          {"k", 1024},       {"kb", 1024},
                 {"kib", 1024},    {"m", 1048576.0},  {"mb", 1048576.0}, {"mib", 1048576.0},
                 {"g", 1073741824.0}, {"gb", 1073741824.0}, {"gib", 1073741824.0}};
    double value;
    const char *rest;
    if (parse_number(text, &value, &rest) == 0) {
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            if (strcasecmp(rest, units[i].suffix) != 0)
                continue;
            double total = value * units[i].factor;
            if (total > 1e15)
                break;
            *bytes = (uint64_t)llround(total);
            return 0;
        }
    }
    snprintf(err, errlen, "invalid size '%s' (expected e.g. 512, 64K, 1MiB)", text);
    return -1;
}

int units_parse_count(const char *text, uint64_t min, uint64_t max, uint64_t *out, char *err, size_t errlen) {
    const char *p = text;
    uint64_t n = 0;
    int ok = *p != '\0';
    for (; *p && ok; p++) {
        if (*p < '0' || *p > '9' || n > (UINT64_MAX - 9) / 10)
            ok = 0;
        else
            n = n * 10 + (uint64_t)(*p - '0');
    }
    if (ok && n >= min && n <= max) {
        *out = n;
        return 0;
    }
    snprintf(err, errlen, "invalid number '%s' (expected a whole number from %llu to %llu)", text,
             (unsigned long long)min, (unsigned long long)max);
    return -1;
}

void units_format_duration(char *out, size_t len, uint64_t ms) {
    if (ms < 1000)
        snprintf(out, len, "%llums", (unsigned long long)ms);
    else if (ms % 1000 == 0)
        snprintf(out, len, "%llus", (unsigned long long)(ms / 1000));
    else
        snprintf(out, len, "%.1fs", (double)ms / 1000.0);
}
