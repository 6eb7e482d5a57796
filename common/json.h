/* JSON string output: ssecat's JSON Lines and ssed's stats and answers. */
#ifndef SSETOOLS_JSON_H
#define SSETOOLS_JSON_H

#include <stddef.h>

#include "buf.h"

/* Append `s` as a quoted JSON string. The result is always valid JSON and
 * valid UTF-8: control characters are escaped and invalid UTF-8 becomes
 * U+FFFD. */
int json_append_string(buf *out, const char *s, size_t len);

#endif
