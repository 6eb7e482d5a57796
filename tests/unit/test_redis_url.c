#include <string.h>

#include "harness.h"
#include "redis_url.h"

static void good_urls(const void *arg) {
    (void)arg;
    const struct {
        const char *text, *host, *path, *user, *password, *display;
        int port, db;
    } cases[] = {
        {"redis://127.0.0.1:6380", "127.0.0.1", "", "", "", "127.0.0.1:6380", 6380, 0},
        {"redis://localhost", "localhost", "", "", "", "localhost:6379", 6379, 0},
        {"redis://h:1/3", "h", "", "", "", "h:1", 1, 3},
        {"redis://:s3cret@h:7000", "h", "", "", "s3cret", "h:7000", 7000, 0},
        {"redis://ann:p@ss@h:7000/2", "h", "", "ann", "p@ss", "h:7000", 7000, 2},
        {"redis://[::1]:6390", "::1", "", "", "", "[::1]:6390", 6390, 0},
        {"redis://h:6379/", "h", "", "", "", "h:6379", 6379, 0},
        {"unix:/run/redis.sock", "", "/run/redis.sock", "", "", "unix:/run/redis.sock", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        redis_url u;
        char err[200] = "";
        CHECK(redis_url_parse(cases[i].text, &u, err, sizeof err) == 0);
        CHECK_STR(u.host, cases[i].host);
        CHECK_STR(u.unix_path, cases[i].path);
        CHECK_STR(u.user, cases[i].user);
        CHECK_STR(u.password, cases[i].password);
        CHECK_STR(u.display, cases[i].display);
        CHECK(u.has_password == (cases[i].password[0] != '\0'));
        CHECK(u.port == cases[i].port);
        CHECK(u.db == cases[i].db);
    }
}

/* Errors name the problem and never repeat the password. */
static void bad_urls(const void *arg) {
    (void)arg;
    const char *bad[] = {"", "http://h:1", "redis://", "redis://h:0", "redis://h:65536", "redis://h:x",
                         "redis://:topsecret@h:99999", "redis://h:1/db", "redis://[::1", "redis://[::1]x",
                         "unix:relative.sock", "redis://:topsecret@"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        redis_url u;
        char err[200] = "";
        CHECK(redis_url_parse(bad[i], &u, err, sizeof err) == -1);
        CHECK(err[0] != '\0');
        CHECK(strstr(err, "topsecret") == NULL);
    }
}

void redis_url_tests_register(void) {
    harness_add("redis url: accepted forms", good_urls, NULL);
    harness_add("redis url: rejected forms, password never echoed", bad_urls, NULL);
}
