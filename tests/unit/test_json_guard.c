/* jansson under memory failure: every allocation of a check, in turn, is
 * made to fail (once, and from then on, as when memory has run out), or
 * every one above a size (as under ulimit -v, where small blocks are still
 * found), and json_body_check must then say so (never crash, never call
 * the body wrong) and leave nothing allocated. Without json_guard.c,
 * jansson drops a failed token-buffer allocation, and with large blocks
 * refused but small ones given it then writes past a heap buffer. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "json_body.h"
#include "json_guard.h"
#include "publish.h"

/* Bodies that make jansson grow each kind of buffer: a long string and a
 * long key (its token buffer, doubled many times), escapes, numbers (the
 * lexer's path that ungets), arrays and objects that grow, nesting. */
static const char *const bodies[] = {
    "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"",
    "{\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\": \"\\u00e9\\ud83d\\ude00\\n\"}",
    "[1234567890123456789, -12345678901234567890.5, -1.5e300, 0.000000000000000000000001, 42, 7]",
    "[[[[[[[[[[{\"a\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17],\"b\":{\"c\":null,\"d\":true}}]]]]]]]]]]",
    "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"j\":10,\"k\":11,\"l\":12}",
};

/* Allocations left before the failures start; how many were asked for;
 * whether the failure lasts (memory has run out) or is a single one. */
static struct {
    long left;
    long asked;
    int lasting;
    size_t largest; /* larger blocks are refused; 0: any size */
} budget;

static void *failing_alloc(size_t size) {
    budget.asked++;
    if (budget.largest && size > budget.largest)
        return NULL;
    if (budget.left < 0)
        return malloc(size);
    if (budget.left-- > 0)
        return malloc(size);
    if (!budget.lasting)
        budget.left = -1; /* this one fails, the next ones succeed */
    return NULL;
}

/* The allocations a check of body makes when nothing fails. */
static long allocations_of(const char *body) {
    budget.left = -1;
    budget.asked = 0;
    budget.largest = 0;
    char why[200];
    json_guard_set_alloc(failing_alloc);
    int rc = json_body_check(body, strlen(body), why, sizeof why);
    json_guard_set_alloc(NULL);
    CHECK(rc == 0);
    return budget.asked;
}

static void each_allocation_fails(const void *arg) {
    const int *lasting = arg;
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        long total = allocations_of(bodies[i]);
        CHECK(total > 3);
        for (long n = 0; n < total; n++) {
            budget.left = n;
            budget.lasting = *lasting;
            char why[200] = "";
            json_guard_set_alloc(failing_alloc);
            int rc = json_body_check(bodies[i], strlen(bodies[i]), why, sizeof why);
            json_guard_set_alloc(NULL);
            if (rc != JSON_BODY_NO_MEMORY || !strstr(why, "out of memory"))
                harness_fail(__FILE__, __LINE__, "body %zu, allocation %ld of %ld failed: got %d \"%s\"", i, n + 1,
                             total, rc, why);
            CHECK(json_guard_live_blocks() == 0);
        }
    }
}

/* Blocks up to a size are given, larger ones refused: the check passes
 * if it needed none larger, else says memory ran out. */
static void large_allocations_fail(const void *arg) {
    (void)arg;
    char body[4100];
    body[0] = '"';
    memset(body + 1, 'x', sizeof body - 3);
    memcpy(body + sizeof body - 2, "\"", 2);
    for (size_t largest = 48; largest <= 8192; largest += largest / 4) {
        budget.left = -1;
        budget.largest = largest;
        char why[200] = "";
        json_guard_set_alloc(failing_alloc);
        int rc = json_body_check(body, strlen(body), why, sizeof why);
        json_guard_set_alloc(NULL);
        budget.largest = 0;
        if (!(rc == 0 && largest > sizeof body) && !(rc == JSON_BODY_NO_MEMORY && strstr(why, "out of memory")))
            harness_fail(__FILE__, __LINE__, "blocks over %zu bytes refused: got %d \"%s\"", largest, rc, why);
        CHECK(json_guard_live_blocks() == 0);
    }
}

/* Through the publish decoder: a JSON body whose check runs out of memory
 * is refused with 503 and publishes nothing; the same body with memory to
 * spare is one event. */
static void publish_answers_503(const void *arg) {
    (void)arg;
    char body[2000];
    body[0] = '"';
    memset(body + 1, 'j', sizeof body - 3);
    memcpy(body + sizeof body - 2, "\"", 2);
    size_t len = strlen(body);
    for (int spare = 0; spare <= 1; spare++) {
        hub h;
        hub_limits limits = {100, 0, 1 << 20, 10, 10};
        CHECK(hub_init(&h, &limits) == 0);
        channel *ch = hub_channel_acquire(&h, "j", 1, HUB_FOR_PUBLISHING);
        publish_request *p = publish_start(&h, ch, 1 << 20, BODY_WHOLE, 0, len);
        p->check_whole = json_body_check;
        budget.left = -1;
        budget.largest = spare ? 0 : 256;
        json_guard_set_alloc(failing_alloc);
        size_t used;
        int rc = publish_feed(p, body, len, &used);
        json_guard_set_alloc(NULL);
        budget.largest = 0;
        if (spare) {
            CHECK(rc == PUBLISH_DONE && p->accepted == 1);
        } else {
            CHECK(rc == PUBLISH_FAILED && p->status == 503 && p->accepted == 0);
            CHECK(strstr(p->error, "out of memory") != NULL);
        }
        publish_free(p);
        hub_free(&h);
        CHECK(json_guard_live_blocks() == 0);
    }
}

/* A document kept after its parse is freed by json_decref, in any order
 * with later parses, and the blocks are all accounted for. */
static void documents_outlive_parses(const void *arg) {
    (void)arg;
    int oom;
    json_t *a = json_guard_loadb("{\"a\":[1,2,3]}", 13, 0, NULL, &oom);
    CHECK(a != NULL && !oom);
    size_t live = json_guard_live_blocks();
    CHECK(live > 0);
    json_t *b = json_guard_loadb("[\"x\"]", 5, 0, NULL, &oom);
    CHECK(b != NULL && !oom);
    CHECK(json_guard_live_blocks() > live);
    json_decref(a);
    json_decref(b);
    CHECK(json_guard_live_blocks() == 0);
    json_error_t err;
    CHECK(json_guard_loadb("[1,", 3, 0, &err, &oom) == NULL && !oom);
    CHECK(json_guard_live_blocks() == 0);
}

void json_guard_tests_register(void) {
    static const int once = 0, lasting = 1;
    harness_add("json guard: each allocation of a check fails once", each_allocation_fails, &once);
    harness_add("json guard: memory runs out at each allocation of a check", each_allocation_fails, &lasting);
    harness_add("json guard: blocks larger than a size are refused", large_allocations_fail, NULL);
    harness_add("json guard: a JSON publish whose check runs out of memory gets 503", publish_answers_503, NULL);
    harness_add("json guard: documents outlive their parse", documents_outlive_parses, NULL);
}
