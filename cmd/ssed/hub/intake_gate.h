/* The intake gate: the one place that says whether ssed takes new input
 * now, and why not. Inputs (stdin and FIFO sources, connections reading a
 * request or a body, HTTP/2 sessions, the cluster link reading Redis) ask
 * it before they read; while it is closed for a reason that holds them they
 * register as waiters, stop asking epoll for input (no re-polling until it
 * opens), and are woken, each by its own callback, when the last of their
 * reasons clears. Reasons are closed and opened by their owners: the hub
 * (a round owes bytes), the store (it cannot write), the cluster (the link
 * is down). What holds one input only (a cluster input's batch in flight)
 * stays with that input.
 *
 * Lifetime: a waiter is embedded in its owner and must leave the gate
 * (intake_gate_leave) before the owner is freed. A wake callback may ask
 * the gate again (and wait again) but must not free other waiters. */
#ifndef SSED_INTAKE_GATE_H
#define SSED_INTAKE_GATE_H

#include <stdint.h>

#include "list.h"

enum intake_reason {
    INTAKE_ROUND,   /* subscribers owe a quarter of --max-pending from this round (hub.h) */
    INTAKE_STORE,   /* the store cannot write (store_loop.h) */
    INTAKE_CLUSTER, /* the cluster's link to Redis is down or not yet up */
    INTAKE_REASONS
};
#define INTAKE_BIT(r) (1u << (r))
#define INTAKE_ALL ((1u << INTAKE_REASONS) - 1)

typedef struct intake_waiter intake_waiter;
struct intake_waiter {
    list_node link;   /* on the gate's waiters while it waits */
    unsigned reasons; /* INTAKE_BITs that hold this input */
    /* The gate opened for it: watch for input again. */
    void (*wake)(intake_waiter *w);
};

typedef struct intake_gate {
    unsigned closed;  /* INTAKE_BITs in force */
    list_node waiters; /* in the order they began to wait */
    uint64_t waits;    /* times an input began to wait */
} intake_gate;

void intake_gate_init(intake_gate *g);
void intake_waiter_init(intake_waiter *w, unsigned reasons, void (*wake)(intake_waiter *w));
/* Close (closed != 0) or open the gate for one reason. Opening wakes, in
 * order, every waiter none of whose reasons is still in force. */
void intake_gate_set(intake_gate *g, enum intake_reason r, int closed);
/* May w read now? 1 if none of its reasons is in force; otherwise w
 * waits (registered once) and 0. */
int intake_gate_pass(intake_gate *g, intake_waiter *w);
/* Is w waiting for the gate? */
static inline int intake_waiting(const intake_waiter *w) { return list_linked(&w->link); }
/* Stop waiting, without a wake (the input closes or reads no more). */
static inline void intake_gate_leave(intake_waiter *w) { list_remove(&w->link); }
/* Is intake closed for any of these reasons? */
static inline int intake_gate_holds(const intake_gate *g, unsigned reasons) { return (g->closed & reasons) != 0; }
/* "round", "store", "cluster": for stats and metrics. */
const char *intake_reason_name(enum intake_reason r);

#endif
