/* Channel patterns (ssed's JWT claims and --public) and JSON body checks. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "json_body.h"
#include "jwt_cache.h"
#include "jwt_claims.h"

typedef struct match_case {
    const char *pattern, *channel;
    int matches;
} match_case;

static const match_case match_cases[] = {
    {"orders/42", "orders/42", 1},
    {"orders/42", "orders/43", 0},
    {"/orders/42/", "orders/42", 1}, /* slashes trimmed, as in paths */
    {"orders/42", "/orders/42", 1},
    {"news/*", "news/today", 1},
    {"news/*", "news", 0},
    {"news/*", "news/a/b", 0},
    {"*", "news", 1},
    {"*", "", 0},
    {"*/x", "a/x", 1},
    {"builds/**", "builds/1", 1},
    {"builds/**", "builds/1/log/tail", 1},
    {"builds/**", "builds", 0}, /* ** is one or more segments, never zero */
    {"**", "a", 1},
    {"**", "a/b/c", 1},
    {"**", "", 0},
    {"", "", 1}, /* the root channel */
    {"/", "", 1},
    {"", "a", 0},
    {"a/**/z", "a/b/z", 1},
    {"a/**/z", "a/b/c/z", 1},
    {"a/**/z", "a/z", 0},
    {"a/**/z", "a/z/z", 1},
    {"a/**/z", "a/b/z/c", 0},
    {"**/z/**", "a/z/b", 1},
    {"**/z/**", "z/b", 0},
    {"a/*/**", "a/b", 0},
    {"a/*/**", "a/b/c", 1},
    {"a//b", "a//b", 1}, /* an empty segment matches only itself */
    {"a/*/b", "a//b", 1},
};

static void pattern_matches(const void *arg) {
    const match_case *c = arg;
    int got = channel_pattern_matches(c->pattern, strlen(c->pattern), c->channel, strlen(c->channel));
    if (got != c->matches)
        harness_fail(__FILE__, __LINE__, "'%s' against '%s': got %d, want %d", c->pattern, c->channel, got,
                     c->matches);
}

