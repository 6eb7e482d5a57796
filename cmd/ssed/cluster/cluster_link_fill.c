/* A cluster link's reads of a channel's stream: its tail when a channel
 * is first used, or the entries after a hole in what the subscription
 * delivered (cluster_link.h). */
#include <errno.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_link_internal.h"
#include "log.h"

/* Stream entries per read after a hole: an entry holds one script call,
 * up to PART_EVENTS events or PART_BYTES (cluster_link_publish.c), so one
 * answer stays bounded. */
#define FILL_COUNT 256

typedef struct fill_call {
    cluster_link *k;
    int tail;
    size_t len;
    char chan[];
} fill_call;

const redisReply *cluster_link_entry_value(const redisReply *entry) {
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 || entry->element[1]->type != REDIS_REPLY_ARRAY)
        return NULL;
    const redisReply *fields = entry->element[1];
    for (size_t f = 0; f + 1 < fields->elements; f += 2) {
        const redisReply *name = fields->element[f], *value = fields->element[f + 1];
        if (name->type == REDIS_REPLY_STRING && name->len == 1 && (name->str[0] == 'b' || name->str[0] == 'e') &&
            value->type == REDIS_REPLY_STRING)
            return value;
    }
    return NULL;
}

uint64_t cluster_link_entry_number(const redisReply *entry) {
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements < 1 || entry->element[0]->type != REDIS_REPLY_STRING)
        return 0;
    const char *id = entry->element[0]->str;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(id, &end, 10);
    return errno || end == id || *end != '-' ? 0 : (uint64_t)n;
}

static void on_filled(redisAsyncContext *ac, void *reply, void *priv) {
    fill_call *call = priv;
    cluster_link *k = call->k;
    (void)ac;
    cluster_link_note_answered(k);
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        if (r && r->type == REDIS_REPLY_ERROR)
            log_warn("redis %s: reading stream of /%s: %s", k->cfg.url.display, call->chan, r->str);
        k->hooks.fill_failed(k->hooks.ctx, call->chan, call->len);
        free(call);
        return;
    }
    size_t n = r->elements;
    const char **msgs = calloc(n ? n : 1, sizeof *msgs);
    size_t *lens = calloc(n ? n : 1, sizeof *lens);
    if (!msgs || !lens) {
        k->hooks.fill_failed(k->hooks.ctx, call->chan, call->len);
        goto out;
    }
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        /* XREVRANGE (the tail) answers newest first. */
        const redisReply *value = cluster_link_entry_value(r->element[call->tail ? n - 1 - i : i]);
        if (value) {
            msgs[count] = value->str;
            lens[count++] = value->len;
        }
    }
    uint64_t read_on_after = !call->tail && n == FILL_COUNT ? cluster_link_entry_number(r->element[n - 1]) : 0;
    k->hooks.filled(k->hooks.ctx, call->chan, call->len, msgs, lens, count, read_on_after);
out:
    free(msgs);
    free(lens);
    free(call);
}

int cluster_link_fill(cluster_link *k, const char *chan, size_t len, uint64_t after) {
    if (!cluster_link_ready(k))
        return -1;
    fill_call *call = malloc(sizeof *call + len + 1);
    if (!call)
        return -1;
    call->k = k;
    call->tail = after == 0;
    call->len = len;
    memcpy(call->chan, chan, len);
    call->chan[len] = '\0';
    /* Sized from the lengths: a long prefix and channel name must not be
     * cut into another channel's key. */
    char *key = malloc(strlen(k->prefix) + 3 + len + 1), start[32];
    if (!key) {
        free(call);
        return -1;
    }
    sprintf(key, "%s:s:%s", k->prefix, call->chan);
    snprintf(start, sizeof start, "%llu-0", (unsigned long long)after + 1);
    int rc = call->tail ? redisAsyncCommand(k->cmd_w.ac, on_filled, call, "XREVRANGE %s + - COUNT %llu", key,
                                            (unsigned long long)k->cfg.history)
                        : redisAsyncCommand(k->cmd_w.ac, on_filled, call, "XRANGE %s %s + COUNT %d", key, start,
                                            FILL_COUNT);
    free(key);
    if (rc != REDIS_OK) {
        free(call);
        cluster_link_mark_broken(k, "XRANGE", "cannot send");
        return -1;
    }
    cluster_link_note_sent(k);
    k->fills++;
    return 0;
}
