/* An LD_PRELOAD shim for tests/oom.bats: while the file named by
 * CRYPTO_OOM_TRIGGER exists, malloc fails for callers inside libcrypto
 * (OpenSSL's allocations) and for no one else, so a test can run OpenSSL
 * out of memory while ssed's own allocations work. Built by the test with
 * cc -shared -fPIC -o libcrypto_oom_shim.so libcrypto_oom_shim.c -ldl. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);

/* dladdr and access may allocate: not judged again inside. */
static __thread int judging;

void *malloc(size_t n) {
    if (!judging) {
        judging = 1;
        const char *trigger = getenv("CRYPTO_OOM_TRIGGER");
        Dl_info info;
        int fail = trigger && access(trigger, F_OK) == 0 && dladdr(__builtin_return_address(0), &info) &&
                   info.dli_fname && strstr(info.dli_fname, "libcrypto");
        judging = 0;
        if (fail)
            return NULL;
    }
    return __libc_malloc(n);
}
