/* The link to the cluster's Redis (see cluster_link.h): its two
 * connections, the script loaded and the subscription confirmed, silence
 * and reconnection. Publishing is cluster_link_publish.c's, reading the
 * channels' streams cluster_link_fill.c's (cluster_link_internal.h). */
#include "cluster_link_internal.h"

#include <errno.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "clock.h"
#include "cluster_script.h"
#include "log.h"

#define RETRY_FLOOR_MS 100
#define RETRY_CEILING_MS 5000
/* A Redis that leaves a command (or the connect, AUTH, SCRIPT LOAD or
 * PSUBSCRIBE) unanswered this long is taken for gone (man/ssed.1). */
#define ANSWER_LIMIT_MS 5000

void cluster_link_mark_broken(cluster_link *k, const char *what, const char *why) {
    if (!k->down_logged)
        log_warn("redis %s: %s%s%s", k->cfg.url.display, what, why ? ": " : "", why ? why : "");
    else
        log_verbose("redis %s: %s%s%s", k->cfg.url.display, what, why ? ": " : "", why ? why : "");
    k->down_logged = 1;
    k->broken = 1;
}

uint64_t cluster_link_deaf_ms(const cluster_link *k, uint64_t now_ms) {
    uint64_t held = k->read_held_ms;
    if (k->read_held_since_ms && now_ms > k->read_held_since_ms)
        held += now_ms - k->read_held_since_ms;
    return loop_stalled_ms(k->loop, now_ms) + held;
}

static void note_progress(cluster_link *k) {
    k->cmd_progress_ms = clock_now_ms();
    k->cmd_progress_deaf_ms = cluster_link_deaf_ms(k, k->cmd_progress_ms);
}

void cluster_link_note_sent(cluster_link *k) {
    if (k->cmd_pending++ == 0)
        note_progress(k);
}

void cluster_link_note_answered(cluster_link *k) {
    if (k->cmd_pending)
        k->cmd_pending--;
    note_progress(k);
}

static void context_gone(void *ctx, redis_watch *w) {
    cluster_link *k = ctx;
    (void)w;
    if (!k->broken)
        cluster_link_mark_broken(k, "connection lost", NULL);
}

static void on_connect(const redisAsyncContext *ac, int status) {
    cluster_link *k = ac->data;
    if (status != REDIS_OK)
        cluster_link_mark_broken(k, "cannot connect", ac->errstr);
}

static int reply_failed(cluster_link *k, const redisReply *r, const char *what) {
    if (!r) {
        if (!k->broken)
            cluster_link_mark_broken(k, what, "no answer (connection lost)");
        return 1;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        cluster_link_mark_broken(k, what, r->str);
        return 1;
    }
    return 0;
}

static void on_auth_or_select(redisAsyncContext *ac, void *reply, void *what) {
    cluster_link *k = ac->data;
    if (ac == k->cmd_w.ac)
        cluster_link_note_answered(k);
    reply_failed(k, reply, what);
}

static void announce_ready(cluster_link *k, const redisReply *set) {
    size_t n = set && set->type == REDIS_REPLY_ARRAY ? set->elements : 0;
    const char **names = calloc(n ? n : 1, sizeof *names);
    size_t *lens = calloc(n ? n : 1, sizeof *lens);
    if (!names || !lens) {
        free(names);
        free(lens);
        cluster_link_mark_broken(k, "listing channels", "out of memory");
        return;
    }
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (set->element[i]->type == REDIS_REPLY_STRING) {
            names[count] = set->element[i]->str;
            lens[count++] = set->element[i]->len;
        }
    k->ready = 1;
    k->retry_delay_ms = 0;
    log_info("redis %s: connected; cluster %s ready (%zu channel%s)", k->cfg.url.display, k->prefix, count,
             count == 1 ? "" : "s");
    k->down_logged = 0;
    k->hooks.up(k->hooks.ctx, names, lens, count);
    free(names);
    free(lens);
}

static void on_channels(redisAsyncContext *ac, void *reply, void *priv) {
    (void)priv;
    cluster_link *k = ac->data;
    cluster_link_note_answered(k);
    if (!reply_failed(k, reply, "SMEMBERS"))
        announce_ready(k, reply);
}

/* Both connections are up: learn the channels, then say so. Pub/sub is
 * already confirmed, so nothing published from now on is missed. */
static void check_ready(cluster_link *k) {
    if (!k->cmd_ok || !k->sub_ok || k->ready || k->broken || !k->cmd_w.ac)
        return;
    char key[sizeof k->prefix + 16];
    snprintf(key, sizeof key, "%s:channels", k->prefix);
    if (redisAsyncCommand(k->cmd_w.ac, on_channels, NULL, "SMEMBERS %s", key) != REDIS_OK)
        cluster_link_mark_broken(k, "SMEMBERS", "cannot send");
    else
        cluster_link_note_sent(k);
}

