/* Finding where an event-stream line ends: the SSE parser's inner loop.
 *
 * One pass over the bytes finds the first CR or LF and, on the way, whether
 * any byte before it is non-ASCII, so an all-ASCII line (nearly every line of
 * a real stream) needs no separate UTF-8 check. SSE2 on x86-64 (16 bytes a
 * step), eight bytes a step in plain C elsewhere; both give the same
 * answers, and the unit tests compare them. */
#ifndef SSETOOLS_LINE_END_H
#define SSETOOLS_LINE_END_H

#include <stddef.h>

/* The offset of the first CR or LF in s[0..len), or len if there is none.
 * *non_ascii is set to 1 if a byte >= 0x80 comes before that offset, and
 * left alone otherwise (so it can gather over several calls). */
size_t line_end_find(const char *s, size_t len, int *non_ascii);
/* The same in plain C, whatever the machine; exposed for the tests. */
size_t line_end_find_portable(const char *s, size_t len, int *non_ascii);

#endif
