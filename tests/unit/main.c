#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

typedef struct registered_test {
    const char *name;
    test_fn run;
    const void *arg;
} registered_test;

static registered_test *tests;
static size_t test_count, test_cap;
static int current_failures;

void harness_add(const char *name, test_fn run, const void *arg) {
    if (test_count == test_cap) {
        test_cap = test_cap ? test_cap * 2 : 64;
        tests = realloc(tests, test_cap * sizeof *tests);
        if (!tests) {
            perror("unit-tests: realloc");
            exit(2);
        }
    }
    tests[test_count++] = (registered_test){name, run, arg};
}

void harness_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("# %s:%d: ", file, line);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    current_failures++;
}

int main(int argc, char **argv) {
    utf8_tests_register();
    parser_tests_register();
    encoder_tests_register();
    roundtrip_tests_register();
    units_tests_register();
    json_tests_register();
    ssed_http_tests_register();
    record_reader_tests_register();
    replay_reader_tests_register();
    line_end_tests_register();
    hub_tests_register();
    hub_fanout_tests_register();
    store_tests_register();
    publish_tests_register();
    helpers_tests_register();
    cli_tests_register();
    redis_url_tests_register();
    cluster_delivery_tests_register();
    metrics_tests_register();
    jwt_claims_tests_register();
    json_guard_tests_register();
    intake_gate_tests_register();
    loop_tests_register();
    const char *only = argc > 1 ? argv[1] : NULL;
    int number = 0, passed = 0, failed = 0;
    for (size_t i = 0; i < test_count; i++) {
        if (only && !strstr(tests[i].name, only))
            continue;
        current_failures = 0;
        tests[i].run(tests[i].arg);
        number++;
        if (current_failures == 0) {
            passed++;
            printf("ok %d - %s\n", number, tests[i].name);
        } else {
            failed++;
            printf("not ok %d - %s\n", number, tests[i].name);
        }
        fflush(stdout);
    }
    printf("1..%d\n", number);
    printf("%d passed, %d failed\n", passed, failed);
    free(tests);
    return failed ? 1 : 0;
}
