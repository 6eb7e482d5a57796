/* Random bytes from the system, on any system (entropy.h). */
#include "entropy.h"

#include <errno.h>
#include <stdlib.h>

#ifdef __linux__
#include <sys/random.h>

int entropy_fill(void *buf, size_t len) {
    char *at = buf;
    while (len > 0) { /* up to 256 bytes come whole; a signal may cut more */
        ssize_t got = getrandom(at, len, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        at += got;
        len -= (size_t)got;
    }
    return 0;
}
#else
int entropy_fill(void *buf, size_t len) {
    arc4random_buf(buf, len);
    return 0;
}
#endif
