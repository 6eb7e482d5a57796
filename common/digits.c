#include "digits.h"

int digits_parse_decimal(const char *s, size_t len, size_t max_digits, uint64_t *out) {
    if (len == 0 || len > max_digits || len > 19)
        return -1;
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        n = n * 10 + (uint64_t)(s[i] - '0');
    }
    *out = n;
    return 0;
}

int digits_parse_lower_hex(const char *s, size_t len, uint64_t *out) {
    if (len == 0 || len > 16)
        return -1;
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return -1;
        n = n * 16 + (uint64_t)v;
    }
    *out = n;
    return 0;
}
