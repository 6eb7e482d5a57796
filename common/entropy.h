/* Random bytes from the system, on any system: getrandom(2) on Linux,
 * arc4random_buf(3) on macOS and the BSDs (which cannot fail). For session
 * numbers and retry jitter, not for keys. */
#ifndef SSETOOLS_ENTROPY_H
#define SSETOOLS_ENTROPY_H

#include <stddef.h>

/* Fill buf with len random bytes: 0, or -1 with errno. */
int entropy_fill(void *buf, size_t len);

#endif