static void on_script_loaded(redisAsyncContext *ac, void *reply, void *priv) {
    (void)priv;
    cluster_link *k = ac->data;
    redisReply *r = reply;
    cluster_link_note_answered(k);
    if (reply_failed(k, r, "SCRIPT LOAD"))
        return;
    if (r->type != REDIS_REPLY_STRING || r->len >= sizeof k->sha) {
        cluster_link_mark_broken(k, "SCRIPT LOAD", "unexpected answer");
        return;
    }
    memcpy(k->sha, r->str, r->len + 1);
    k->cmd_ok = 1;
    check_ready(k);
}

/* Every message of the pattern subscription, and its confirmation. */
static void on_pubsub(redisAsyncContext *ac, void *reply, void *priv) {
    (void)priv;
    cluster_link *k = ac->data;
    redisReply *r = reply;
    if (!r || k->broken)
        return;
    if (r->type == REDIS_REPLY_ERROR) {
        cluster_link_mark_broken(k, "PSUBSCRIBE", r->str);
        return;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 || r->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = r->element[0]->str;
    if (strcmp(kind, "psubscribe") == 0) {
        k->sub_ok = 1;
        k->sub_asked_ms = 0;
        check_ready(k);
        return;
    }
    if (strcmp(kind, "pmessage") != 0 || r->elements != 4)
        return;
    const redisReply *chan = r->element[2], *msg = r->element[3];
    size_t skip = strlen(k->prefix) + 3; /* "PREFIX:c:" */
    if (chan->type != REDIS_REPLY_STRING || msg->type != REDIS_REPLY_STRING || chan->len < skip)
        return;
    k->hooks.message(k->hooks.ctx, chan->str + skip, chan->len - skip, msg->str, msg->len);
}

/* AUTH (user and password, or the password alone) when the URL has one. */
static int send_login(cluster_link *k, redisAsyncContext *ac) {
    const redis_url *u = &k->cfg.url;
    if (!u->has_password)
        return REDIS_OK;
    int rc = u->user[0] ? redisAsyncCommand(ac, on_auth_or_select, "AUTH", "AUTH %s %s", u->user, u->password)
                        : redisAsyncCommand(ac, on_auth_or_select, "AUTH", "AUTH %s", u->password);
    if (rc == REDIS_OK && ac == k->cmd_w.ac)
        cluster_link_note_sent(k);
    return rc;
}

static int link_may_read(void *ctx) {
    cluster_link *k = ctx;
    int may = k->hooks.may_read(k->hooks.ctx);
    if (!may && !k->read_held_since_ms)
        k->read_held_since_ms = clock_now_ms();
    return may;
}

void cluster_link_resume_reading(cluster_link *k) {
    if (k->read_held_since_ms) {
        k->read_held_ms += clock_now_ms() - k->read_held_since_ms;
        k->read_held_since_ms = 0;
    }
    redis_loop_hold_reading(&k->cmd_w, 0);
    redis_loop_hold_reading(&k->sub_w, 0);
}

static redisAsyncContext *connect_one(cluster_link *k, redis_watch *w) {
    const redis_url *u = &k->cfg.url;
    redisAsyncContext *ac = u->unix_path[0] ? redisAsyncConnectUnix(u->unix_path) : redisAsyncConnect(u->host, u->port);
    if (!ac) {
        cluster_link_mark_broken(k, "cannot connect", "out of memory");
        return NULL;
    }
    if (ac->err) {
        cluster_link_mark_broken(k, "cannot connect", ac->errstr);
        redisAsyncFree(ac);
        return NULL;
    }
    ac->data = k;
    if (redis_loop_attach(ac, k->loop, w, context_gone, k) < 0) {
        cluster_link_mark_broken(k, loop_backend, strerror(errno));
        redisAsyncFree(ac);
        return NULL;
    }
    w->may_read = k->hooks.may_read ? link_may_read : NULL;
    /* A peer that vanished without a word (power, network) is noticed
     * even while nothing is asked of it. */
    if (!u->unix_path[0] && redisEnableKeepAlive(&ac->c) != REDIS_OK)
        log_verbose("redis %s: cannot enable TCP keep-alive: %s", u->display, ac->c.errstr);
    redisAsyncSetConnectCallback(ac, on_connect);
    if (send_login(k, ac) != REDIS_OK) {
        cluster_link_mark_broken(k, "AUTH", "cannot send");
        return NULL;
    }
    return ac;
}

static void start_connecting(cluster_link *k) {
    k->broken = 0;
    k->cmd_ok = k->sub_ok = k->ready = k->reloading = k->epoch_asked = 0;
    k->cmd_pending = 0;
    k->connects++;
    /* The connect itself counts as asked: a Redis that takes the TCP
     * connection but never answers is given up like any silent one. */
    k->sub_asked_ms = clock_now_ms();
    k->sub_asked_deaf_ms = cluster_link_deaf_ms(k, k->sub_asked_ms);
    redisAsyncContext *cmd = connect_one(k, &k->cmd_w);
    if (!cmd)
        return;
    char key[sizeof k->prefix + 8];
    snprintf(key, sizeof key, "%s:c:*", k->prefix);
    if (k->cfg.url.db) {
        if (redisAsyncCommand(cmd, on_auth_or_select, "SELECT", "SELECT %d", k->cfg.url.db) != REDIS_OK) {
            cluster_link_mark_broken(k, "SELECT", "cannot send");
            return;
        }
        cluster_link_note_sent(k);
    }
    if (redisAsyncCommand(cmd, on_script_loaded, NULL, "SCRIPT LOAD %s", cluster_publish_script) != REDIS_OK) {
        cluster_link_mark_broken(k, "SCRIPT LOAD", "cannot send");
        return;
    }
    cluster_link_note_sent(k);
    redisAsyncContext *sub = connect_one(k, &k->sub_w);
    if (sub && redisAsyncCommand(sub, on_pubsub, NULL, "PSUBSCRIBE %s", key) != REDIS_OK)
        cluster_link_mark_broken(k, "PSUBSCRIBE", "cannot send");
}

cluster_link *cluster_link_open(const cluster_link_config *cfg, loop *l, const cluster_link_hooks *hooks, char *err,
                                size_t errlen) {
    cluster_link *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "redis: out of memory");
        return NULL;
    }
    k->cfg = *cfg;
    snprintf(k->prefix, sizeof k->prefix, "%s", cfg->prefix);
    k->cfg.prefix = k->prefix;
    k->loop = l;
    k->hooks = *hooks;
    check_budget_init(&k->checks, CLUSTER_CHECK_MAX_MESSAGES, CLUSTER_CHECK_MAX_BYTES);
    start_connecting(k);
    return k;
}

