/* A cluster link's check of each pub/sub message against the channel's
 * stream, before it is delivered. Any Redis client may PUBLISH on the
 * cluster's channels; only the publish script writes a message's stream
 * entry, in the same atomic step and before it publishes (cluster_script.c).
 * So a message is the cluster's only if its stream entry (id LAST-0) holds
 * the same text, or if the stream no longer reaches back to LAST (trimmed
 * past it: the message is the only copy left, delivered as before). A
 * message claiming a number the stream has no entry for while it still
 * holds older ones (a number to come, or one between two calls), or whose
 * entry differs, is refused: delivered, it would take the place of the
 * real event, which would then be dropped as a duplicate.
 *
 * Per message, two commands pipelined on the command connection: XLEN and
 * XREVRANGE key LAST-0 - COUNT 1 (the entry at LAST or the newest before
 * it). A burst of messages costs one round trip, and Redis answers in
 * order, so messages are handed on in the order they arrived. A message
 * whose answers are lost with the connection is dropped like a pub/sub
 * loss: the resync when the link is back reads it from the stream. */
#include <errno.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_link_internal.h"
#include "log.h"

typedef struct verify_call {
    cluster_link *k;
    uint64_t last;       /* the number of the entry that must hold the message */
    long long entries;   /* XLEN's answer; -1: none (an error) */
    int orphan;          /* XREVRANGE could not be sent: XLEN's answer frees it */
    size_t chan_len, msg_len;
    char data[];         /* the channel's name, then the message */
} verify_call;

static void on_length(redisAsyncContext *ac, void *reply, void *priv) {
    verify_call *call = priv;
    const redisReply *r = reply;
    (void)ac;
    cluster_link_note_answered(call->k);
    call->entries = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (call->orphan)
        free(call);
}

/* Why the message is not the cluster's, or NULL when it is (or may be:
 * the stream holds nothing at or before LAST, trimmed past it, or emptied
 * by a Redis that lost its data between the publish and this check: the
 * message is then the only copy left of an acknowledged event). `r` is
 * XREVRANGE's answer. */
static const char *verdict(const verify_call *call, const redisReply *r) {
    if (r->elements == 0)
        return NULL;
    const redisReply *entry = r->element[0];
    if (cluster_link_entry_number(entry) != call->last)
        return "no such stream entry";
    const redisReply *value = cluster_link_entry_value(entry);
    if (!value || value->len != call->msg_len || memcmp(value->str, call->data + call->chan_len, call->msg_len) != 0)
        return "it differs from its stream entry";
    return NULL;
}

static void on_entry(redisAsyncContext *ac, void *reply, void *priv) {
    verify_call *call = priv;
    cluster_link *k = call->k;
    const redisReply *r = reply;
    (void)ac;
    cluster_link_note_answered(k);
    const char *chan = call->data, *msg = call->data + call->chan_len;
    if (!r) {
        free(call); /* lost with the connection: read back at the resync */
        return;
    }
    if (r->type != REDIS_REPLY_ARRAY || call->entries < 0) {
        /* Redis refused to say (an ACL without XREVRANGE or XLEN, a key of
         * another type): delivered unchecked, as before the check. */
        log_verbose("redis %s: cannot check a message of /%.*s against its stream: %s", k->cfg.url.display,
                    (int)call->chan_len, chan, r->type == REDIS_REPLY_ERROR ? r->str : "unexpected answer");
        k->hooks.checked(k->hooks.ctx, chan, call->chan_len, msg, call->msg_len);
        free(call);
        return;
    }
    const char *why = verdict(call, r);
    if (why)
        k->hooks.forged(k->hooks.ctx, chan, call->chan_len, why);
    else
        k->hooks.checked(k->hooks.ctx, chan, call->chan_len, msg, call->msg_len);
    free(call);
}

/* Send the two commands; -1 when they cannot be (nothing was sent). */
static int send_check(cluster_link *k, verify_call *call) {
    size_t prefix_len = strlen(k->prefix);
    char *key = malloc(prefix_len + 3 + call->chan_len), at[32];
    if (!key)
        return -1;
    memcpy(key, k->prefix, prefix_len);
    memcpy(key + prefix_len, ":s:", 3);
    memcpy(key + prefix_len + 3, call->data, call->chan_len);
    size_t key_len = prefix_len + 3 + call->chan_len;
    snprintf(at, sizeof at, "%llu-0", (unsigned long long)call->last);
    int rc = redisAsyncCommand(k->cmd_w.ac, on_length, call, "XLEN %b", key, key_len);
    if (rc == REDIS_OK) {
        cluster_link_note_sent(k);
        rc = redisAsyncCommand(k->cmd_w.ac, on_entry, call, "XREVRANGE %b %s - COUNT 1", key, key_len, at);
        if (rc != REDIS_OK) {
            call->orphan = 1; /* XLEN's answer (a NULL one at the teardown) frees it */
            cluster_link_mark_broken(k, "XREVRANGE", "cannot send");
        } else {
            cluster_link_note_sent(k);
        }
        rc = REDIS_OK;
    }
    free(key);
    return rc == REDIS_OK ? 0 : -1;
}

void cluster_link_check(cluster_link *k, const char *chan, size_t chan_len, const char *msg, size_t msg_len) {
    uint64_t last;
    if (!cluster_message_last(msg, msg_len, &last)) {
        /* Malformed (refused by the split) or the version before's batch. */
        k->hooks.checked(k->hooks.ctx, chan, chan_len, msg, msg_len);
        return;
    }
    if (!k->cmd_w.ac || k->broken)
        return; /* like a pub/sub loss: the resync reads it from the stream */
    verify_call *call = malloc(sizeof *call + chan_len + msg_len);
    if (!call)
        return; /* the same */
    call->k = k;
    call->last = last;
    call->entries = -1;
    call->chan_len = chan_len;
    call->msg_len = msg_len;
    memcpy(call->data, chan, chan_len);
    memcpy(call->data + chan_len, msg, msg_len);
    call->orphan = 0;
    if (send_check(k, call) < 0)
        free(call); /* nothing sent; once XLEN went out, the call is its answers' */
}
