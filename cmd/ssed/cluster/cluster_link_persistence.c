/* A cluster link's look, at its first connect, at whether Redis keeps
 * what it is given: a Redis without persistence loses every stream,
 * counter and publisher sequence when it restarts (man/ssed.1, CLUSTER,
 * what each setting costs). Two commands pipelined, CONFIG GET appendonly
 * and CONFIG GET save; one warning line when nothing is kept, or only
 * snapshots, or when Redis refuses to say. */
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_link.h"
#include "cluster_link_internal.h"
#include "log.h"

typedef struct persistence_check {
    cluster_link *k;
    int aof;         /* appendonly yes; -1: unknown */
    int orphan;      /* the second command could not be sent: the first's answer frees it */
    char why[200];   /* why Redis would not say; "" when it did */
} persistence_check;

/* The value of a CONFIG GET answer ({name, value}), or NULL with
 * call->why filled. */
static const redisReply *config_value(persistence_check *call, const redisReply *r) {
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING)
        return r->element[1];
    if (!call->why[0])
        snprintf(call->why, sizeof call->why, "%s",
                 !r ? "no answer" : r->type == REDIS_REPLY_ERROR ? r->str : "unexpected answer");
    return NULL;
}

static void on_appendonly(redisAsyncContext *ac, void *reply, void *priv) {
    persistence_check *call = priv;
    (void)ac;
    cluster_link_note_answered(call->k);
    const redisReply *v = config_value(call, reply);
    call->aof = v ? strcmp(v->str, "yes") == 0 : -1;
    if (call->orphan)
        free(call);
}

static void on_save(redisAsyncContext *ac, void *reply, void *priv) {
    persistence_check *call = priv;
    cluster_link *k = call->k;
    (void)ac;
    cluster_link_note_answered(k);
    const redisReply *v = config_value(call, reply);
    if (!reply) {
        free(call); /* the connection went: asked again at the next connect */
        return;
    }
    k->persistence_checked = 1;
    if (call->aof < 0 || !v)
        log_warn("redis %s: could not check whether Redis persists its data (CONFIG GET: %s); without "
                 "persistence a restart loses the streams, and a resume from before it may get ssed-gap "
                 "(man ssed, CLUSTER)",
                 k->cfg.url.display, call->why);
    else if (!call->aof && !v->str[0])
        log_warn("redis %s: Redis has no persistence (appendonly no, save \"\"): a restart loses every "
                 "stream; only the history running nodes hold is written back, a resume from before it gets "
                 "ssed-gap and a numbered resend may be published twice (use appendonly yes; man ssed, CLUSTER)",
                 k->cfg.url.display);
    else if (!call->aof)
        log_warn("redis %s: Redis persists only snapshots (appendonly no, save \"%s\"): a restart loses what "
                 "came after the last one, except the history running nodes hold and write back (use "
                 "appendonly yes; man ssed, CLUSTER)",
                 k->cfg.url.display, v->str);
    free(call);
}

void cluster_link_check_persistence(cluster_link *k) {
    if (k->persistence_checked || !k->cmd_w.ac || k->broken)
        return;
    persistence_check *call = calloc(1, sizeof *call);
    if (!call)
        return; /* asked again at the next connect */
    call->k = k;
    call->aof = -1;
    if (redisAsyncCommand(k->cmd_w.ac, on_appendonly, call, "CONFIG GET appendonly") != REDIS_OK) {
        free(call);
        cluster_link_mark_broken(k, "CONFIG GET", "cannot send");
        return;
    }
    cluster_link_note_sent(k);
    if (redisAsyncCommand(k->cmd_w.ac, on_save, call, "CONFIG GET save") != REDIS_OK) {
        call->orphan = 1; /* on_appendonly's answer (a NULL one at the teardown) frees it */
        cluster_link_mark_broken(k, "CONFIG GET", "cannot send");
        return;
    }
    cluster_link_note_sent(k);
}
