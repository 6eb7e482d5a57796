/* The intake gate (see intake_gate.h): reasons as bits, waiters on a list,
 * woken when their last reason clears. */
#include "intake_gate.h"

void intake_gate_init(intake_gate *g) {
    g->closed = 0;
    g->waits = 0;
    list_init(&g->waiters);
}

void intake_waiter_init(intake_waiter *w, unsigned reasons, void (*wake)(intake_waiter *w)) {
    w->link.prev = w->link.next = NULL;
    w->reasons = reasons;
    w->wake = wake;
}

/* Wake those free to go. The list is taken whole first: a wake may close
 * the gate again and wait again, and it then waits behind those still
 * held (they waited longer) instead of being walked twice now. */
static void wake_free(intake_gate *g) {
    list_node pending, held;
    list_init(&pending);
    list_init(&held);
    list_move_all(&pending, &g->waiters);
    while (!list_empty(&pending)) {
        intake_waiter *w = list_entry(pending.next, intake_waiter, link);
        list_remove(&w->link);
        if (g->closed & w->reasons)
            list_push_back(&held, &w->link);
        else
            w->wake(w);
    }
    list_move_all(&held, &g->waiters); /* those waiting again go behind */
    list_move_all(&g->waiters, &held);
}

void intake_gate_set(intake_gate *g, enum intake_reason r, int closed) {
    unsigned was = g->closed;
    if (closed)
        g->closed |= INTAKE_BIT(r);
    else
        g->closed &= ~INTAKE_BIT(r);
    if (g->closed != was && !closed)
        wake_free(g);
}

int intake_gate_pass(intake_gate *g, intake_waiter *w) {
    if (!(g->closed & w->reasons))
        return 1;
    if (!intake_waiting(w)) {
        list_push_back(&g->waiters, &w->link);
        g->waits++;
    }
    return 0;
}

const char *intake_reason_name(enum intake_reason r) {
    static const char *const names[INTAKE_REASONS] = {"round", "store", "cluster"};
    return (unsigned)r < INTAKE_REASONS ? names[r] : "?";
}