/* Free both contexts (pending callbacks get NULL answers) and say the
 * link is down. */
static void tear_down(cluster_link *k) {
    int was_ready = k->ready;
    k->ready = 0;
    if (k->cmd_w.ac)
        redisAsyncFree(k->cmd_w.ac);
    if (k->sub_w.ac)
        redisAsyncFree(k->sub_w.ac);
    if (was_ready)
        k->hooks.down(k->hooks.ctx);
}

/* When the link is given up for silence (0: nothing is awaited): the
 * limit after it was asked, moved on by the time the node itself could
 * not hear an answer since (a long round, reading held). */
static uint64_t silence_deadline(const cluster_link *k, uint64_t now_ms) {
    uint64_t at = 0, deaf = cluster_link_deaf_ms(k, now_ms);
    if (k->cmd_w.ac && k->cmd_pending)
        at = k->cmd_progress_ms + ANSWER_LIMIT_MS + (deaf - k->cmd_progress_deaf_ms);
    uint64_t sub_at = k->sub_asked_ms + ANSWER_LIMIT_MS + (deaf - k->sub_asked_deaf_ms);
    if (k->sub_w.ac && !k->sub_ok && k->sub_asked_ms && (!at || sub_at < at))
        at = sub_at;
    return at;
}

void cluster_link_step(cluster_link *k, uint64_t now_ms) {
    uint64_t silent_at = k->broken ? 0 : silence_deadline(k, now_ms);
    if (silent_at && now_ms >= silent_at)
        cluster_link_mark_broken(k, "no answer", "for 5 s; reconnecting");
    if (k->broken && (k->cmd_w.ac || k->sub_w.ac || k->retry_at_ms == 0)) {
        tear_down(k);
        k->retry_delay_ms = backoff_next_ms(k->retry_delay_ms, RETRY_FLOOR_MS, RETRY_CEILING_MS);
        k->retry_at_ms = now_ms + backoff_jitter_ms(k->retry_delay_ms, (uint32_t)rand());
        log_verbose("redis %s: reconnecting in %llums", k->cfg.url.display,
                    (unsigned long long)(k->retry_at_ms - now_ms));
        return;
    }
    if (k->broken && now_ms >= k->retry_at_ms) {
        k->retry_at_ms = 0;
        start_connecting(k);
    }
}

int cluster_link_timeout(const cluster_link *k, uint64_t now_ms) {
    if (!k->broken) {
        uint64_t at = silence_deadline(k, now_ms);
        return !at ? -1 : at > now_ms ? (int)(at - now_ms) : 0;
    }
    if (k->cmd_w.ac || k->sub_w.ac || k->retry_at_ms == 0)
        return 0;
    return k->retry_at_ms > now_ms ? (int)(k->retry_at_ms - now_ms) : 0;
}

int cluster_link_ready(const cluster_link *k) { return k->ready && !k->broken; }

void cluster_link_stats(const cluster_link *k, buf *out) {
    buf_printf(out,
               "\"connected\":%s,\"lag_ms\":%llu,\"connects\":%llu,\"publish_calls\":%llu,\"publish_failures\":%llu,"
               "\"stream_reads\":%llu",
               cluster_link_ready(k) ? "true" : "false", (unsigned long long)k->lag_ms,
               (unsigned long long)k->connects, (unsigned long long)k->publish_calls,
               (unsigned long long)k->publish_failures, (unsigned long long)k->fills);
}

void cluster_link_close(cluster_link *k) {
    if (!k)
        return;
    k->broken = 1;
    k->ready = 0; /* no down hook at exit */
    if (k->cmd_w.ac)
        redisAsyncFree(k->cmd_w.ac);
    if (k->sub_w.ac)
        redisAsyncFree(k->sub_w.ac);
    free(k);
}
