/* A cluster link's publishing: a batch goes to Redis's publish script
 * (cluster_script.c) as consecutive calls, part after part, a few in
 * flight at once; NOSCRIPT loads the script again (cluster_link.h). */
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cluster_link_internal.h"
#include "cluster_script.h"
#include "log.h"

/* One script call blocks Redis for every client while it runs: a large
 * batch goes as consecutive calls of at most this much. */
#define PART_EVENTS 1000
#define PART_BYTES (1u << 20)
/* Parts of one batch sent before the first is answered, so Redis, this
 * node and the publisher work at once rather than in turn. Only for a
 * publisher's numbered batch: the script then runs a later part only if
 * the one before was recorded (cluster_script.c). */
#define PARTS_IN_FLIGHT 4

/* A batch on its way, part after part (PART_EVENTS, PART_BYTES), up to
 * PARTS_IN_FLIGHT parts at once on the one command connection, which Redis
 * runs in order. The batch is the caller's and stays valid until `done`;
 * the channel name is copied. */
typedef struct publish_call {
    cluster_link *k;
    cluster_published_fn done;
    void *ctx;
    const cluster_batch *b;
    size_t answered_end; /* events up to here are confirmed */
    size_t sent_end;     /* events up to here are sent */
    size_t part_ends[PARTS_IN_FLIGHT]; /* of the parts in flight, oldest first */
    size_t in_flight;
    int use_eval;        /* NOSCRIPT came back: send the script itself */
    int failed;          /* a part failed: nothing more is sent */
    uint64_t sent_ms;
    cluster_publish_result sum;
    size_t len;
    char chan[];
} publish_call;

static int send_part(cluster_link *k, publish_call *call);

/* No part is sent after a failed one; the first failure is the answer. */
static void part_failed(publish_call *call, const char *error) {
    if (call->failed)
        return;
    call->failed = 1;
    snprintf(call->sum.error, sizeof call->sum.error, "redis %.100s: %.250s", call->k->cfg.url.display, error);
}

/* Send parts while the window has room: -1 (the call failed) when one
 * cannot be sent. */
static int send_parts(cluster_link *k, publish_call *call) {
    size_t window = call->b->session ? PARTS_IN_FLIGHT : 1;
    while (!call->failed && call->in_flight < window && call->sent_end < call->b->count)
        if (k->broken || send_part(k, call) < 0) {
            part_failed(call, "connection lost before the whole batch was published");
            return -1;
        }
    return 0;
}

/* Once no part is in flight: the whole batch is answered, summed over its
 * parts, failed if one did. 1 when the call is over (and freed). */
static int publish_done(publish_call *call) {
    cluster_link *k = call->k;
    if (call->in_flight)
        return 0;
    if (call->failed) {
        k->publish_failures++;
    } else {
        call->sum.ok = 1;
        k->lag_ms = clock_now_ms() - call->sent_ms;
    }
    call->done(call->ctx, &call->sum);
    free(call);
    return 1;
}

static void on_script_reloaded(redisAsyncContext *ac, void *reply, void *priv) {
    (void)priv;
    cluster_link *k = ac->data;
    redisReply *r = reply;
    cluster_link_note_answered(k);
    k->reloading = 0;
    if (r && r->type == REDIS_REPLY_ERROR)
        log_warn("redis %s: SCRIPT LOAD: %s", k->cfg.url.display, r->str);
}

/* The script cache was flushed (SCRIPT FLUSH, a restarted or failed-over
 * Redis behind a proxy): load it again for later calls. */
static int reload_script(cluster_link *k) {
    if (k->reloading)
        return 0;
    if (redisAsyncCommand(k->cmd_w.ac, on_script_reloaded, NULL, "SCRIPT LOAD %s", cluster_publish_script) != REDIS_OK)
        return -1;
    cluster_link_note_sent(k);
    k->reloading = 1;
    return 0;
}

/* NOSCRIPT for the part that starts at `start`, which ran nothing: sent
 * again with the script itself when it is the only part in flight. Later
 * parts already sent are refused by the script (they must follow this
 * one), so then the batch fails and its publisher sends it again. */
static int retry_without_sha(cluster_link *k, publish_call *call, size_t start) {
    if (k->broken || reload_script(k) < 0 || call->use_eval || call->in_flight || call->failed)
        return -1;
    call->use_eval = 1;
    call->sent_end = start;
    return send_parts(k, call);
}

/* The answer to the oldest part in flight (Redis answers in order). */
static void on_published(redisAsyncContext *ac, void *reply, void *priv) {
    publish_call *call = priv;
    cluster_link *k = call->k;
    (void)ac;
    cluster_link_note_answered(k);
    size_t start = call->answered_end, end = call->part_ends[0];
    call->in_flight--;
    memmove(call->part_ends, call->part_ends + 1, call->in_flight * sizeof *call->part_ends);
    redisReply *r = reply;
    if (!r) {
        part_failed(call, "connection lost before the publish was confirmed");
    } else if (r->type == REDIS_REPLY_ERROR) {
        int noscript = strncmp(r->str, "NOSCRIPT", 8) == 0;
        if (noscript && retry_without_sha(k, call, start) == 0)
            return;
        if (noscript && !k->broken && reload_script(k) < 0)
            cluster_link_mark_broken(k, "SCRIPT LOAD", "cannot send");
        if (!call->failed)
            log_warn("redis %s: publish script: %s", k->cfg.url.display, r->str);
        part_failed(call, r->str);
    } else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_INTEGER ||
               r->element[1]->type != REDIS_REPLY_INTEGER) {
        part_failed(call, "unexpected answer to the publish script");
    } else if (!call->failed) {
        call->sum.accepted += (uint64_t)r->element[0]->integer;
        call->sum.duplicates += (uint64_t)r->element[1]->integer;
        call->use_eval = 0;
        call->answered_end = end;
    }
    if (!call->failed && call->answered_end < call->b->count)
        send_parts(k, call);
    if (call->failed || call->answered_end == call->b->count)
        publish_done(call); /* once the parts still in flight are answered */
}

