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
 * A batch of the version before ("*COUNT", cluster_message.h) is checked
 * the same way, piece by piece: each piece is one stream entry's text
 * (field e, id N-0); the batch is refused if any piece is.
 *
 * Per message, pipelined on the command connection: XLEN, and per entry
 * XREVRANGE key N-0 - COUNT 1 (the entry at N or the newest before it). A
 * burst of messages costs one round trip, and Redis answers in order, so
 * messages are handed on in the order they arrived. A message whose
 * answers are lost with the connection is dropped like a pub/sub loss:
 * the resync when the link is back reads it from the stream. */
#include <errno.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_link_internal.h"
#include "log.h"

typedef struct verify_call verify_call;

/* One stream entry the message must match: its number, and where its
 * text is in the call's message. */
typedef struct verify_piece {
    verify_call *call;
    uint64_t last;
    size_t at, len;
} verify_piece;

struct verify_call {
    cluster_link *k;
    long long entries;   /* XLEN's answer; -1: none (an error) */
    int orphan;          /* no XREVRANGE could be sent: XLEN's answer frees it */
    int lost;            /* an answer was lost with the connection */
    const char *why;     /* the first piece refused, or NULL */
    const char *refused; /* Redis would not say (its error), or NULL */
    size_t pieces, answered;
    size_t size;         /* what it costs, counted in the link's check budget */
    verify_piece *piece; /* `pieces` of them, after the text */
    size_t chan_len, msg_len;
    char data[];         /* the channel's name, then the message */
};

/* The call waits no more: its memory back, and out of the budget. */
static void call_free(verify_call *call) {
    check_budget_give(&call->k->checks, call->size);
    free(call);
}

static void on_length(redisAsyncContext *ac, void *reply, void *priv) {
    verify_call *call = priv;
    const redisReply *r = reply;
    (void)ac;
    cluster_link_note_answered(call->k);
    call->entries = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (call->orphan)
        call_free(call);
}

/* Why the piece is not the cluster's, or NULL when it is (or may be: the
 * stream holds nothing at or before its number, trimmed past it, or
 * emptied by a Redis that lost its data between the publish and this
 * check: the message is then the only copy left of an acknowledged
 * event). `r` is XREVRANGE's answer. */
static const char *verdict(const verify_piece *piece, const redisReply *r) {
    if (r->elements == 0)
        return NULL;
    const redisReply *entry = r->element[0];
    if (cluster_link_entry_number(entry) != piece->last)
        return "no such stream entry";
    const redisReply *value = cluster_link_entry_value(entry);
    const char *text = piece->call->data + piece->call->chan_len + piece->at;
    if (!value || value->len != piece->len || memcmp(value->str, text, piece->len) != 0)
        return "it differs from its stream entry";
    return NULL;
}

/* Every piece answered: hand the message on, or refuse it. */
static void settle_call(verify_call *call) {
    cluster_link *k = call->k;
    const char *chan = call->data, *msg = call->data + call->chan_len;
    if (call->lost) {
        /* lost with the connection: read back at the resync */
    } else if (call->why) {
        k->hooks.forged(k->hooks.ctx, chan, call->chan_len, call->why);
    } else {
        if (call->refused)
            /* Redis refused to say (an ACL without XREVRANGE or XLEN, a key
             * of another type): delivered unchecked, as before the check. */
            log_verbose("redis %s: cannot check a message of /%.*s against its stream: %s", k->cfg.url.display,
                        (int)call->chan_len, chan, call->refused);
        k->hooks.checked(k->hooks.ctx, chan, call->chan_len, msg, call->msg_len);
    }
    call_free(call);
}

static void on_entry(redisAsyncContext *ac, void *reply, void *priv) {
    verify_piece *piece = priv;
    verify_call *call = piece->call;
    const redisReply *r = reply;
    (void)ac;
    cluster_link_note_answered(call->k);
    if (!r)
        call->lost = 1;
    else if (r->type != REDIS_REPLY_ARRAY || call->entries < 0)
        call->refused = r->type == REDIS_REPLY_ERROR ? "an error answer" : "unexpected answer";
    else if (!call->why)
        call->why = verdict(piece, r);
    if (++call->answered == call->pieces)
        settle_call(call);
}

