/* A cluster link's two commands for a Redis that lost its data
 * (cluster_script_restore.c): the epoch check, at every connect and when
 * the node suspects a loss (a message that knows no previous event on a
 * channel that had some), and the write-back of a channel's history. */
#include <errno.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_link.h"
#include "cluster_link_internal.h"
#include "cluster_script.h"
#include "entropy.h"
#include "log.h"

/* A value no node used before: 128 random bits in hex. */
static void fresh_epoch(char out[33]) {
    unsigned char raw[16];
    if (entropy_fill(raw, sizeof raw) < 0)
        for (size_t i = 0; i < sizeof raw; i++)
            raw[i] = (unsigned char)rand();
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

static void on_epoch(redisAsyncContext *ac, void *reply, void *priv) {
    cluster_link *k = ac->data;
    const redisReply *r = reply;
    (void)priv;
    cluster_link_note_answered(k);
    k->epoch_asked = 0;
    if (!r)
        return; /* lost with the connection: asked again at the connect */
    if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->len >= sizeof k->epoch) {
        if (!k->epoch_refusal_logged)
            log_warn("redis %s: cannot read or set %s:epoch (%s): a Redis that loses its data is not told from a "
                     "hole, and the history nodes hold is not written back",
                     k->cfg.url.display, k->prefix, r->type == REDIS_REPLY_ERROR ? r->str : "unexpected answer");
        k->epoch_refusal_logged = 1;
        return;
    }
    int changed = k->epoch[0] && strcmp(k->epoch, r->str) != 0;
    memcpy(k->epoch, r->str, r->len + 1);
    if (changed)
        k->hooks.lost(k->hooks.ctx);
}

void cluster_link_check_epoch(cluster_link *k, uint64_t highest) {
    if (!k->cmd_w.ac || k->broken || k->epoch_asked)
        return;
    char key[sizeof k->prefix + 8], id_key[sizeof k->prefix + 8], value[33];
    snprintf(key, sizeof key, "%s:epoch", k->prefix);
    snprintf(id_key, sizeof id_key, "%s:id", k->prefix);
    fresh_epoch(value);
    if (redisAsyncCommand(k->cmd_w.ac, on_epoch, NULL, "EVAL %s 2 %s %s %s %llu", cluster_epoch_script, key, id_key,
                          value, (unsigned long long)highest) != REDIS_OK) {
        cluster_link_mark_broken(k, "EVAL (epoch)", "cannot send");
        return;
    }
    k->epoch_asked = 1;
    cluster_link_note_sent(k);
}

typedef struct write_back_call {
    cluster_link *k;
    cluster_written_back_fn done;
    void *ctx;
} write_back_call;

static void on_written_back(redisAsyncContext *ac, void *reply, void *priv) {
    write_back_call *call = priv;
    const redisReply *r = reply;
    (void)ac;
    cluster_link_note_answered(call->k);
    if (r && r->type == REDIS_REPLY_ERROR)
        log_warn("redis %s: writing history back: %s", call->k->cfg.url.display, r->str);
    call->done(call->ctx, r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1);
    free(call);
}

/* The five keys of the script, each "PREFIX:..." (the stream's with the
 * channel's name), in `keys`; their lengths in `lens`. -1: no memory. */
static int make_keys(const cluster_link *k, const char *chan, size_t len, char **keys, size_t *lens) {
    static const char *const suffix[5] = {":id", ":last", ":channels", ":s:", ":kept"};
    size_t prefix_len = strlen(k->prefix);
    for (int i = 0; i < 5; i++) {
        size_t extra = i == 3 ? len : 0, slen = strlen(suffix[i]);
        keys[i] = malloc(prefix_len + slen + extra + 1);
        if (!keys[i])
            return -1;
        memcpy(keys[i], k->prefix, prefix_len);
        memcpy(keys[i] + prefix_len, suffix[i], slen);
        memcpy(keys[i] + prefix_len + slen, chan, extra);
        lens[i] = prefix_len + slen + extra;
    }
    return 0;
}

int cluster_link_write_back(cluster_link *k, const char *chan, size_t len, const uint64_t *numbers,
                            const char *const *msgs, const size_t *msg_lens, size_t count, cluster_written_back_fn done,
                            void *ctx) {
    if (!k->cmd_w.ac || k->broken || count == 0)
        return -1;
    size_t argc = 9 + 2 * count;
    const char **argv = calloc(argc, sizeof *argv);
    size_t *argl = calloc(argc, sizeof *argl);
    char(*nums)[24] = calloc(count, sizeof *nums);
    char *keys[5] = {0};
    write_back_call *call = malloc(sizeof *call);
    int rc = -1;
    if (!argv || !argl || !nums || !call || make_keys(k, chan, len, keys, argl + 3) < 0)
        goto out;
    argv[0] = "EVAL", argv[1] = cluster_restore_script, argv[2] = "5";
    for (int i = 0; i < 3; i++)
        argl[i] = strlen(argv[i]);
    for (int i = 0; i < 5; i++)
        argv[3 + i] = keys[i];
    argv[8] = chan, argl[8] = len;
    for (size_t i = 0; i < count; i++) {
        argl[9 + 2 * i] = (size_t)snprintf(nums[i], sizeof nums[i], "%llu", (unsigned long long)numbers[i]);
        argv[9 + 2 * i] = nums[i];
        argv[10 + 2 * i] = msgs[i], argl[10 + 2 * i] = msg_lens[i];
    }
    *call = (write_back_call){k, done, ctx};
    if (redisAsyncCommandArgv(k->cmd_w.ac, on_written_back, call, (int)argc, argv, argl) != REDIS_OK) {
        cluster_link_mark_broken(k, "EVAL (write-back)", "cannot send");
        goto out;
    }
    cluster_link_note_sent(k);
    call = NULL;
    rc = 0;
out:
    for (int i = 0; i < 5; i++)
        free(keys[i]);
    free(call);
    free(nums);
    free(argl);
    free(argv);
    return rc;
}
