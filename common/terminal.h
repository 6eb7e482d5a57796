/* Text from the network as a terminal may show it, so a hostile server
 * cannot drive the user's terminal through ssecat's or ssepub's output. */
#ifndef SSETOOLS_TERMINAL_H
#define SSETOOLS_TERMINAL_H

#include <stddef.h>

#include "buf.h"

/* Append s with C0 controls (but tab, and LF when keep_lf) and DEL in caret
 * notation, C1 controls and invalid UTF-8 as U+FFFD. 0, or -1 when memory
 * ran out. */
int terminal_safe_append(buf *out, const char *s, size_t len, int keep_lf);

/* s as stderr may show it: neutralised as above when stderr is a terminal,
 * else as valid UTF-8. NUL-terminated in scratch; "" if memory ran out. */
const char *terminal_stderr_text(buf *scratch, const char *s, size_t len, int keep_lf);

#endif