static void pattern_validity(const void *arg) {
    (void)arg;
    const char *good[] = {"a", "a/b", "*", "**", "a/*/b", "a/**", "", "/", "x.y~z-1_2/*"};
    const char *bad[] = {"a*", "a/b*", "***", "a/*x/b", "a/../b", "a b", "a/é", "a?b"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK(channel_pattern_valid(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!channel_pattern_valid(bad[i], strlen(bad[i])));
    char longest[JWT_MAX_PATTERN_LEN + 2];
    memset(longest, 'a', sizeof longest);
    CHECK(channel_pattern_valid(longest, JWT_MAX_PATTERN_LEN));
    CHECK(!channel_pattern_valid(longest, JWT_MAX_PATTERN_LEN + 1));
    CHECK(!channel_pattern_valid("a\0b", 3));
}

/* A pattern of many ** against a long channel that does not match ends
 * quickly: one backtracking point, never exponential. */
static void pattern_worst_case(const void *arg) {
    (void)arg;
    char pattern[JWT_MAX_PATTERN_LEN + 1] = "", channel[201] = "";
    while (strlen(pattern) + 5 < JWT_MAX_PATTERN_LEN)
        strcat(pattern, "**/a/");
    strcat(pattern, "b");
    while (strlen(channel) + 2 < sizeof channel)
        strcat(channel, "a/");
    channel[strlen(channel) - 1] = '\0';
    CHECK(channel_pattern_valid(pattern, strlen(pattern)));
    CHECK(!channel_pattern_matches(pattern, strlen(pattern), channel, strlen(channel)));
}

static void pattern_lists(const void *arg) {
    (void)arg;
    const char *list = "orders/42\nnews/*\n";
    CHECK(channel_patterns_allow(list, "news/x", 6));
    CHECK(channel_patterns_allow(list, "orders/42", 9));
    CHECK(!channel_patterns_allow(list, "orders/4", 8));
    CHECK(!channel_patterns_allow(NULL, "a", 1));
    CHECK(!channel_patterns_allow("", "", 0));
}

static void json_bodies(const void *arg) {
    (void)arg;
    const char *good[] = {"{}", "[1,2]", "\"s\"", "3.5", "true", "null", " {\"a\": {\"b\": [null]}} \n",
                          "\"\\u00e9\"", "{\"é\":1}"};
    const char *bad[] = {"{not json", "", "{\"a\":1,\"a\":2}", "[1,]", "{} {}", "'x'", "\"\xff\"", "NaN"};
    char why[200];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK(json_body_check(good[i], strlen(good[i]), why, sizeof why) == 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        CHECK(json_body_check(bad[i], strlen(bad[i]), why, sizeof why) == -1);
        CHECK(strstr(why, "not JSON") != NULL);
    }
    CHECK(json_body_check("\"a\0b\"", 5, why, sizeof why) == -1); /* a NUL inside a string, unescaped */
}

/* A verified token is found by its exact bytes until exp plus leeway, with
 * its claims copied out; another token in its slot replaces it. */
static void cache(const void *arg) {
    (void)arg;
    jwt_cache *c = jwt_cache_new(5);
    CHECK(c != NULL);
    char subscribe[] = "a/*\n";
    jwt_claims claims = {.exp = 1000, .admin = 1, .subscribe = subscribe, .publish = NULL};
    jwt_cache_put(c, "t.o.k", 5, &claims);
    jwt_claims got;
    CHECK(jwt_cache_find(c, "t.o.k", 5, 900, &got) == 1);
    CHECK(got.admin == 1 && got.exp == 1000 && got.publish == NULL);
    CHECK(got.subscribe != subscribe && strcmp(got.subscribe, subscribe) == 0);
    jwt_claims_free(&got);
    CHECK(jwt_cache_find(c, "t.o.K", 5, 900, &got) == 0);
    CHECK(jwt_cache_find(c, "t.o.", 4, 900, &got) == 0);
    CHECK(jwt_cache_find(c, "t.o.k", 5, 1004, &got) == 1); /* within the leeway */
    jwt_claims_free(&got);
    CHECK(jwt_cache_find(c, "t.o.k", 5, 1005, &got) == 0);  /* expired: dropped */
    CHECK(jwt_cache_find(c, "t.o.k", 5, 900, &got) == 0);
    claims.exp = 0; /* no exp: kept until replaced */
    for (int i = 0; i < 2 * JWT_CACHE_SLOTS; i++) {
        char token[16];
        int n = snprintf(token, sizeof token, "tok%d", i);
        jwt_cache_put(c, token, (size_t)n, &claims);
    }
    int found = 0;
    for (int i = 0; i < 2 * JWT_CACHE_SLOTS; i++) {
        char token[16];
        int n = snprintf(token, sizeof token, "tok%d", i);
        if (jwt_cache_find(c, token, (size_t)n, 1 << 30, &got)) {
            found++;
            jwt_claims_free(&got);
        }
    }
    CHECK(found > 0 && found <= JWT_CACHE_SLOTS);
    jwt_cache_free(c);
}

void jwt_claims_tests_register(void) {
    harness_add("jwt cache: exact bytes, until exp and leeway, bounded", cache, NULL);
    static char names[sizeof match_cases / sizeof match_cases[0]][120];
    for (size_t i = 0; i < sizeof match_cases / sizeof match_cases[0]; i++) {
        snprintf(names[i], sizeof names[i], "channel pattern '%s' %s '%s'", match_cases[i].pattern,
                 match_cases[i].matches ? "matches" : "does not match", match_cases[i].channel);
        harness_add(names[i], pattern_matches, &match_cases[i]);
    }
    harness_add("channel patterns: which are valid", pattern_validity, NULL);
    harness_add("channel patterns: the worst case is not exponential", pattern_worst_case, NULL);
    harness_add("channel patterns: a list allows what any of its patterns matches", pattern_lists, NULL);
    harness_add("json bodies: RFC 8259 values pass; the rest is refused with a reason", json_bodies, NULL);
}
