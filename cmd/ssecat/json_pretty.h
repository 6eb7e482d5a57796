/* Re-indenting event data that is JSON, for the pretty format. Data that is
 * not exactly one JSON value is left alone by the caller. */
#ifndef SSECAT_JSON_PRETTY_H
#define SSECAT_JSON_PRETTY_H

#include <stddef.h>

#include "buf.h"

/* Append `s` laid out with two-space indentation, each line starting with
 * `margin`. 1 if `s` was one valid JSON value (and was appended), 0 if not
 * (nothing appended), -1 when memory ran out. Nesting deeper than 64 counts
 * as not JSON, so hostile input cannot exhaust the stack. */
int json_pretty_append(buf *out, const char *s, size_t len, const char *margin);

#endif
