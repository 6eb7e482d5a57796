/* A minimal test harness: each test is a function with an argument
 * (so a table of cases registers one named test per row); CHECK records a failure
 * with its location and goes on; the runner prints one TAP line per test and
 * a closing "N passed, M failed". */
#ifndef SSETOOLS_TEST_HARNESS_H
#define SSETOOLS_TEST_HARNESS_H

#include <stddef.h>

typedef void (*test_fn)(const void *arg);

/* Register a test; `name` and `arg` must outlive the run. */
void harness_add(const char *name, test_fn run, const void *arg);

void harness_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond))                                                                                                   \
            harness_fail(__FILE__, __LINE__, "%s", #cond);                                                             \
    } while (0)

#define CHECK_STR(got, want)                                                                                           \
    do {                                                                                                               \
        const char *got_ = (got), *want_ = (want);                                                                     \
        if (strcmp(got_, want_) != 0)                                                                                  \
            harness_fail(__FILE__, __LINE__, "got  \"%s\"\n#   want \"%s\"", got_, want_);                             \
    } while (0)

/* Each test file registers its suite. */
void utf8_tests_register(void);
void parser_tests_register(void);
void encoder_tests_register(void);
void roundtrip_tests_register(void);
void units_tests_register(void);
void json_tests_register(void);
void ssed_http_tests_register(void);
void record_reader_tests_register(void);
void line_end_tests_register(void);
void hub_tests_register(void);
void hub_fanout_tests_register(void);
void metrics_tests_register(void);
void store_tests_register(void);
void publish_tests_register(void);
void helpers_tests_register(void);
void cli_tests_register(void);
void redis_url_tests_register(void);
void cluster_delivery_tests_register(void);
void jwt_claims_tests_register(void);
void json_guard_tests_register(void);
void intake_gate_tests_register(void);
void replay_reader_tests_register(void);
void loop_tests_register(void);

#endif