/* The events after `start` that fit in one part (at least one). */
static size_t part_end_of(const cluster_batch *b, size_t start) {
    size_t end = start + 1, first = cluster_batch_start(b, start);
    while (end < b->count && end - start < PART_EVENTS && b->ends[end] - first <= PART_BYTES)
        end++;
    return end;
}

/* One script call for the next part of call's batch (from sent_end);
 * -1 (the link marked broken) when it cannot be sent. */
static int send_part(cluster_link *k, publish_call *call) {
    const cluster_batch *b = call->b;
    size_t part_start = call->sent_end, part_end = part_end_of(b, part_start);
    enum { ARGC = 16 };
    const char *argv[ARGC];
    size_t lens[ARGC];
    buf keys = BUF_INIT;
    char history[24], first_seq[24], count[24];
    int rc = -1;
    snprintf(history, sizeof history, "%llu", (unsigned long long)(k->cfg.history ? k->cfg.history : 1));
    snprintf(first_seq, sizeof first_seq, "%llu", (unsigned long long)(b->first_seq + part_start));
    /* Keys and names one after another in one buffer, NUL-separated. */
    size_t at[7];
    const char *chan = call->chan;
    int len = (int)call->len;
    at[0] = keys.len, buf_printf(&keys, "%s:id%c", k->prefix, 0);
    at[1] = keys.len, buf_printf(&keys, "%s:last%c", k->prefix, 0);
    at[2] = keys.len, buf_printf(&keys, "%s:channels%c", k->prefix, 0);
    at[3] = keys.len, buf_printf(&keys, "%s:s:%.*s%c", k->prefix, len, chan, 0);
    at[4] = keys.len, buf_printf(&keys, "%s:c:%.*s%c", k->prefix, len, chan, 0);
    at[5] = keys.len, buf_printf(&keys, "%s:kept%c", k->prefix, 0);
    at[6] = keys.len, buf_printf(&keys, "%s:p:%016llx%c", k->prefix, (unsigned long long)b->session, 0);
    if (!keys.data)
        goto out;
    size_t n = 0;
    int nkeys = b->session ? 6 : 5;
    char numkeys[4];
    snprintf(numkeys, sizeof numkeys, "%d", nkeys);
    if (call->use_eval) {
        argv[n] = "EVAL", lens[n++] = 4;
        argv[n] = cluster_publish_script, lens[n++] = strlen(cluster_publish_script);
    } else {
        argv[n] = "EVALSHA", lens[n++] = 7;
        argv[n] = k->sha, lens[n++] = strlen(k->sha);
    }
    argv[n] = numkeys, lens[n++] = strlen(numkeys);
    for (int i = 0; i < 4; i++)
        argv[n] = keys.data + at[i], lens[n++] = strlen(keys.data + at[i]);
    argv[n] = keys.data + at[5], lens[n++] = strlen(keys.data + at[5]);
    if (b->session)
        argv[n] = keys.data + at[6], lens[n++] = strlen(keys.data + at[6]);
    argv[n] = chan, lens[n++] = call->len;
    argv[n] = history, lens[n++] = strlen(history);
    argv[n] = keys.data + at[4], lens[n++] = strlen(keys.data + at[4]);
    argv[n] = first_seq, lens[n++] = strlen(first_seq);
    argv[n] = call->in_flight ? "1" : "0", lens[n++] = 1; /* follows a part in flight */
    /* The part's framed events go as one argument: the script handles
     * them as one string and numbers them as a range. */
    snprintf(count, sizeof count, "%zu", part_end - part_start);
    argv[n] = count, lens[n++] = strlen(count);
    size_t body = cluster_batch_start(b, part_start);
    argv[n] = b->bytes.data + body, lens[n++] = b->ends[part_end - 1] - body;
    if (redisAsyncCommandArgv(k->cmd_w.ac, on_published, call, (int)n, argv, lens) != REDIS_OK)
        goto out;
    cluster_link_note_sent(k);
    k->publish_calls++;
    call->part_ends[call->in_flight++] = part_end;
    call->sent_end = part_end;
    rc = 0;
out:
    if (rc < 0)
        cluster_link_mark_broken(k, "publish", "cannot send");
    buf_free(&keys);
    return rc;
}

int cluster_link_publish(cluster_link *k, const char *chan, size_t len, const cluster_batch *b, cluster_published_fn done,
                         void *ctx) {
    if (!cluster_link_ready(k) || b->count == 0)
        return -1;
    publish_call *call = calloc(1, sizeof *call + len + 1);
    if (!call)
        return -1;
    call->k = k;
    call->done = done;
    call->ctx = ctx;
    call->b = b;
    call->sent_ms = clock_now_ms();
    call->len = len;
    memcpy(call->chan, chan, len);
    send_parts(k, call);
    if (call->in_flight == 0) { /* not even the first part went out */
        free(call);
        return -1;
    }
    return 0;
}
