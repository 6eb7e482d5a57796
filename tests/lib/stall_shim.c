/* An LD_PRELOAD shim for tests/cluster.bats: the first write() whose bytes
 * contain STALL_SHIM_MARK sleeps STALL_SHIM_MS first, as a loop turn that
 * runs long (a long round of writes) would hold the process; everything
 * else passes through untouched. Built by the test with
 * cc -shared -fPIC -o stall_shim.so stall_shim.c -ldl. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

ssize_t write(int fd, const void *buf, size_t count) {
    static ssize_t (*real_write)(int, const void *, size_t);
    static int stalled;
    if (!real_write)
        real_write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    const char *mark = getenv("STALL_SHIM_MARK");
    const char *ms = getenv("STALL_SHIM_MS");
    if (!stalled && mark && *mark && ms && memmem(buf, count, mark, strlen(mark))) {
        stalled = 1;
        long wait_ms = atol(ms);
        struct timespec t = {wait_ms / 1000, (wait_ms % 1000) * 1000000L};
        while (nanosleep(&t, &t) != 0)
            ;
    }
    return real_write(fd, buf, count);
}
