/* Runs the parser over an input with a given chunking and renders every
 * callback as text, then the last event ID after the end of the stream
 * ("last=ID;", when there is one), so that tests compare one string per case. */
#ifndef SSETOOLS_TEST_TRANSCRIPT_H
#define SSETOOLS_TEST_TRANSCRIPT_H

#include <stddef.h>

#include "buf.h"

/* chunk == 0: whole input at once; otherwise feeds of at most `chunk` bytes;
 * split_at (when chunk == 0 and split_at > 0): two feeds, cut at that offset. */
void transcript_parse(buf *out, const char *input, size_t len, size_t chunk, size_t split_at, size_t max_event_size);

#endif
