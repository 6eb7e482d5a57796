/* What the cluster link's files share: the link itself (cluster_link.c:
 * its two connections, readiness, reconnection), its publishing
 * (cluster_link_publish.c), its stream reads (cluster_link_fill.c) and
 * its check of each pub/sub message against the stream
 * (cluster_link_verify.c), its epoch and write-back after Redis lost
 * its data (cluster_link_epoch.c) and its look at Redis' persistence
 * (cluster_link_persistence.c). Calls go one way: those three call
 * cluster_link.c's helpers below, never the other way round. Contexts are only ever freed
 * from cluster_link_step, never inside a hiredis callback: a callback that
 * finds the link broken marks it (cluster_link_mark_broken), and the next
 * step tears both connections down and schedules the reconnect. */
#ifndef SSED_CLUSTER_LINK_INTERNAL_H
#define SSED_CLUSTER_LINK_INTERNAL_H

#include <stdint.h>

#include "cluster_check_budget.h"
#include "cluster_link.h"
#include "redis_loop.h"

struct cluster_link {
    cluster_link_config cfg;
    char prefix[128];
    loop *loop;
    cluster_link_hooks hooks;
    redis_watch cmd_w, sub_w; /* .ac: the command and subscriber contexts */
    int cmd_ok, sub_ok;       /* script loaded; subscription confirmed */
    int ready;
    int broken;               /* tear down at the next step */
    int down_logged;
    char sha[48];
    int reloading;            /* a SCRIPT LOAD after NOSCRIPT is on its way */
    /* Commands sent on the command connection and not answered yet (Redis
     * answers in order), and when it last answered or was first asked. */
    uint64_t cmd_pending, cmd_progress_ms, sub_asked_ms;
    /* Time the node could not hear Redis through no fault of Redis's: its
     * loop stalling (loop_stalled_ms) and reading held (may_read said no),
     * as cluster_link_deaf_ms counted it at those two moments. Silence is
     * measured without it. */
    uint64_t cmd_progress_deaf_ms, sub_asked_deaf_ms;
    uint64_t read_held_since_ms, read_held_ms;
    uint64_t retry_at_ms, retry_delay_ms;
    uint64_t connects, publish_calls, publish_failures, fills;
    uint64_t lag_ms; /* round trip of the last publish */
    /* The epoch this node joined (PREFIX:epoch; "" until first read), an
     * epoch check on its way, and whether a refusal to answer it was
     * logged (cluster_link_epoch.c). */
    char epoch[48];
    int epoch_asked, epoch_refusal_logged;
    int persistence_checked; /* cluster_link_persistence.c answered once */
    check_budget checks; /* pub/sub messages waiting for their check */
};

/* How long, up to now_ms, the node could not have heard Redis: its loop's
 * stalls and the time its reading was held, in all. */
uint64_t cluster_link_deaf_ms(const cluster_link *k, uint64_t now_ms);
/* The link is broken (what failed, and why or NULL): logged once as a
 * warning while it stays down, and torn down at the next step. */
void cluster_link_mark_broken(cluster_link *k, const char *what, const char *why);
/* A command went out on the command connection. */
void cluster_link_note_sent(cluster_link *k);
/* Its answer (or the NULL of a freed context) came back. */
void cluster_link_note_answered(cluster_link *k);

struct redisReply;
/* A stream entry's text: field b (a script call's events), or e (one
 * event, written by the version before); NULL when it has neither. */
const struct redisReply *cluster_link_entry_value(const struct redisReply *entry);
/* N of an entry's id N-0 (the number of its last event); 0 if garbled. */
uint64_t cluster_link_entry_number(const struct redisReply *entry);

#endif
