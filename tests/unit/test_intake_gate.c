/* The intake gate: reasons close and open it independently; a waiter is
 * registered once, woken only when none of its own reasons is in force,
 * in the order it began to wait, and may wait again from its wake; one
 * that left is not woken. And the hub closes it for a round's share of
 * max_pending and opens it at the round's end. */
#include <string.h>

#include "harness.h"
#include "hub.h"
#include "intake_gate.h"

typedef struct test_input {
    intake_waiter w;
    intake_gate *gate;
    int woken;
    int wait_again; /* from its wake, ask the gate again after closing it */
    char *order;    /* appends its name when woken */
    char name;
} test_input;

static void on_wake(intake_waiter *w) {
    test_input *in = list_entry(w, test_input, w);
    in->woken++;
    size_t n = strlen(in->order);
    in->order[n] = in->name;
    in->order[n + 1] = '\0';
    if (in->wait_again) {
        intake_gate_set(in->gate, INTAKE_ROUND, 1);
        CHECK(intake_gate_pass(in->gate, &in->w) == 0);
    }
}

static void input_init(test_input *in, intake_gate *g, unsigned reasons, char name, char *order) {
    memset(in, 0, sizeof *in);
    intake_waiter_init(&in->w, reasons, on_wake);
    in->gate = g;
    in->name = name;
    in->order = order;
}

static void reasons_and_wakes(const void *arg) {
    (void)arg;
    intake_gate g;
    intake_gate_init(&g);
    char order[16] = "";
    test_input all, round_only, gone;
    input_init(&all, &g, INTAKE_ALL, 'a', order);
    input_init(&round_only, &g, INTAKE_BIT(INTAKE_ROUND), 'r', order);
    input_init(&gone, &g, INTAKE_ALL, 'g', order);

    CHECK(intake_gate_pass(&g, &all.w) == 1); /* open: nobody waits */
    CHECK(!intake_waiting(&all.w));

    intake_gate_set(&g, INTAKE_STORE, 1);
    CHECK(intake_gate_pass(&g, &round_only.w) == 1); /* the store does not hold it */
    CHECK(intake_gate_pass(&g, &all.w) == 0);
    CHECK(intake_gate_pass(&g, &all.w) == 0); /* asked twice, registered once */
    CHECK(g.waits == 1);
    intake_gate_set(&g, INTAKE_ROUND, 1);
    CHECK(intake_gate_pass(&g, &round_only.w) == 0);
    CHECK(intake_gate_pass(&g, &gone.w) == 0);
    intake_gate_leave(&gone.w); /* closed meanwhile: not woken */
    CHECK(g.waits == 3);

    intake_gate_set(&g, INTAKE_STORE, 1); /* already closed: nothing happens */
    intake_gate_set(&g, INTAKE_ROUND, 0);
    CHECK_STR(order, "r"); /* 'all' is still held by the store */
    CHECK(intake_waiting(&all.w) && !intake_waiting(&round_only.w));
    intake_gate_set(&g, INTAKE_ROUND, 0); /* already open: no second wake */
    CHECK(round_only.woken == 1);
    intake_gate_set(&g, INTAKE_STORE, 0);
    CHECK_STR(order, "ra");
    CHECK(all.woken == 1 && gone.woken == 0);
    CHECK(list_empty(&g.waiters) && g.closed == 0);
}

static void wake_order_and_waiting_again(const void *arg) {
    (void)arg;
    intake_gate g;
    intake_gate_init(&g);
    char order[16] = "";
    test_input x, y, z;
    input_init(&x, &g, INTAKE_BIT(INTAKE_ROUND), 'x', order);
    input_init(&y, &g, INTAKE_BIT(INTAKE_ROUND), 'y', order);
    input_init(&z, &g, INTAKE_BIT(INTAKE_ROUND), 'z', order);
    intake_gate_set(&g, INTAKE_ROUND, 1);
    CHECK(intake_gate_pass(&g, &x.w) == 0);
    CHECK(intake_gate_pass(&g, &y.w) == 0);
    CHECK(intake_gate_pass(&g, &z.w) == 0);
    /* x's wake closes the gate again and waits again: y and z stay held,
     * ahead of x, which is not woken twice in one opening. */
    x.wait_again = 1;
    intake_gate_set(&g, INTAKE_ROUND, 0);
    CHECK_STR(order, "x");
    CHECK(x.woken == 1 && intake_waiting(&x.w) && intake_waiting(&y.w) && intake_waiting(&z.w));
    x.wait_again = 0;
    intake_gate_set(&g, INTAKE_ROUND, 0);
    CHECK_STR(order, "xyzx");
    CHECK(list_empty(&g.waiters));
}

static void hub_closes_for_a_round(const void *arg) {
    (void)arg;
    hub h;
    hub_limits limits = {100, 0, 4000, 100, 100}; /* a round's share: 1000 bytes */
    CHECK(hub_init(&h, &limits) == 0);
    intake_gate g;
    intake_gate_init(&g);
    h.gate = &g;
    channel *ch = hub_channel_acquire(&h, "c", 1, HUB_FOR_PUBLISHING);
    CHECK(ch != NULL);
    char data[300];
    memset(data, 'x', sizeof data);
    sse_out_event ev = {NULL, 0, NULL, 0, 0, data, sizeof data, -1};
    for (int i = 0; i < 3; i++)
        CHECK(hub_publish_event(&h, ch, &ev) == SSE_ENCODE_OK);
    CHECK(!intake_gate_holds(&g, INTAKE_BIT(INTAKE_ROUND))); /* about 930 bytes */
    CHECK(hub_publish_event(&h, ch, &ev) == SSE_ENCODE_OK);
    CHECK(intake_gate_holds(&g, INTAKE_BIT(INTAKE_ROUND)));
    CHECK(!intake_gate_holds(&g, INTAKE_BIT(INTAKE_STORE)));
    hub_round_end(&h);
    CHECK(g.closed == 0 && h.round_bytes == 0);
    hub_channel_release(&h, ch);
    hub_free(&h);
}

void intake_gate_tests_register(void) {
    harness_add("intake gate: reasons hold their own waiters; one wake each when the last clears; a waiter that left "
                "is not woken",
                reasons_and_wakes, NULL);
    harness_add("intake gate: waiters woken in the order they waited; one that waits again from its wake waits for "
                "the next opening",
                wake_order_and_waiting_again, NULL);
    harness_add("intake gate: the hub closes it for 'round' at a quarter of max_pending, opens it at the round's end",
                hub_closes_for_a_round, NULL);
}
