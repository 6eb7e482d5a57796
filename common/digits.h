/* Numbers written in ASCII digits, as protocols carry them: no sign, no
 * spaces, no leading '+', a bounded count of digits so nothing overflows. */
#ifndef SSETOOLS_DIGITS_H
#define SSETOOLS_DIGITS_H

#include <stddef.h>
#include <stdint.h>

/* s[0..len) is 1 to max_digits (at most 19) decimal digits: its value in
 * *out and 0; otherwise -1. */
int digits_parse_decimal(const char *s, size_t len, size_t max_digits, uint64_t *out);

/* s[0..len) is 1 to 16 lower-case hexadecimal digits: its value in *out
 * and 0; otherwise -1. */
int digits_parse_lower_hex(const char *s, size_t len, uint64_t *out);

#endif
