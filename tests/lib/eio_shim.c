/* An LD_PRELOAD shim for tests/store_faults.bats: while the file named by
 * EIO_SHIM_TRIGGER exists, every write to a file whose path contains
 * EIO_SHIM_MATCH fails with EIO, as a failing disk's would (with
 * EIO_SHIM_SYNC=1, writes work and every fsync and fdatasync fails). The test
 * creates and deletes the trigger to start and end the fault; everything
 * else passes through untouched. Built by the test with
 * cc -shared -fPIC -o eio_shim.so eio_shim.c -ldl. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* Whether a call of this kind (a sync or not) on fd should fail now. */
static int should_fail_call(int fd, int is_sync) {
    const char *sync = getenv("EIO_SHIM_SYNC");
    if ((sync && strcmp(sync, "1") == 0) != is_sync)
        return 0;
    const char *trigger = getenv("EIO_SHIM_TRIGGER");
    const char *match = getenv("EIO_SHIM_MATCH");
    if (!trigger || !match || access(trigger, F_OK) != 0)
        return 0;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0)
        return 0;
    path[n] = '\0';
    return strstr(path, match) != NULL;
}

static int should_fail(int fd) { return should_fail_call(fd, 0); }

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*pwrite64_fn)(int, const void *, size_t, off64_t);

ssize_t write(int fd, const void *buf, size_t len) {
    static write_fn real;
    if (!real)
        real = (write_fn)dlsym(RTLD_NEXT, "write");
    if (should_fail(fd)) {
        errno = EIO;
        return -1;
    }
    return real(fd, buf, len);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off) {
    static pwrite_fn real;
    if (!real)
        real = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite");
    if (should_fail(fd)) {
        errno = EIO;
        return -1;
    }
    return real(fd, buf, len, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off) {
    static pwrite64_fn real;
    if (!real)
        real = (pwrite64_fn)dlsym(RTLD_NEXT, "pwrite64");
    if (should_fail(fd)) {
        errno = EIO;
        return -1;
    }
    return real(fd, buf, len, off);
}

typedef int (*sync_fn)(int);

int fsync(int fd) {
    static sync_fn real;
    if (!real)
        real = (sync_fn)dlsym(RTLD_NEXT, "fsync");
    if (should_fail_call(fd, 1)) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}

int fdatasync(int fd) {
    static sync_fn real;
    if (!real)
        real = (sync_fn)dlsym(RTLD_NEXT, "fdatasync");
    if (should_fail_call(fd, 1)) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}