/* Send XLEN and one XREVRANGE per piece; -1 when nothing could be sent. */
static int send_check(cluster_link *k, verify_call *call) {
    size_t prefix_len = strlen(k->prefix);
    char *key = malloc(prefix_len + 3 + call->chan_len), at[32];
    if (!key)
        return -1;
    memcpy(key, k->prefix, prefix_len);
    memcpy(key + prefix_len, ":s:", 3);
    memcpy(key + prefix_len + 3, call->data, call->chan_len);
    size_t key_len = prefix_len + 3 + call->chan_len, sent = 0;
    int rc = redisAsyncCommand(k->cmd_w.ac, on_length, call, "XLEN %b", key, key_len);
    if (rc == REDIS_OK) {
        cluster_link_note_sent(k);
        for (; sent < call->pieces; sent++) {
            snprintf(at, sizeof at, "%llu-0", (unsigned long long)call->piece[sent].last);
            if (redisAsyncCommand(k->cmd_w.ac, on_entry, &call->piece[sent], "XREVRANGE %b %s - COUNT 1", key,
                                  key_len, at) != REDIS_OK) {
                cluster_link_mark_broken(k, "XREVRANGE", "cannot send");
                break;
            }
            cluster_link_note_sent(k);
        }
        /* What was sent answers (NULL ones at the teardown); the last
         * answer frees the call, or XLEN's when none was sent. */
        call->lost = sent < call->pieces;
        call->pieces = sent;
        call->orphan = sent == 0;
    }
    free(key);
    return rc == REDIS_OK ? 0 : -1;
}

typedef struct piece_fill {
    verify_call *call;
    const char *msg;
    size_t count;
} piece_fill;

static void count_piece(void *ctx, uint64_t number, const char *text, size_t len) {
    (void)number, (void)text, (void)len;
    ((piece_fill *)ctx)->count++;
}

static void take_piece(void *ctx, uint64_t number, const char *text, size_t len) {
    piece_fill *f = ctx;
    f->call->piece[f->count++] = (verify_piece){f->call, number, (size_t)(text - f->msg), len};
}

void cluster_link_check(cluster_link *k, const char *chan, size_t chan_len, const char *msg, size_t msg_len) {
    piece_fill count = {NULL, msg, 0};
    if (cluster_message_entries(msg, msg_len, count_piece, &count) < 0) {
        /* Malformed: the split refuses it, counted there. */
        k->hooks.checked(k->hooks.ctx, chan, chan_len, msg, msg_len);
        return;
    }
    if (!k->cmd_w.ac || k->broken)
        return; /* like a pub/sub loss: the resync reads it from the stream */
    size_t text = sizeof(verify_call) + chan_len + msg_len;
    size_t align = _Alignof(verify_piece), at = (text + align - 1) / align * align;
    size_t size = at + count.count * sizeof(verify_piece);
    if (check_budget_take(&k->checks, size) < 0) {
        /* Redis answers checks slower than messages come: rather than
         * hold more, the link is behind, and the resync after the
         * reconnect reads the streams (this message with them). */
        char why[200];
        snprintf(why, sizeof why,
                 "%zu message%s (%zu byte%s) wait already, the most kept is 100000 messages or 64 MiB; "
                 "reconnecting to read the streams instead",
                 k->checks.messages, k->checks.messages == 1 ? "" : "s", k->checks.bytes,
                 k->checks.bytes == 1 ? "" : "s");
        cluster_link_mark_broken(k, "pub/sub messages waiting for their check", why);
        return;
    }
    verify_call *call = malloc(size);
    if (!call) {
        check_budget_give(&k->checks, size);
        return; /* the same */
    }
    memset(call, 0, sizeof *call);
    call->size = size;
    call->k = k;
    call->entries = -1;
    call->chan_len = chan_len;
    call->msg_len = msg_len;
    call->piece = (verify_piece *)((char *)call + at);
    call->pieces = count.count;
    memcpy(call->data, chan, chan_len);
    memcpy(call->data + chan_len, msg, msg_len);
    piece_fill fill = {call, msg, 0};
    cluster_message_entries(msg, msg_len, take_piece, &fill);
    if (send_check(k, call) < 0)
        call_free(call); /* nothing sent; once XLEN went out, the call is its answers' */
}
