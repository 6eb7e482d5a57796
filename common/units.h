/* Option values with units, parsed once at start-up. Errors name the bad
 * text so the caller can say which option it came from. */
#ifndef SSETOOLS_UNITS_H
#define SSETOOLS_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* "250ms", "15s", "2m", "1h", "1.5s"; a bare number is seconds.
 * 0 on success; -1 with a message in err. */
int units_parse_duration(const char *text, uint64_t *ms, char *err, size_t errlen);

/* "512", "64K", "64KiB", "1M", "1MiB", "2G" (K = 1024). */
int units_parse_size(const char *text, uint64_t *bytes, char *err, size_t errlen);

/* A whole number in [min, max]. */
int units_parse_count(const char *text, uint64_t min, uint64_t max, uint64_t *out, char *err, size_t errlen);

/* A duration as people read it: "250ms", "3s", "1.5s". */
void units_format_duration(char *out, size_t len, uint64_t ms);

#endif
